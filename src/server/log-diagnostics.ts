/**
 * What the language server says about a log file: GradLens's findings placed
 * on the lines they are about, and a step's numbers for hover. The file is
 * read from disk by the core readers (streaming, in chunks), never from the
 * editor's copy of the text. No vscode import.
 */
import { diagnose } from '../diagnosis/diagnose';
import { formatNumber } from '../diagnosis/stats';
import { DEFAULT_DIAGNOSE_OPTIONS, type Diagnosis, type Finding, type FindingKind, type Severity } from '../diagnosis/types';
import { alignedAt, indexOfStep, RunView, type AlignedNorms } from '../diagnosis/view';
import { specForFile } from '../logs/discovery';
import { readRunSpec } from '../logs/open';
import { markdownCode } from '../report/report';
import type { LogFormat, Run, StepBuckets } from '../logs/run';
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

/**
 * What a hover needs of one run, kept while the log is open: the total
 * norms, each parameter's norm at those steps and the findings. The rest of
 * the run (loss, learning rate, events, the parameters' own step arrays) and
 * of its diagnosis is let go once the findings are placed.
 */
export interface HoverRun {
  /** The run inside the file (a rank) when the file holds several. */
  stream?: string;
  norms: RunView['norms'];
  normSource: RunView['normSource'];
  clip?: number;
  recommended: number | null;
  parameters: HoverParameter[];
  findings: Finding[];
  /** A summarised run's buckets: a hover on any step shows its bucket's point. */
  buckets?: StepBuckets;
}

/** A parameter's norms at the steps of the run's total norms where it was logged (NaN included). */
interface HoverParameter {
  name: string;
  norms: AlignedNorms;
}

export interface LogAnalysis {
  file: string;
  format: LogFormat;
  runs: HoverRun[];
  findings: LogFinding[];
}

function hoverRun(run: Run, diagnosis: Diagnosis): HoverRun {
  const view = new RunView(run);
  const aligned = view.aligned();
  const parameters = view.parameters.map(({ name }, index) => ({ name, norms: aligned[index] }));
  return {
    stream: run.stream,
    norms: view.norms,
    normSource: view.normSource,
    clip: view.clipThreshold(),
    recommended: diagnosis.threshold.recommended,
    parameters,
    findings: diagnosis.findings,
    ...(run.buckets ? { buckets: run.buckets } : {}),
  };
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
  // Each run is cut down to what hovers need as soon as it is diagnosed, before the file is read again to place the findings.
  const runs = (await readRunSpec(spec)).map((run) => {
    const diagnosis = diagnose(run);
    return diagnosis.gradNormSource === 'none' ? undefined : hoverRun(run, diagnosis);
  }).filter((run): run is HoverRun => run !== undefined);
  if (runs.length === 0) return undefined;
  const findings: LogFinding[] = [];
  for (const run of runs) {
    if (isCancelled()) return undefined;
    const lines = await findStepLines(file, format, new Set(run.findings.map((f) => f.step)), run.stream);
    for (const finding of run.findings) {
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

/** Markdown for one run at one step: its norm against the threshold, and the parameters carrying it. */
function describeStep(run: HoverRun, step: number): string | undefined {
  const index = indexOfStep(run.norms.steps, step, run.buckets);
  if (index < 0) return undefined;
  const norm = run.norms.values[index];
  const kept = run.norms.steps[index];
  const where = kept === step || !run.buckets ? `step ${step}` : `step ${step} (a long run, kept as the largest of every ${run.buckets.stride} steps: step ${kept})`;
  const title = run.stream === undefined ? `**GradLens · ${where}**` : `**GradLens · ${run.stream} · ${where}**`;
  const against: string[] = [];
  if (run.clip !== undefined) against.push(`clip threshold ${formatNumber(run.clip)}`);
  if (run.recommended !== null) against.push(`recommended threshold ${formatNumber(run.recommended)}`);
  against.push(`alert threshold ${DEFAULT_DIAGNOSE_OPTIONS.alertThreshold}`);
  const lines = [title, '', `Gradient norm **${formatNumber(norm)}** (${run.normSource === 'logged' ? 'logged' : 'from the parameters'}) · ${against.join(' · ')}`];

  const atStep = run.parameters.flatMap(({ name, norms }) => {
    const value = alignedAt(norms, index);
    return value === undefined ? [] : [{ name, value }];
  });
  const squaredTotal = atStep.reduce((sum, p) => sum + (Number.isFinite(p.value) ? p.value * p.value : 0), 0);
  // Non-finite parameters first: they are where a NaN starts.
  const ranked = atStep.sort((a, b) => (Number.isFinite(a.value) ? a.value : Infinity) - (Number.isFinite(b.value) ? b.value : Infinity)).reverse();
  if (ranked.length > 0) {
    lines.push('', '| parameter | norm | share |', '| --- | ---: | ---: |');
    for (const { name, value } of ranked.slice(0, TOP_PARAMETERS)) {
      const share = Number.isFinite(value) && squaredTotal > 0 ? `${Math.round((100 * value * value) / squaredTotal)}%` : '';
      lines.push(`| ${markdownCode(name, 'table')} | ${formatNumber(value)} | ${share} |`);
    }
  }
  const here = run.findings.filter((f) => f.step === step);
  for (const finding of here) lines.push('', `*${finding.kind}* — ${finding.message}`);
  return lines.join('\n');
}

/** Hover text for a 0-based line of an analysed log, or undefined when no step is written there. */
export async function hoverAtLine(analysis: LogAnalysis, line: number): Promise<string | undefined> {
  const parts: string[] = [];
  for (const run of analysis.runs) {
    const step = await stepAtLine(analysis.file, analysis.format, line, run.stream);
    const text = step === undefined ? undefined : describeStep(run, step);
    if (text) parts.push(text);
  }
  return parts.length > 0 ? parts.join('\n\n---\n\n') : undefined;
}
