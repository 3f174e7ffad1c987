import path from 'node:path';
import { analyzeCommand, analyzeSpec } from './analyze';
import { type CommandSpec, helpText, type Parsed, parseArgs, UsageError } from './args';
import { demoCommand, demoSpec } from './demo';
import { reportCommand, reportSpec } from './report';
import { runCommand, runSpec } from './run';
import { trainCommand, trainSpec } from './train';
import { verifyCommand, verifySpec } from './verify';

/** The bundled worker sits beside the bundled CLI in dist/. */
const WORKER = path.join(__dirname, 'training-worker.js');

const COMMANDS: Array<{ spec: CommandSpec; run(parsed: Parsed): number | Promise<number> }> = [
  { spec: analyzeSpec, run: analyzeCommand },
  { spec: reportSpec, run: reportCommand },
  { spec: trainSpec, run: (p) => trainCommand(p, WORKER) },
  { spec: runSpec, run: runCommand },
  { spec: verifySpec, run: verifyCommand },
  { spec: demoSpec, run: (p) => demoCommand(p, WORKER) },
];

function usage(): string {
  return ['Usage: gradlens <command> [options]', '', 'Commands:', ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(18)}${c.spec.summary.split('. ')[0]}.`), '', 'Run gradlens <command> --help for its options.'].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    process.stderr.write(`gradlens: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const parsed = parseArgs(command.spec, rest);
    if (parsed.help) {
      process.stdout.write(helpText(command.spec) + '\n');
      return 0;
    }
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(error.message + '\n');
      return 2;
    }
    return internalError(`gradlens ${name}`, error);
  }
}

/** Exit code 3: an error GradLens did not expect, never the code of a finding (1) or of bad input (2). */
const INTERNAL_ERROR = 3;

function internalError(where: string, error: unknown): number {
  process.stderr.write(`${where}: internal error, please report it: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return INTERNAL_ERROR;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = internalError('gradlens', error);
  },
);
