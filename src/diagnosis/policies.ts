import type { Context } from './context';
import { formatNumber, formatPercent, RollingMoments } from './stats';
import type { PolicyReplay } from './types';
import type { RunView } from './view';

type Series = { steps: ArrayLike<number>; values: ArrayLike<number> };

/** Lightning's SpikeDetection defaults: the loss against the running mean of the last 10 non-spike losses. */
const LIGHTNING = { window: 10, warmup: 1, rtol: 2.0, mode: 'raise' };
/** OLMo-core's SkipStepOptimizer defaults: the loss and the grad norm against the last 128 steps. */
const OLMO = { window: 128, sigma: 6, minHistory: 10 };
/** llm.c's OutlierDetector: a z-score over a full window of 128; -sl/-sg set the threshold (off by default). */
const LLMC = { window: 128, z: 3 };
/** Megatron-Core's --check-for-large-grads: a norm over 10× the largest seen before it. */
const MEGATRON = { factor: 10 };

/** Lightning's SpikeDetection: a finite loss more than rtol × the running mean above it, after the warm-up batches. */
function lightningSpikes(loss: Series): number[] {
  const steps: number[] = [];
  const window = new RollingMoments(LIGHTNING.window);
  for (let i = 0; i < loss.values.length; i++) {
    const v = loss.values[i];
    if (!Number.isFinite(v)) continue;
    if (i >= LIGHTNING.warmup && window.count > 0) {
      const mean = window.mean();
      if (v > mean && Math.abs(v - mean) >= LIGHTNING.rtol * Math.abs(mean)) {
        steps.push(loss.steps[i]);
        continue; // a spike does not enter the running mean
      }
    }
    window.push(v);
  }
  return steps;
}

/** Steps where `flag(value, window)` holds, the window holding every earlier finite value up to `size`. */
function rollingFlags(series: Series, size: number, flag: (value: number, window: RollingMoments) => boolean): number[] {
  const steps: number[] = [];
  const window = new RollingMoments(size);
  for (let i = 0; i < series.values.length; i++) {
    const v = series.values[i];
    if (!Number.isFinite(v)) continue;
    if (flag(v, window)) steps.push(series.steps[i]);
    window.push(v);
  }
  return steps;
}

const union = (...lists: number[][]) => [...new Set(lists.flat())].sort((a, b) => a - b);

/** Steps a policy lists at the most: a clip at τ can act on every one of a million steps, which no reader wants listed. */
export const MAX_POLICY_STEPS = 1000;

/** The policy's steps as a replay lists them: the first MAX_POLICY_STEPS, and how many there are. */
const listed = (steps: number[]): Pick<PolicyReplay, 'steps' | 'stepCount'> => ({ steps: steps.slice(0, MAX_POLICY_STEPS), stepCount: steps.length });

/** Norm clipping at τ over a run's norms: the steps it rescales, the share, and the mean factor min(1, τ/‖g‖) applied. */
export function clipReplay(norms: Series, tau: number): { steps: number[]; clippedShare: number; meanScale: number } {
  const steps: number[] = [];
  const tally = { finite: 0, clipped: 0, scaleSum: 0 };
  addClipTally(tally, norms.values, tau, 0, norms.values.length, (i) => steps.push(norms.steps[i]));
  return { steps, ...clipShares(tally) };
}

/** What clipping at τ does to the finite norms of values[from, to), added to `tally`; `onClipped` hears each index it rescales. */
export function addClipTally(tally: ClipTally, values: ArrayLike<number>, tau: number, from: number, to: number, onClipped?: (i: number) => void): void {
  for (let i = from; i < to; i++) {
    const norm = values[i];
    if (!Number.isFinite(norm)) continue;
    tally.finite++;
    if (norm > tau) {
      tally.clipped++;
      tally.scaleSum += tau / norm;
      onClipped?.(i);
    } else tally.scaleSum += 1;
  }
}

export interface ClipTally {
  finite: number;
  clipped: number;
  scaleSum: number;
}

export function clipShares({ finite, clipped, scaleSum }: ClipTally): { clippedShare: number; meanScale: number } {
  return { clippedShare: finite > 0 ? clipped / finite : 0, meanScale: finite > 0 ? scaleSum / finite : 1 };
}

