/** The words and numbers of a run's summary, shared by the terminal report, the Markdown summary and the HTML report. */
import { formatNumber, formatPercent } from '../diagnosis/stats';
import type { Diagnosis } from '../diagnosis/types';
import type { LogFormat } from '../logs/run';
import type { Writer } from '../logs/settings';

export const WRITER_NAMES: Record<Writer, string> = {
  'hf-trainer': 'Hugging Face Trainer',
  lightning: 'PyTorch Lightning',
  keras: 'Keras',
  megatron: 'Megatron',
  deepspeed: 'DeepSpeed',
  fairseq: 'fairseq',
  mmengine: 'MMEngine (OpenMMLab)',
  torchtitan: 'torchtitan',
  'llm.c': 'llm.c',
  nanogpt: 'nanoGPT',
  optax: 'JAX/optax',
  pytorch: 'PyTorch loop',
};

const SOURCE_WORDS = { log: 'logged', config: 'from the configuration', default: "the tool's default", none: '' } as const;

/** What the run had in place: clipping, loss scaler, warm-up. */
function setupText(d: Diagnosis): string {
  const { clipping, precision, warmup } = d.setup;
  const clip = !clipping.on
    ? 'no clipping'
    : `${clipping.mode === 'value' ? 'value' : 'norm'} clipping${clipping.threshold !== null ? ` at ${formatNumber(clipping.threshold)}` : ''}${clipping.source !== 'none' ? ` (${SOURCE_WORDS[clipping.source]})` : ''}`;
  const parts = [clip];
  if (precision.scaler) parts.push('fp16 loss scaler');
  else if (precision.stated) parts.push(precision.stated);
  if (warmup) parts.push(`warm-up ${warmup.steps} steps (${warmup.source === 'lr' ? 'from the learning rate' : 'from the configuration'})`);
  return parts.join(', ');
}

/** `4 grad-norm (3 recovered, 1 damaging), 2 loss; spike score 0.4% / 0.2%; loss lagged by 1 step (2 pairs)` */
function ledgerText(d: Diagnosis): string {
  const { spikes, spikeScore, lag } = d.ledger;
  const count = (series: 'gradNorm' | 'loss') => {
    const of = spikes.filter((s) => s.series === series);
    const verdicts = (['recovered', 'damaging', 'overflow'] as const).map((v) => [v, of.filter((s) => s.verdict === v).length] as const).filter(([, n]) => n > 0);
    return `${of.length} ${series === 'gradNorm' ? 'grad-norm' : 'loss'}${verdicts.length > 0 ? ` (${verdicts.map(([v, n]) => `${n} ${v}`).join(', ')})` : ''}`;
  };
  const score = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(2)}%`);
  const lagText =
    lag.medianSteps === null ? '' : `; ${lag.medianSteps === 0 ? 'loss spikes fell on the grad-norm spikes\' steps' : lag.medianSteps > 0 ? `loss spikes followed grad-norm spikes by ${formatNumber(lag.medianSteps)} step${lag.medianSteps === 1 ? '' : 's'}` : `loss spikes came ${formatNumber(-lag.medianSteps)} step${lag.medianSteps === -1 ? '' : 's'} before the grad-norm spikes`} (median of ${lag.pairs} pair${lag.pairs === 1 ? '' : 's'})`;
  return `${count('gradNorm')}, ${count('loss')}; spike score ${score(spikeScore.gradNorm)} grad norm, ${score(spikeScore.loss)} loss${lagText}`;
}

export const LEDGER_COLUMNS = ['step', 'series', 'value', '× median', 'steps out', 'back after', 'verdict'];

/** The spike ledger's rows, largest first then by step, for the summaries (the JSON has them all). */
export function ledgerRows(d: Diagnosis, limit = Infinity): string[][] {
  return [...d.ledger.spikes]
    .sort((a, b) => b.magnitude - a.magnitude)
    .slice(0, limit)
    .sort((a, b) => a.step - b.step || (a.series === 'gradNorm' ? -1 : 1))
    .map((s) => [
      String(s.step),
      s.series === 'gradNorm' ? 'grad norm' : 'loss',
      formatNumber(s.value),
      formatNumber(s.magnitude),
      String(s.duration),
      s.recoverySteps === null ? 'never' : `${s.recoverySteps} step${s.recoverySteps === 1 ? '' : 's'}`,
      s.verdict,
    ]);
}

/** One line per policy replayed. */
export function policyLines(d: Diagnosis): string[] {
  return d.policies.map((p) => p.summary);
}

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
      t.max === null
        ? '—'
        : `${t.recommended === null ? 'no recommendation: no stretch of the run is stable' : `recommended ${formatNumber(t.recommended)}${t.basis ? ` from steps ${t.basis.fromStep}–${t.basis.toStep}` : ''}`}  (mean ${formatNumber(t.mean)}, median ${formatNumber(t.median)}, p95 ${formatNumber(t.p95)}, p99 ${formatNumber(t.p99)}, max ${formatNumber(t.max)})`,
    ],
    ['clipped steps', d.clippedFraction === null ? 'unknown' : formatPercent(d.clippedFraction)],
    ['written by', WRITER_NAMES[d.setup.writer]],
    ['in place', setupText(d)],
    ...(d.steps > 0 ? [['spikes', ledgerText(d)] as [string, string]] : []),
    ...d.setup.caveats.map((caveat): [string, string] => ['caveat', caveat]),
    ...(d.ledger.transient
      ? [['early transient', `steps ${d.ledger.transient.fromStep}–${d.ledger.transient.toStep}: norms up to ${formatNumber(d.ledger.transient.peak)} settling to ${formatNumber(d.ledger.transient.settled)} (the start of training, not an explosion)`] as [string, string]]
      : []),
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
