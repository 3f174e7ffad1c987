import type { StepRecord } from './record';
import type { ClipSpec } from './trainer';

/** The few numbers a person asks first about a finished run. */
export interface RunSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  maxGradNorm: number;
  maxGradNormStep: number;
  firstNonFiniteStep: number | null;
  clippedFraction: number;
  /** ‖∂L/∂h_0‖ / ‖∂L/∂h_{T-1}‖ of the bottom recurrent layer at the first instrumented step. */
  backwardGrowth: number | null;
}

export function summarize(records: readonly StepRecord[]): RunSummary {
  let maxGradNorm = -Infinity;
  let maxGradNormStep = -1;
  let firstNonFiniteStep: number | null = null;
  let clipped = 0;
  let backwardGrowth: number | null = null;
  for (const r of records) {
    if (r.grad_norm > maxGradNorm) {
      maxGradNorm = r.grad_norm;
      maxGradNormStep = r.step;
    }
    if (firstNonFiniteStep === null && (!Number.isFinite(r.grad_norm) || !Number.isFinite(r.loss))) firstNonFiniteStep = r.step;
    if (r.clipped) clipped++;
    const profile = r.hidden_grad_norms?.['rnn.l0'];
    if (backwardGrowth === null && profile && profile.length > 1) backwardGrowth = profile[0] / profile[profile.length - 1];
  }
  return {
    steps: records.length,
    firstLoss: records[0]?.loss ?? NaN,
    lastLoss: records[records.length - 1]?.loss ?? NaN,
    maxGradNorm: records.length ? maxGradNorm : NaN,
    maxGradNormStep,
    firstNonFiniteStep,
    clippedFraction: records.length ? clipped / records.length : 0,
    backwardGrowth,
  };
}

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(4)) : String(v));

/** How a run clipped, in a few words: "none", "norm ≤ 1", "|value| ≤ 0.5". */
export function clipLabel(clip: ClipSpec): string {
  return clip.mode === 'none' ? 'none' : clip.mode === 'norm' ? `norm ≤ ${clip.maxNorm}` : `|value| ≤ ${clip.value}`;
}

/** One paragraph in plain words. */
export function describe(s: RunSummary, clipping: string): string {
  if (s.steps === 0) return 'No steps were run.';
  const parts = [`${s.steps} steps; loss ${fmt(s.firstLoss)} → ${fmt(s.lastLoss)}.`];
  parts.push(`Largest gradient norm before clipping: ${fmt(s.maxGradNorm)} at step ${s.maxGradNormStep}.`);
  if (s.firstNonFiniteStep !== null) parts.push(`The loss or gradient first became NaN/Inf at step ${s.firstNonFiniteStep}.`);
  if (s.backwardGrowth !== null) {
    const decades = Math.log10(s.backwardGrowth);
    const comparison =
      Math.abs(decades) < 0.05 ? 'about the same as' : decades > 0 ? `${fmt(s.backwardGrowth)}× larger than` : `${fmt(1 / s.backwardGrowth)}× smaller than`;
    const verdict = decades >= 2 ? ' (exploding)' : decades <= -2 ? ' (vanishing)' : '';
    parts.push(`Backward through time, ‖∂L/∂h_t‖ at t=0 is ${comparison} at the last step${verdict}.`);
  }
  parts.push(clipping === 'none' ? 'No clipping.' : `Clipping (${clipping}) acted on ${(100 * s.clippedFraction).toFixed(0)}% of steps.`);
  return parts.join(' ');
}
