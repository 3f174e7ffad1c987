import type { Exploding } from './episodes';
import { median, RollingMoments } from './stats';
import type { SpikeEntry, SpikeLedger } from './types';
import type { RunView } from './view';

/** Steps of history a spike is measured against. */
const WINDOW = 50;
/** Fewer finite steps before it and a "spike" is just the start of the run. */
const MIN_HISTORY = 10;
/** Robust z-score (in MADs of the rolling window) that makes a spike. */
const Z = 6;
/** The normal band: within this many MADs of the rolling median. */
const BAND_Z = 3;
/** A spike back within its band within this many steps recovered fast. */
const FAST_RECOVERY = 10;
/** A gradient-norm spike and a loss spike this close are one event seen twice. */
const PAIR_STEPS = 5;
/** OLMo 2's spike score: values this many standard deviations from the rolling mean of the previous SCORE_WINDOW. */
const SCORE_SIGMA = 7;
const SCORE_WINDOW = 1000;

interface Detected {
  index: number;
  /** The rolling median and band edge, in the series' own scale. */
  baseline: number;
  upper: number;
}

interface Scale {
  /** Into the space the band is measured in (log10 for norms, which spread over decades). */
  to(value: number): number;
  from(value: number): number;
  /** The smallest jump above the median that counts, in that space. */
  minJump(mid: number): number;
  /** The smallest spread a window is given, so a very steady run's wiggles are not spikes. */
  minScale(mid: number): number;
}

const LOG: Scale = { to: Math.log10, from: (v) => 10 ** v, minJump: () => Math.log10(3), minScale: () => 0.02 };
/** Losses move less than norms: a quarter up is already a spike when the run is steady. */
const LOSS_LOG: Scale = { ...LOG, minJump: () => Math.log10(1.25), minScale: () => 0.005 };
const LINEAR: Scale = { to: (v) => v, from: (v) => v, minJump: (mid) => 0.1 * Math.abs(mid), minScale: (mid) => Math.max(1e-3 * Math.abs(mid), 1e-12) };

/** Where `value` goes in ascending `sorted` (the first position not below it). */
function sortedIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Jumps against the rolling median of the last WINDOW values, scaled by
 * their median absolute deviation; `from` is the first index looked at (past
 * the early transient).
 */
function rollingSpikes(values: ArrayLike<number>, scale: Scale, from: number): Detected[] {
  const found: Detected[] = [];
  // The last WINDOW values, in arrival order and sorted: the median is a lookup, not a sort per step.
  const recent: number[] = [];
  const sorted: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value) || (scale !== LINEAR && value <= 0)) continue;
    const x = scale.to(value);
    if (i >= from && recent.length >= MIN_HISTORY) {
      const mid = sorted[sorted.length >> 1];
      // Most steps fail the cheap jump test; the MAD is only worked out for the rest.
      if (x - mid >= scale.minJump(mid)) {
        const deviations = sorted.map((v) => Math.abs(v - mid)).sort((a, b) => a - b);
        const spread = Math.max(1.4826 * deviations[deviations.length >> 1], scale.minScale(mid));
        if ((x - mid) / spread > Z) found.push({ index: i, baseline: scale.from(mid), upper: scale.from(mid + BAND_Z * spread) });
      }
    }
    recent.push(x);
    sorted.splice(sortedIndex(sorted, x), 0, x);
    if (recent.length > WINDOW) sorted.splice(sortedIndex(sorted, recent.shift()!), 1);
  }
  return found;
}

/** Steps outside the band from the spike on, and steps until back inside it (null: never). */
function recovery(steps: ArrayLike<number>, values: ArrayLike<number>, spike: Detected): { duration: number; recoverySteps: number | null } {
  let j = spike.index;
  while (j < values.length && !(values[j] <= spike.upper)) j++;
  return { duration: j - spike.index, recoverySteps: j < values.length ? steps[j] - steps[spike.index] : null };
}

/** OLMo 2's spike score: the share of finite values at least 7σ from the mean of the previous 1,000. */
function spikeScore(values: ArrayLike<number>): number | null {
  const window = new RollingMoments(SCORE_WINDOW);
  let judged = 0;
  let spikes = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (window.count >= MIN_HISTORY) {
      judged++;
      const sd = window.sd();
      if (sd > 0 && Math.abs(v - window.mean()) >= SCORE_SIGMA * sd) spikes++;
    }
    window.push(v);
  }
  return judged > 0 ? spikes / judged : null;
}

/**
 * Every gradient-norm and loss spike of the run with its magnitude, how long
 * it stayed out of the normal band and how soon it came back; fast spikes
 * that recover told from damaging ones, loss-scaler overflows as benign; the
 * measured lead or lag between the two series; OLMo 2's spike score.
 */
export function spikeLedger(view: RunView, exploding: Exploding, skips: Set<number>): SpikeLedger {
  const norms = view.norms;
  const transient = exploding.transient;
  const normFrom = transient ? transient.toIndex + 1 : 0;
  const lossFrom = transient && view.loss ? sortedIndex(Array.from(view.loss.steps), norms.steps[transient.toIndex] + 1) : 0;
  const entries = (series: SpikeEntry['series'], steps: ArrayLike<number>, values: ArrayLike<number>, detected: Detected[]) =>
    detected.map((spike): SpikeEntry => {
      const { duration, recoverySteps } = recovery(steps, values, spike);
      const value = values[spike.index];
      return {
        series,
        step: steps[spike.index],
        value,
        baseline: spike.baseline,
        magnitude: spike.baseline !== 0 ? value / spike.baseline : Infinity,
        duration,
        recoverySteps,
        verdict: skips.has(steps[spike.index]) ? 'overflow' : recoverySteps !== null && recoverySteps <= FAST_RECOVERY ? 'recovered' : 'damaging',
      };
    });
  const gradSpikes = entries('gradNorm', norms.steps, norms.values, rollingSpikes(norms.values, LOG, normFrom));
  const loss = view.loss;
  const positiveLoss = loss !== undefined && Array.prototype.every.call(loss.values, (v: number) => !Number.isFinite(v) || v > 0);
  const lossSpikes = loss ? entries('loss', loss.steps, loss.values, rollingSpikes(loss.values, positiveLoss ? LOSS_LOG : LINEAR, lossFrom)) : [];
  const lags: number[] = [];
  // Steps apart; in a summarised run, buckets apart.
  const apart = (a: number, b: number) => Math.abs(view.key(a) - view.key(b));
  for (const grad of gradSpikes) {
    let nearest: SpikeEntry | undefined;
    for (const l of lossSpikes) if (apart(l.step, grad.step) <= PAIR_STEPS && (!nearest || apart(l.step, grad.step) < apart(nearest.step, grad.step))) nearest = l;
    if (!nearest) continue;
    lags.push(nearest.step - grad.step);
    // A gradient spike whose loss spike did not come back damaged the run, however fast the norm recovered.
    if (grad.verdict === 'recovered' && nearest.verdict === 'damaging') grad.verdict = 'damaging';
  }
  return {
    spikes: [...gradSpikes, ...lossSpikes].sort((a, b) => a.step - b.step || (a.series < b.series ? -1 : 1)),
    spikeScore: { gradNorm: spikeScore(norms.values), loss: loss ? spikeScore(loss.values) : null },
    lag: { medianSteps: median(lags), pairs: lags.length, gradNormSpikes: gradSpikes.length, lossSpikes: lossSpikes.length },
    transient: transient ? { fromStep: norms.steps[transient.fromIndex], toStep: norms.steps[transient.toIndex], peak: transient.peak, settled: transient.settled } : null,
  };
}
