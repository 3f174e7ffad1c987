import { explodingIndexes, lossScalerSkips } from './episodes';
import { finiteValues, mean, quantile, quantileSorted } from './stats';
import type { DiagnoseOptions, ThresholdAdvice } from './types';
import { RunView } from './view';
import { seriesWithRole } from '../logs/run';

/** What every detector needs, computed once per diagnosis. */
export interface Context {
  view: RunView;
  options: DiagnoseOptions;
  skips: Set<number>;
  exploding: { indexes: number[]; steps: Set<number>; growth: Map<number, { from: number; fromStep: number }>; onset?: { index: number; baseline: number } };
  advice: ThresholdAdvice;
  clipping: { on: boolean; mode?: 'norm' | 'value'; threshold?: number; clippedFraction: number | null };
}

/** Norms at or above this are overflow, not a scale to clip at (the seeds' rule). */
const OVERFLOW_NORM = 1e6;
/** Fewest norms a threshold is advised from. */
const MIN_BASIS = 10;

export function thresholdAdvice(view: RunView, exploding: Set<number>): ThresholdAdvice {
  const { steps, values } = view.norms;
  const usable = new Float64Array(values.length);
  const healthy = new Float64Array(values.length);
  const beforeTrouble = new Float64Array(values.length);
  let u = 0;
  let h = 0;
  let b = 0;
  let troubled = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const explodingStep = exploding.has(steps[i]);
    if (explodingStep || !Number.isFinite(v)) troubled = true;
    if (!Number.isFinite(v) || v >= OVERFLOW_NORM) continue;
    usable[u++] = v;
    if (!explodingStep) healthy[h++] = v;
    if (!troubled) beforeTrouble[b++] = v;
  }
  const sorted = usable.subarray(0, u).sort();
  // The regime before the first explosion says best what ordinary steps look like; then the steps that did not
  // explode; with too few of either, the seeds' rule (p95 of all norms below 1e6) stands.
  const basis = [beforeTrouble.subarray(0, b), healthy.subarray(0, h), sorted].find((set) => set.length >= MIN_BASIS) ?? sorted;
  return {
    recommended: quantile(basis, 0.95),
    mean: mean(sorted),
    median: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : null,
  };
}

function clippingOf(view: RunView): Context['clipping'] {
  const clipValue = seriesWithRole(view.run, 'clipValue');
  const threshold = view.clipThreshold();
  let clippedFraction: number | null = null;
  if (view.clipped && view.clipped.values.length > 0) {
    const flags = finiteValues(view.clipped.values);
    clippedFraction = flags.filter((v) => v > 0).length / Math.max(1, flags.length);
  } else if (threshold !== undefined) {
    const norms = view.norms.values;
    clippedFraction = norms.length === 0 ? null : Array.prototype.filter.call(norms, (v: number) => !(v <= threshold)).length / norms.length;
  }
  if (clipValue && clipValue.values.length > 0) return { on: true, mode: 'value', threshold: clipValue.values[0], clippedFraction };
  if (threshold !== undefined) return { on: true, mode: 'norm', threshold, clippedFraction };
  return { on: clippedFraction !== null && clippedFraction > 0, clippedFraction };
}

export function buildContext(view: RunView, options: DiagnoseOptions): Context {
  const skips = lossScalerSkips(view);
  const { indexes, growth, onset } = explodingIndexes(view, options, skips);
  const steps = new Set(indexes.map((i) => view.norms.steps[i]));
  return { view, options, skips, exploding: { indexes, steps, growth, onset }, advice: thresholdAdvice(view, steps), clipping: clippingOf(view) };
}
