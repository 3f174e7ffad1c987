/**
 * What the language server says about a log file: GradLens's findings placed
 * on the lines they are about, and a step's numbers for hover. The file is
 * read from disk by the core readers (streaming, in chunks), never from the
 * editor's copy of the text. No vscode import.
 */
import { diagnose } from '../diagnosis/diagnose';
import { DEFAULT_DIAGNOSE_OPTIONS, type Diagnosis, type FindingKind, type Severity } from '../diagnosis/types';
import { indexOfStep, RunView, valueAt } from '../diagnosis/view';
import { readRunSpec, specForFile } from '../logs/open';
import type { LogFormat, Run } from '../logs/run';
import { findStepLines, LINE_FORMATS, stepAtLine } from '../logs/step-lines';

export interface LogFinding {
  /** 0-based line of the step the finding starts at (0 when the step's line is not found). */
  line: number;
  /** Length of that line in UTF-16 units (0 when not found). */
  length: number;
  kind: FindingKind;
  severity: Severity;
  step: number;
  message: string;
  /** The run inside the file (a rank) when the file holds several. */
  stream?: string;
}

export interface DiagnosedRun {
  run: Run;
  diagnosis: Diagnosis;
}

export interface LogAnalysis {
  file: string;
  format: LogFormat;
  runs: DiagnosedRun[];
  findings: LogFinding[];
}

/**
 * Reads and diagnoses a log file; undefined when it holds no gradient
 * norms GradLens reads line by line (binary content, tfevents, a CSV of
 * something else). `isCancelled` is checked
 * between the stages, so a newer request can make an older one give up.
 */
export async function analyzeLogFile(file: string, isCancelled: () => boolean = () => false): Promise<LogAnalysis | undefined> {
  const spec = await specForFile(file).catch(() => undefined);
  if (!spec || !LINE_FORMATS.has(spec.source.format) || isCancelled()) return undefined;
  const format = spec.source.format;
  // A CSV or text file without gradient norms is not a training log: no CodeLens on every spreadsheet.
  const runs = (await readRunSpec(spec)).map((run) => ({ run, diagnosis: diagnose(run) })).filter(({ diagnosis }) => diagnosis.gradNormSource !== 'none');
  if (runs.length === 0) return undefined;
  const findings: LogFinding[] = [];
  for (const { run, diagnosis } of runs) {
    if (isCancelled()) return undefined;
    const lines = await findStepLines(file, format, new Set(diagnosis.findings.map((f) => f.step)), run.stream);
    for (const finding of diagnosis.findings) {
      const at = lines.get(finding.step);
      findings.push({
        line: at?.line ?? 0,
        length: at?.length ?? 0,
        kind: finding.kind,
        severity: finding.severity,
        step: finding.step,
        message: run.stream === undefined ? finding.message : `${run.stream}: ${finding.message}`,
        stream: run.stream,
      });
    }
  }
  return { file, format, runs, findings: findings.sort((a, b) => a.line - b.line) };
}

/** How many parameters a hover lists. */
const TOP_PARAMETERS = 5;

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(2) : String(Number(value.toPrecision(3)));
}

/** Markdown for one run at one step: its norm against the threshold, and the parameters carrying it. */
function describeStep({ run, diagnosis }: DiagnosedRun, step: number): string | undefined {
  const view = new RunView(run);
  const index = indexOfStep(view.norms.steps, step);
  if (index < 0) return undefined;
  const norm = view.norms.values[index];
  const clip = view.clipThreshold();
  const recommended = diagnosis.threshold.recommended;
  const title = run.stream === undefined ? `**GradLens · step ${step}**` : `**GradLens · ${run.stream} · step ${step}**`;
  const against: string[] = [];
  if (clip !== undefined) against.push(`clip threshold ${formatNumber(clip)}`);
  if (recommended !== null) against.push(`recommended threshold ${formatNumber(recommended)}`);
  against.push(`alert threshold ${DEFAULT_DIAGNOSE_OPTIONS.alertThreshold}`);
  const lines = [title, '', `Gradient norm **${formatNumber(norm)}** (${view.normSource === 'logged' ? 'logged' : 'from the parameters'}) · ${against.join(' · ')}`];

  const atStep = view.parameters
    .map(({ name, series }) => ({ name, value: valueAt(series, step) }))
    .filter((p): p is { name: string; value: number } => p.value !== undefined);
  const squaredTotal = atStep.reduce((sum, p) => sum + (Number.isFinite(p.value) ? p.value * p.value : 0), 0);
  // Non-finite parameters first: they are where a NaN starts.
  const ranked = atStep.sort((a, b) => (Number.isFinite(a.value) ? a.value : Infinity) - (Number.isFinite(b.value) ? b.value : Infinity)).reverse();
  if (ranked.length > 0) {
    lines.push('', '| parameter | norm | share |', '| --- | ---: | ---: |');
    for (const { name, value } of ranked.slice(0, TOP_PARAMETERS)) {
      const share = Number.isFinite(value) && squaredTotal > 0 ? `${Math.round((100 * value * value) / squaredTotal)}%` : '';
      lines.push(`| \`${name}\` | ${formatNumber(value)} | ${share} |`);
    }
  }
  const here = diagnosis.findings.filter((f) => f.step === step);
  for (const finding of here) lines.push('', `*${finding.kind}* — ${finding.message}`);
  return lines.join('\n');
}

/** Hover text for a 0-based line of an analysed log, or undefined when no step is written there. */
export async function hoverAtLine(analysis: LogAnalysis, line: number): Promise<string | undefined> {
  const parts: string[] = [];
  for (const diagnosed of analysis.runs) {
    const step = await stepAtLine(analysis.file, analysis.format, line, diagnosed.run.stream);
    const text = step === undefined ? undefined : describeStep(diagnosed, step);
    if (text) parts.push(text);
  }
  return parts.length > 0 ? parts.join('\n\n---\n\n') : undefined;
}
