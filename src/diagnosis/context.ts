import { explodingEpisodes, lossScalerSkips, type Exploding } from './episodes';
import { spikeLedger } from './ledger';
import { finiteValues, mean, quantile, quantileSorted } from './stats';
import type { DiagnoseOptions, SpikeLedger, ThresholdAdvice } from './types';
import { RunView } from './view';
import { seriesWithRole } from '../logs/run';
import { writerOf, type Writer } from '../logs/settings';

/** What every detector needs, computed once per diagnosis. */
export interface Context {
  view: RunView;
  options: DiagnoseOptions;
  skips: Set<number>;
  exploding: Exploding & { steps: Set<number> };
  advice: ThresholdAdvice;
  clipping: Clipping;
  /** The tool that wrote the log: advice is given in its terms. */
  writer: Writer;
  /** An fp16 loss scaler at work (a loss scale other than 1, or overflow skips), and the precision the configuration states. */
  precision: { scaler: boolean; stated?: 'fp16' | 'bf16' | 'fp32' };
  /** The learning-rate warm-up in place: read from the logged learning rate, or stated by the configuration. */
  warmup?: { steps: number; source: 'lr' | 'config' };
  ledger: SpikeLedger;
}

export interface Clipping {
  on: boolean;
  mode?: 'norm' | 'value';
  threshold?: number;
  clippedFraction: number | null;
  /** Where the threshold is known from: a logged series, the run's configuration, or the writing tool's default. */
  source: 'log' | 'config' | 'default' | 'none';
}

/** Norms at or above this are overflow, not a scale to clip at (the seeds' rule). */
const OVERFLOW_NORM = 1e6;
/** Fewest norms a threshold is advised from. */
const MIN_BASIS = 10;

/** A stretch after the last explosion must cover this share of the run to say what its ordinary steps look like. */
const AFTER_SHARE = 0.2;

/**
 * Clip threshold advice from a stable stretch of the run: steps in a row with
 * finite norms, no explosion, no scaler skip, past the early transient. The
 * stretch before the first explosion says best what ordinary steps look like;
 * failing that, one after the last explosion that covers a fifth of the run;
 * a lull between two explosions is no basis. The 95th percentile of a run that
 * explodes throughout is no healthy threshold: then there is no recommendation.
 */
function thresholdAdvice(view: RunView, exploding: Exploding & { steps: Set<number> }, skips: Set<number>): ThresholdAdvice {
  const { steps, values } = view.norms;
  const clean = (i: number) => Number.isFinite(values[i]) && values[i] < OVERFLOW_NORM && !skips.has(steps[i]);
  /** The longest run of clean indexes in [from, to). */
  const longest = (from: number, to: number) => {
    let best = { from, to: from };
    let run = from;
    for (let i = from; i <= to; i++) {
      if (i < to && clean(i)) continue;
      if (i - run > best.to - best.from) best = { from: run, to: i };
      run = i + 1;
    }
    return best;
  };
  const { episodes, transient } = exploding;
  const start = transient ? transient.toIndex + 1 : 0;
  const before = longest(start, episodes.length > 0 ? episodes[0].indexes[0] : values.length);
  const after = episodes.length > 0 ? longest(episodes[episodes.length - 1].indexes.at(-1)! + 1, values.length) : before;
  const best =
    before.to - before.from >= MIN_BASIS ? before : after.to - after.from >= Math.max(MIN_BASIS, AFTER_SHARE * values.length) ? after : undefined;
  const usable: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && values[i] < OVERFLOW_NORM) usable.push(values[i]);
  const sorted = Float64Array.from(usable).sort();
  return {
    recommended: best ? quantile(values.subarray(best.from, best.to), 0.95) : null,
    basis: best ? { fromStep: steps[best.from], toStep: steps[best.to - 1], steps: best.to - best.from } : null,
    mean: mean(sorted),
    median: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : null,
  };
}

/** Tools that clip the global norm at 1.0 unless told otherwise. */
const DEFAULT_CLIP: Partial<Record<Writer, number>> = { 'hf-trainer': 1, megatron: 1, torchtitan: 1, nanogpt: 1, 'llm.c': 1 };

