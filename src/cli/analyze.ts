import { diagnose } from '../diagnosis/diagnose';
import { SEVERITY_RANK, type Diagnosis, type Severity } from '../diagnosis/types';
import { noFindingsText } from '../diagnosis/verdict';
import { UnreadablePathError } from '../logs/discovery';
import { openRuns } from '../logs/open';
import { isRole, type TagRule } from '../logs/roles';
import { unreadableFiles, type Run } from '../logs/run';
import { LEDGER_COLUMNS, ledgerRows, PARAMETER_COLUMNS, parameterRows, policyLines, runHeading, stepRange, summaryRows } from '../report/summary';
import { warningLines } from '../report/warnings';
import { type CommandSpec, type Parsed, UsageError } from './args';

export const analyzeSpec: CommandSpec = {
  name: 'analyze',
  summary:
    'Reads training logs (files or folders of runs: JSON lines, CSV, trainer_state.json, TensorBoard, MLflow, W&B run folders, text) and prints, per run, ' +
    'a summary table and the findings with hints. Exits 1 when a finding reaches --fail-on, 2 for bad usage, unreadable input or no training data, 3 for an internal error.',
  usage: 'gradlens analyze PATH... [--json] [--fail-on warn|error|never] [--threshold X] [--tag-role PATTERN=ROLE,...]',
  positionals: [1, Infinity],
  options: [
    { name: 'json', type: { kind: 'flag' }, help: 'print one JSON object with every run (non-finite numbers as the strings "NaN", "Infinity", "-Infinity")' },
    { name: 'fail-on', type: { kind: 'enum', values: ['warn', 'error', 'never'] }, help: 'lowest finding severity that makes the exit code 1 (default error)' },
    { name: 'threshold', type: { kind: 'number', positive: true }, help: 'gradient norm at which a step counts as exploding (default 10; 10× this is an error)' },
    { name: 'tag-role', type: { kind: 'string', placeholder: 'PATTERN=ROLE pairs, comma-separated' }, help: 'extra tag rules, before the built-in table (e.g. "my_norm=gradNorm,gn/{name}=paramGradNorm")' },
  ],
};

const FAIL_ON: Record<string, Severity | undefined> = { warn: 'warning', error: 'error', never: undefined };

export function parseTagRules(text: string): TagRule[] {
  return text
    .split(',')
    .filter((pair) => pair.trim().length > 0)
    .map((pair) => {
      const eq = pair.lastIndexOf('=');
      const pattern = pair.slice(0, eq).trim();
      const role = pair.slice(eq + 1).trim();
      if (eq <= 0 || pattern.length === 0) throw new UsageError(`gradlens: --tag-role expects PATTERN=ROLE, got "${pair}"`);
      if (!isRole(role)) throw new UsageError(`gradlens: unknown role "${role}" in --tag-role`);
      return { pattern, role };
    });
}

/** The version of the `--json` shape (README: "analyze --json"); raised whenever a key changes meaning or goes away. */
export const ANALYZE_SCHEMA_VERSION = 2;

/** The `--json` shape: one entry per run, documented in README. */
export function runReport(run: Run, diagnosis: Diagnosis) {
  return {
    id: run.id,
    path: run.path,
    format: run.format,
    writer: diagnosis.setup.writer,
    steps: diagnosis.steps,
    layers: diagnosis.layers,
    loss: diagnosis.loss,
    gradNorm: diagnosis.gradNorm,
    threshold: diagnosis.threshold,
    clipThreshold: diagnosis.clipThreshold,
    clippedFraction: diagnosis.clippedFraction,
    setup: diagnosis.setup,
    settings: run.settings ?? null,
    parameters: diagnosis.parameters,
    findings: diagnosis.findings.map((f) => ({ kind: f.kind, severity: f.severity, step: f.step, endStep: f.endStep, layers: f.layers, message: f.message, evidence: f.evidence, hints: f.hints })),
    ledger: diagnosis.ledger,
    policies: diagnosis.policies,
    warnings: warningLines(run),
  };
}

/** JSON has no NaN or Infinity; spell them as strings so a reader can tell them from an unknown (null). */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

function wrap(text: string, indent: string, width = 100): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length > 0 && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

const WORST_PARAMETERS = 5;
const LARGEST_SPIKES = 8;
const WARNINGS_SHOWN = 10;

