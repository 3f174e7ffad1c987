import { alignedAt, indexOfStep, type RunView } from './view';
import type { DiagnoseOptions } from './types';
import { median } from './stats';

/**
 * Steps the fp16 loss scaler skipped: announced by the log (DeepSpeed's
 * "OVERFLOW! Skipping step", Megatron's skipped-iteration count) or visible
 * as a non-finite norm while the loss scale drops. They are the scaler
 * working, not an explosion, unless they persist.
 */
export function lossScalerSkips(view: RunView): Set<number> {
  const skips = new Set<number>();
  for (const event of view.run.events) if (event.kind === 'overflow-skip') skips.add(event.step);
  if (view.skipped) {
    for (let i = 0; i < view.skipped.steps.length; i++) if (view.skipped.values[i] > 0) skips.add(view.skipped.steps[i]);
  }
  if (view.skippedTotal) {
    const { steps, values } = view.skippedTotal;
    for (let i = 0; i < steps.length; i++) if (values[i] > (i > 0 ? values[i - 1] : 0)) skips.add(steps[i]);
  }
  const scale = view.lossScale;
  if (scale) {
    const { steps, values } = view.norms;
    for (let i = 0; i < steps.length; i++) {
      if (Number.isFinite(values[i])) continue;
      const index = indexOfStep(scale.steps, steps[i]);
      if (index < 0) continue;
      const before = index > 0 ? scale.values[index - 1] : Infinity;
      const after = index + 1 < scale.values.length ? scale.values[index + 1] : Infinity;
      if (scale.values[index] < before || after < scale.values[index]) skips.add(steps[i]);
    }
  }
  return skips;
}

/**
 * Indexes (into view.norms) of steps whose norm explodes: over the alert
 * threshold; over the warn threshold and 5× the run's median; or grown by
 * `growthFactor` within `growthWindow` steps to at least 1.
 */
export function explodingIndexes(
  view: RunView,
  options: DiagnoseOptions,
  skips: Set<number>,
): { indexes: number[]; growth: Map<number, { from: number; fromStep: number }>; onset?: { index: number; baseline: number } } {
  const { steps, values } = view.norms;
  const typical = median(values) ?? 0;
  const indexes: number[] = [];
  const growth = new Map<number, { from: number; fromStep: number }>();
  for (let i = 0; i < values.length; i++) {
    const norm = values[i];
    if (!Number.isFinite(norm) || skips.has(steps[i])) continue;
    let smallest = Infinity;
    let smallestStep = -1;
    for (let j = i - 1; j >= 0 && steps[i] - steps[j] <= options.growthWindow; j--) {
      if (Number.isFinite(values[j]) && values[j] > 0 && values[j] < smallest) {
        smallest = values[j];
        smallestStep = steps[j];
      }
    }
    const grew = norm >= 1 && norm >= options.growthFactor * smallest;
    if (grew) growth.set(i, { from: smallest, fromStep: smallestStep });
    if (norm >= options.alertThreshold || (norm >= options.warnThreshold && norm >= 5 * typical) || grew) indexes.push(i);
  }
  const onset = indexes.length > 0 ? onsetBefore(values, indexes[0]) : undefined;
  if (onset) indexes.unshift(...Array.from({ length: indexes[0] - onset.index }, (_, k) => onset.index + k));
  return { indexes, growth, onset };
}

/** How many norms must come before an explosion for its run-up to be told from the start of training. */
const MIN_RUN_UP_HISTORY = 6;
/** A norm this many times the early typical one is already part of the explosion. */
const RUN_UP_FACTOR = 3;

/**
 * Explosions build up before they cross a threshold: the norm triples, then
 * grows tenfold, and the loss has usually jumped by then. The onset is the
 * start of the unbroken run of norms above 3× the typical norm of the first
 * half of the steps before the threshold was crossed.
 */
function onsetBefore(values: ArrayLike<number>, first: number): { index: number; baseline: number } | undefined {
  if (first < MIN_RUN_UP_HISTORY) return undefined;
  const baseline = median(Array.prototype.slice.call(values, 0, Math.ceil(first / 2)) as number[]);
  if (baseline === null || baseline <= 0) return undefined;
  let index = first;
  while (index > 0 && Number.isFinite(values[index - 1]) && values[index - 1] >= RUN_UP_FACTOR * baseline) index--;
  return index < first ? { index, baseline } : undefined;
}

/** Parameters by their share of the squared total norm at the step of norms index `index`, largest first. */
export function sharesAt(view: RunView, index: number): { name: string; norm: number; share: number }[] {
  const atStep = view.aligned().map((norms) => alignedAt(norms, index) ?? NaN);
  let total = 0;
  for (const norm of atStep) if (Number.isFinite(norm)) total += norm * norm;
  const shares: { name: string; norm: number; share: number }[] = [];
  view.parameters.forEach((p, k) => {
    const norm = atStep[k];
    if (Number.isFinite(norm)) shares.push({ name: p.name, norm, share: total > 0 ? (norm * norm) / total : 0 });
  });
  return shares.sort((a, b) => b.share - a.share);
}