function clippingOf(view: RunView, writer: Writer): Clipping {
  const clipValue = seriesWithRole(view.run, 'clipValue');
  const stated = view.run.settings;
  const logged = view.clipThreshold();
  const [threshold, source]: [number | undefined, Clipping['source']] =
    logged !== undefined ? [logged, 'log']
    : stated?.clipNorm !== undefined ? [stated.clipNorm > 0 ? stated.clipNorm : undefined, 'config']
    : DEFAULT_CLIP[writer] !== undefined ? [DEFAULT_CLIP[writer], 'default']
    : [undefined, 'none'];
  let clippedFraction: number | null = null;
  if (view.clipped && view.clipped.values.length > 0) {
    const flags = finiteValues(view.clipped.values);
    clippedFraction = flags.filter((v) => v > 0).length / Math.max(1, flags.length);
  } else if (threshold !== undefined) {
    const norms = view.norms.values;
    clippedFraction = norms.length === 0 ? null : Array.prototype.filter.call(norms, (v: number) => !(v <= threshold)).length / norms.length;
  }
  if (clipValue && clipValue.values.length > 0) return { on: true, mode: 'value', threshold: clipValue.values[0], clippedFraction, source: 'log' };
  if (stated?.clipValue !== undefined && stated.clipValue > 0) return { on: true, mode: 'value', threshold: stated.clipValue, clippedFraction: null, source: 'config' };
  if (threshold !== undefined) return { on: true, mode: 'norm', threshold, clippedFraction, source };
  return { on: clippedFraction !== null && clippedFraction > 0, clippedFraction, source: clippedFraction !== null && clippedFraction > 0 ? 'log' : source };
}

/** A learning rate that starts below half its early peak and climbs to it is being warmed up. */
function warmupOf(view: RunView): Context['warmup'] {
  const stated = view.run.settings;
  const lastStep = view.norms.steps.length > 0 ? view.norms.steps[view.norms.steps.length - 1] : (view.loss?.steps[view.loss.steps.length - 1] ?? 0);
  if (stated?.warmupSteps !== undefined && stated.warmupSteps > 0) return { steps: stated.warmupSteps, source: 'config' };
  if (stated?.warmupRatio !== undefined && stated.warmupRatio > 0) return { steps: Math.round(stated.warmupRatio * lastStep), source: 'config' };
  const lr = view.lr;
  if (!lr || lr.values.length < 3) return undefined;
  const early = lr.values.subarray(0, Math.max(3, Math.ceil(lr.values.length * 0.3)));
  let peak = 0;
  let peakIndex = 0;
  for (let i = 0; i < early.length; i++) if (early[i] > peak) [peak, peakIndex] = [early[i], i];
  if (!(lr.values[0] < 0.5 * peak)) return undefined;
  let reached = 0;
  while (reached < peakIndex && early[reached] < 0.95 * peak) reached++;
  return { steps: lr.steps[reached] - lr.steps[0], source: 'lr' };
}

function precisionOf(view: RunView, skips: Set<number>): Context['precision'] {
  const scale = view.lossScale;
  const scaled = scale !== undefined && Array.prototype.some.call(scale.values, (v: number) => Number.isFinite(v) && v !== 1);
  const stated = view.run.settings?.precision;
  return { scaler: stated !== 'bf16' && (scaled || skips.size > 0), ...(stated ? { stated } : {}) };
}

export function buildContext(view: RunView, options: DiagnoseOptions): Context {
  const skips = lossScalerSkips(view);
  const writer = writerOf(view.run);
  const warmup = warmupOf(view);
  const warmupEnd = warmup && view.norms.steps.length > 0 ? view.norms.steps[0] + warmup.steps : undefined;
  const found = explodingEpisodes(view, options, skips, warmupEnd);
  const exploding = { ...found, steps: new Set(found.indexes.map((i) => view.norms.steps[i])) };
  return {
    view,
    options,
    skips,
    exploding,
    advice: thresholdAdvice(view, exploding, skips),
    ledger: spikeLedger(view, exploding, skips),
    clipping: clippingOf(view, writer),
    writer,
    precision: precisionOf(view, skips),
    ...(warmup ? { warmup } : {}),
  };
}
