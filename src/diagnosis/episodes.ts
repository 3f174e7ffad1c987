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
      const index = indexOfStep(scale.steps, steps[i], view.run.buckets);
      if (index < 0) continue;
      const before = index > 0 ? scale.values[index - 1] : Infinity;
      const after = index + 1 < scale.values.length ? scale.values[index + 1] : Infinity;
      if (scale.values[index] < before || after < scale.values[index]) skips.add(steps[i]);
    }
  }
  return skips;
}

/** One explosion: its exploding steps (indexes into view.norms), and the run-up before the threshold was crossed. */
export interface Episode {
  indexes: number[];
  onset?: { index: number; baseline: number };
}

/** The norms of the first steps of training that start high and settle: not an explosion. */
export interface Transient {
  fromIndex: number;
  toIndex: number;
  peak: number;
  settled: number;
}

export interface Exploding {
  /** Every exploding index of every episode, ascending. */
  indexes: number[];
  growth: Map<number, { from: number; fromStep: number }>;
  episodes: Episode[];
  transient?: Transient;
}

/** Exploding steps this far apart (in steps, and in logged steps) are separate episodes. */
const EPISODE_GAP = 20;
/** The early transient settles within this share of the run at most (or the warm-up, when longer). */
const TRANSIENT_SHARE = 0.1;
/** Norms looked at after the transient to see that it settled. */
const SETTLE_WINDOW = 20;

/**
 * Steps whose norm explodes, grouped into episodes: over the alert threshold;
 * over the warn threshold and 5× the run's median; or grown by `growthFactor`
 * within `growthWindow` steps to at least 1. Exploding steps more than
 * EPISODE_GAP steps apart are separate episodes; an episode that opens the
 * run and settles within the warm-up is the early transient, not an explosion.
 */
export function explodingEpisodes(view: RunView, options: DiagnoseOptions, skips: Set<number>, warmupEnd: number | undefined): Exploding {
  const { steps, values } = view.norms;
  // Distances in steps; in a summarised run, in buckets, as its points are a bucket apart.
  const { key } = view;
  const typical = median(values) ?? 0;
  const raw: number[] = [];
  const growth = new Map<number, { from: number; fromStep: number }>();
  for (let i = 0; i < values.length; i++) {
    const norm = values[i];
    if (!Number.isFinite(norm) || skips.has(steps[i])) continue;
    let smallest = Infinity;
    let smallestStep = -1;
    for (let j = i - 1; j >= 0 && key(steps[i]) - key(steps[j]) <= options.growthWindow; j--) {
      if (Number.isFinite(values[j]) && values[j] > 0 && values[j] < smallest) {
        smallest = values[j];
        smallestStep = steps[j];
      }
    }
    const grew = norm >= 1 && norm >= options.growthFactor * smallest;
    if (grew) growth.set(i, { from: smallest, fromStep: smallestStep });
    if (norm >= options.alertThreshold || (norm >= options.warnThreshold && norm >= 5 * typical) || grew) raw.push(i);
  }
  const groups: number[][] = [];
  for (const i of raw) {
    const last = groups[groups.length - 1];
    if (last && key(steps[i]) - key(steps[last[last.length - 1]]) <= EPISODE_GAP && i - last[last.length - 1] <= EPISODE_GAP) last.push(i);
    else groups.push([i]);
  }
  const transient = groups.length > 0 ? earlyTransient(view, groups[0], growth, warmupEnd) : undefined;
  if (transient) groups.shift();
  const episodes = groups.map((indexes, k): Episode => {
    const from = k > 0 ? groups[k - 1][groups[k - 1].length - 1] + 1 : transient ? transient.toIndex + 1 : 0;
    const onset = onsetBefore(values, indexes[0], from);
    return onset ? { indexes: [...Array.from({ length: indexes[0] - onset.index }, (_, j) => onset.index + j), ...indexes], onset } : { indexes };
  });
  return { indexes: episodes.flatMap((e) => e.indexes), growth, episodes, ...(transient ? { transient } : {}) };
}

/**
 * From-scratch training starts with large norms that fall within the first
 * steps (llm.c, OLMo and Megatron runs all do): the episode opens the log,
 * grew from nothing, ends within the warm-up (or the first tenth of the run),
 * and the norms after it sit well below where it started, all finite.
 */
function earlyTransient(view: RunView, indexes: number[], growth: Map<number, unknown>, warmupEnd: number | undefined): Transient | undefined {
  const { steps, values } = view.norms;
  let firstFinite = 0;
  while (firstFinite < values.length && !Number.isFinite(values[firstFinite])) firstFinite++;
  if (indexes[0] > firstFinite + 1 || indexes.some((i) => growth.has(i))) return undefined;
  const last = indexes[indexes.length - 1];
  const span = steps[steps.length - 1] - steps[0];
  const end = Math.max(steps[0] + span * TRANSIENT_SHARE, warmupEnd ?? -Infinity);
  if (steps[last] > end || last + 1 >= values.length) return undefined;
  const after = Array.prototype.slice.call(values, last + 1, last + 1 + SETTLE_WINDOW) as number[];
  if (after.some((v) => !Number.isFinite(v))) return undefined;
  let peak = -Infinity;
  for (const i of indexes) peak = Math.max(peak, values[i]);
  const settled = median(after);
  if (settled === null || settled * 3 > values[indexes[0]]) return undefined;
  return { fromIndex: indexes[0], toIndex: last, peak, settled };
}

/** How many norms must come before an explosion for its run-up to be told from the start of training. */
const MIN_RUN_UP_HISTORY = 6;
/** A norm this many times the early typical one is already part of the explosion. */
const RUN_UP_FACTOR = 3;

/**
 * Explosions build up before they cross a threshold: the norm triples, then
 * grows tenfold, and the loss has usually jumped by then. The onset is the
 * start of the unbroken run of norms above 3× the typical norm of the first
 * half of the steps between `from` and the threshold's crossing.
 */
function onsetBefore(values: ArrayLike<number>, first: number, from: number): { index: number; baseline: number } | undefined {
  if (first - from < MIN_RUN_UP_HISTORY) return undefined;
  const baseline = median(Array.prototype.slice.call(values, from, from + Math.ceil((first - from) / 2)) as number[]);
  if (baseline === null || baseline <= 0) return undefined;
  let index = first;
  while (index > from && Number.isFinite(values[index - 1]) && values[index - 1] >= RUN_UP_FACTOR * baseline) index--;
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
