/**
 * A small table-driven option parser: every command declares its options
 * once, and the same table gives the help text and the error messages.
 */
export type OptionKind =
  | { kind: 'flag' }
  | { kind: 'int'; min: number }
  | { kind: 'number'; positive?: boolean }
  | { kind: 'string'; placeholder: string }
  | { kind: 'enum'; values: readonly string[] };

export interface OptionSpec {
  name: string;
  type: OptionKind;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
  /** How many positional arguments: [min, max]. */
  positionals: [number, number];
}

export class UsageError extends Error {}

export type ParsedValue = string | number | boolean;

export interface Parsed {
  options: Map<string, ParsedValue>;
  positionals: string[];
  help: boolean;
}

function accepts(type: OptionKind): string {
  switch (type.kind) {
    case 'flag':
      return 'no value';
    case 'int':
      return `a whole number ≥ ${type.min}`;
    case 'number':
      return type.positive ? 'a positive number' : 'a number';
    case 'string':
      return type.placeholder;
    case 'enum':
      return `one of ${type.values.join(', ')}`;
  }
}

function convert(command: string, spec: OptionSpec, raw: string): ParsedValue {
  const wrong = (): never => {
    throw new UsageError(`gradlens ${command}: --${spec.name} expects ${accepts(spec.type)} (got "${raw}")`);
  };
  switch (spec.type.kind) {
    case 'flag':
      return true;
    case 'int': {
      const v = Number(raw);
      return raw.trim() !== '' && Number.isInteger(v) && v >= spec.type.min ? v : wrong();
    }
    case 'number': {
      const v = Number(raw);
      return raw.trim() !== '' && Number.isFinite(v) && (!spec.type.positive || v > 0) ? v : wrong();
    }
    case 'string':
      return raw;
    case 'enum':
      return spec.type.values.includes(raw) ? raw : wrong();
  }
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const options = new Map<string, ParsedValue>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      // Everything after "--" is an argument, not an option (gradlens run -- python3 train.py --lr 1).
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const option = spec.options.find((o) => o.name === name);
    if (!option) throw new UsageError(`gradlens ${spec.name}: unknown option --${name} (see gradlens ${spec.name} --help)`);
    let raw: string;
    if (option.type.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`gradlens ${spec.name}: --${name} takes no value`);
      raw = '';
    } else if (eq >= 0) {
      raw = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`gradlens ${spec.name}: --${name} needs a value: ${accepts(option.type)}`);
      raw = argv[++i];
    }
    options.set(name, convert(spec.name, option, raw));
  }
  const [min, max] = spec.positionals;
  if (!help && (positionals.length < min || positionals.length > max)) {
    throw new UsageError(`gradlens ${spec.name}: expected ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${positionals.length} (usage: ${spec.usage})`);
  }
  return { options, positionals, help };
}

/** A number option's value, or undefined when it was not given. */
export function numberOption(parsed: Parsed, name: string): number | undefined {
  const value = parsed.options.get(name);
  return typeof value === 'number' ? value : undefined;
}

/** A string option's value, or undefined when it was not given. */
export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** An enum option's value as a member of the list its spec was declared with, or undefined when it was not given. */
export function choiceOption<const V extends string>(parsed: Parsed, name: string, values: readonly V[]): V | undefined {
  const value = parsed.options.get(name);
  return values.find((v) => v === value);
}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...spec.options.map((o) => o.name.length + (o.type.kind === 'flag' ? 0 : 4)), 6) + 4;
  const lines = spec.options.map((o) => `  ${`--${o.name}${o.type.kind === 'flag' ? '' : ' ...'}`.padEnd(width)}${o.help}${o.type.kind === 'enum' ? ` (${o.type.values.join(' | ')})` : ''}`);
  return [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:', ...lines, `  ${'--help'.padEnd(width)}this help`].join('\n');
}