export function textReport(run: Run, d: Diagnosis): string {
  const out: string[] = [];
  out.push(`${run.id}  (${runHeading(run.format, d)})`);
  out.push(...table(summaryRows(d)).map((line) => `  ${line}`));
  if (d.parameters.length > 0) {
    out.push('  worst parameters');
    out.push(...table([PARAMETER_COLUMNS, ...parameterRows(d, WORST_PARAMETERS)]).map((line) => `    ${line}`));
    if (d.parameters.length > WORST_PARAMETERS) out.push(`    … and ${d.parameters.length - WORST_PARAMETERS} more`);
  }
  if (d.findings.length === 0) out.push(wrap(d.steps > 0 ? noFindingsText(d) : 'No training steps: no loss or gradient norm was found (see the warnings).', '  '));
  for (const f of d.findings) {
    out.push(`  ${f.severity.toUpperCase().padEnd(7)} ${f.kind}, ${stepRange(f.step, f.endStep)}`);
    out.push(wrap(f.message, '      '));
    for (const hint of f.hints) out.push(wrap(`→ ${hint.text}`, '      '));
  }
  if (d.ledger.spikes.length > 0) {
    out.push('  spike ledger');
    out.push(...table([LEDGER_COLUMNS, ...ledgerRows(d, LARGEST_SPIKES)]).map((line) => `    ${line}`));
    if (d.ledger.spikes.length > LARGEST_SPIKES) out.push(`    … and ${d.ledger.spikes.length - LARGEST_SPIKES} more (see --json)`);
  }
  const policies = policyLines(d);
  if (policies.length > 0) {
    out.push('  policy replay (what each spike policy would have done on this log)');
    for (const line of policies) out.push(wrap(`· ${line}`, '    '));
  }
  const warnings = warningLines(run);
  for (const w of warnings.slice(0, WARNINGS_SHOWN)) out.push(`  warning: ${w}`);
  if (warnings.length > WARNINGS_SHOWN) out.push(`  … ${warnings.length - WARNINGS_SHOWN} more warnings (see --json)`);
  return out.join('\n');
}

/** Diagnosis options from `--threshold`: warn at X, error at 10×X. */
export function diagnoseOptions(threshold: number | undefined) {
  return threshold !== undefined ? { warnThreshold: threshold, alertThreshold: 10 * threshold } : {};
}

/** Every run under the targets; a target that is unreadable or holds no training data is a usage error naming it. */
export async function readRunsOrExplain(command: string, targets: readonly string[], tagRules: TagRule[]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const target of targets) {
    try {
      const found = await openRuns(target, { tagRules });
      if (!found.some((run) => run.series.length > 0 || run.histograms.length > 0)) {
        const why = found.flatMap(warningLines).slice(0, 3).map((line) => `\n  ${line}`).join('');
        throw new UsageError(`gradlens ${command}: no training data found in ${target}${why}`);
      }
      runs.push(...found);
    } catch (error) {
      if (error instanceof UnreadablePathError) throw new UsageError(`gradlens ${command}: cannot read ${error.message}`);
      throw error;
    }
  }
  return runs;
}

export async function analyzeCommand(parsed: Parsed): Promise<number> {
  const tagRules = parseTagRules(String(parsed.options.get('tag-role') ?? ''));
  const options = diagnoseOptions(parsed.options.get('threshold') as number | undefined);
  const failOn = FAIL_ON[String(parsed.options.get('fail-on') ?? 'error')];
  const runs = await readRunsOrExplain('analyze', parsed.positionals, tagRules);
  const reports = runs.map((run) => ({ run, diagnosis: diagnose(run, options) }));
  if (parsed.options.has('json')) process.stdout.write(jsonText({ schemaVersion: ANALYZE_SCHEMA_VERSION, runs: reports.map(({ run, diagnosis }) => runReport(run, diagnosis)) }) + '\n');
  else process.stdout.write(reports.map(({ run, diagnosis }) => textReport(run, diagnosis)).join('\n\n') + '\n');
  const unread = runs.flatMap(unreadableFiles);
  if (unread.length > 0) {
    // Findings on the runs that were read are no verdict on the ones that were not.
    process.stderr.write(`gradlens analyze: ${unread.length} file(s) could not be read, so the result is incomplete:\n${unread.slice(0, 10).map((file) => `  ${file}\n`).join('')}`);
    return 2;
  }
  // Series but not one step of loss or gradient norm: nothing was diagnosed, which is no pass.
  if (reports.every(({ run, diagnosis }) => diagnosis.steps === 0 && run.histograms.length === 0)) {
    const why = runs.flatMap(warningLines).slice(0, 3).map((line) => `\n  ${line}`).join('');
    process.stderr.write(`gradlens analyze: no training data (no loss or gradient norm) in ${parsed.positionals.join(', ')}${why}\n`);
    return 2;
  }
  const failed = failOn !== undefined && reports.some(({ diagnosis }) => diagnosis.findings.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[failOn]));
  return failed ? 1 : 0;
}
