/** The words and numbers of a run's summary, shared by the terminal report, the Markdown summary and the HTML report. */
import { formatNumber, formatPercent } from '../diagnosis/stats';
import type { Diagnosis } from '../diagnosis/types';
import type { LogFormat } from '../logs/run';

export const FORMAT_NAMES: Record<LogFormat, string> = {
  jsonl: 'JSON lines',
  csv: 'CSV',
  'hf-trainer-state': 'Hugging Face trainer_state.json',
  tfevents: 'TensorBoard events',
  text: 'text log',
  mlflow: 'MLflow',
  wandb: 'W&B run',
};

/** `(JSON lines, 400 steps, steps 0–399)` */
export function runHeading(format: LogFormat, d: Diagnosis): string {
  const range = d.firstStep !== null ? `, steps ${d.firstStep}–${d.lastStep}` : '';
  return `${FORMAT_NAMES[format]}, ${d.steps} steps${range}`;
}

/** Label and value of each summary line. */
export function summaryRows(d: Diagnosis): Array<[string, string]> {
  const t = d.threshold;
  return [
    ['loss', d.loss.first === null ? '—' : `${formatNumber(d.loss.first)} → ${formatNumber(d.loss.last)}  (min ${formatNumber(d.loss.min)}, max ${formatNumber(d.loss.max)})`],
    ['max grad norm', d.gradNorm.max === null ? '—' : `${formatNumber(d.gradNorm.max)} at step ${d.gradNorm.maxStep}${d.gradNormSource === 'parameters' ? '  (from the per-parameter norms)' : ''}`],
    ['first non-finite', d.gradNorm.firstNonFiniteStep === null ? '—' : `step ${d.gradNorm.firstNonFiniteStep}`],
    [
      'clip threshold',
      t.recommended === null ? '—' : `recommended ${formatNumber(t.recommended)}  (mean ${formatNumber(t.mean)}, median ${formatNumber(t.median)}, p95 ${formatNumber(t.p95)}, p99 ${formatNumber(t.p99)}, max ${formatNumber(t.max)})`,
    ],
    ['clipped steps', d.clippedFraction === null ? 'unknown' : formatPercent(d.clippedFraction)],
  ];
}

export const PARAMETER_COLUMNS = ['name', 'max norm', 'at step', 'NaN', 'Inf', 'first bad', 'share at peak'];

/** The problematic-parameter table's rows, worst first. */
export function parameterRows(d: Diagnosis, limit = Infinity): string[][] {
  return d.parameters
    .slice(0, limit)
    .map((p) => [p.name, formatNumber(p.maxNorm), p.maxStep === null ? '—' : String(p.maxStep), String(p.nanSteps), String(p.infSteps), p.firstBadStep === null ? '—' : String(p.firstBadStep), p.shareAtPeak === null ? '—' : formatPercent(p.shareAtPeak)]);
}

/** `steps 3–4` or `step 3` */
export function stepRange(step: number, endStep: number): string {
  return endStep !== step ? `steps ${step}–${endStep}` : `step ${step}`;
}