function described(view: RunView, steps: number[], what: string, of: number): string {
  if (steps.length === 0) return `would not have ${what} any step`;
  const listed = steps.slice(0, 5).join(', ') + (steps.length > 5 ? ` and ${steps.length - 5} more` : '');
  return `would have ${what} ${steps.length} of ${view.stepsText(of)} (${formatPercent(steps.length / Math.max(of, 1))}): ${listed}`;
}

/**
 * What the spike policies people run would have done on this log, replayed
 * on its logged values with each policy's defaults: Lightning's
 * SpikeDetection, OLMo-core's skip-step, llm.c's z-score skip, Megatron's
 * large-gradient check, and norm clipping at τ (the threshold in force, the
 * advised one, or 1.0).
 */
export function policyReplays(context: Context): PolicyReplay[] {
  const { view, clipping, advice } = context;
  const norms = view.norms;
  const loss = view.loss;
  const count = Math.max(norms.steps.length, loss?.steps.length ?? 0);
  const policies: PolicyReplay[] = [];
  if (loss) {
    const steps = lightningSpikes(loss);
    policies.push({
      name: 'lightning-spike-detection',
      parameters: { ...LIGHTNING, on: 'loss' },
      ...listed(steps),
      summary: `Lightning SpikeDetection (window ${LIGHTNING.window}, rtol ${LIGHTNING.rtol}) ${steps.length > 0 ? `would have stopped the run at step ${steps[0]} (mode "raise", its default); with mode "warn" it ${described(view, steps, 'flagged', loss.steps.length)}` : described(view, steps, 'flagged', loss.steps.length)}.`,
    });
  }
  const sigmaOver = (sigma: number, minHistory: number) => (v: number, w: RollingMoments) => w.count >= minHistory && v > w.mean() + sigma * w.sd();
  const olmo = union(loss ? rollingFlags(loss, OLMO.window, sigmaOver(OLMO.sigma, OLMO.minHistory)) : [], rollingFlags(norms, OLMO.window, sigmaOver(OLMO.sigma, OLMO.minHistory)));
  policies.push({
    name: 'olmo-core-skip-step',
    parameters: { ...OLMO, on: 'loss and grad norm' },
    ...listed(olmo),
    summary: `OLMo-core's skip-step (loss or grad norm over the mean + ${OLMO.sigma}σ of the last ${OLMO.window} steps) ${described(view, olmo, 'skipped', count)}.`,
  });
  const zOver = (v: number, w: RollingMoments) => w.count >= LLMC.window && w.sd() > 0 && (v - w.mean()) / w.sd() > LLMC.z;
  const llmc = union(loss ? rollingFlags(loss, LLMC.window, zOver) : [], rollingFlags(norms, LLMC.window, zOver));
  policies.push({
    name: 'llm.c-zscore-skip',
    parameters: { ...LLMC, on: 'loss and grad norm' },
    ...listed(llmc),
    summary: `llm.c's z-score skip (-sl ${LLMC.z} -sg ${LLMC.z}, over a full window of ${LLMC.window}) ${described(view, llmc, 'skipped', count)}.`,
  });
  if (norms.steps.length > 0) {
    let largest = -Infinity;
    const megatron: number[] = [];
    for (let i = 0; i < norms.values.length; i++) {
      const v = norms.values[i];
      if (!Number.isFinite(v)) continue;
      if (largest > 0 && v > MEGATRON.factor * largest) megatron.push(norms.steps[i]);
      largest = Math.max(largest, v);
    }
    policies.push({
      name: 'megatron-large-grads',
      parameters: { ...MEGATRON, on: 'grad norm' },
      ...listed(megatron),
      summary: `Megatron's large-gradient check (a norm over ${MEGATRON.factor}× the largest before it) ${described(view, megatron, 'flagged', norms.steps.length)}.`,
    });
    const tau = clipping.mode === 'norm' && clipping.threshold !== undefined ? clipping.threshold : (advice.recommended ?? 1);
    const clip = clipReplay(norms, tau);
    const from = clipping.mode === 'norm' && clipping.threshold !== undefined ? 'the threshold in force' : advice.recommended !== null ? 'the advised threshold' : 'the usual 1.0';
    policies.push({
      name: 'clip-norm',
      parameters: { tau },
      ...listed(clip.steps),
      clippedShare: clip.clippedShare,
      meanScale: clip.meanScale,
      summary: `Norm clipping at τ = ${formatNumber(tau)} (${from}) would clip ${formatPercent(clip.clippedShare)} of steps, scaling the gradient by ${formatNumber(clip.meanScale)} on average.`,
    });
  }
  return policies;
}
