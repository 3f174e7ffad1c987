import { median } from './stats';
import { alignedAt, type RunView } from './view';

/** Steps of history a parameter's normal band is measured on (its first half), before the event. */
const HISTORY = 200;
const MIN_HISTORY = 10;
/** Above the band: this many robust deviations (in log10 of the norm) over the median, and at least 2×. */
const BAND_Z = 4;
const BAND_MIN = Math.log10(2);

export interface FirstMover {
  name: string;
  /** The step the parameter left its band and stayed out until the event. */
  step: number;
  /** The step the total norm did the same. */
  totalStep: number;
  /** totalStep − step: how many steps the parameter led the total. */
  lead: number;
}

/**
 * Where a series (its value at each index of the total norms; NaN where it
 * was not logged) left its normal band for good before index `event`: the
 * start of the unbroken run above the band that ends at it.
 */
function departure(at: (i: number) => number, from: number, event: number): number | undefined {
  const logs: number[] = [];
  for (let i = from; i < from + Math.floor((event - from) / 2); i++) {
    const v = at(i);
    if (Number.isFinite(v) && v > 0) logs.push(Math.log10(v));
  }
  const mid = median(logs);
  if (mid === null || logs.length < MIN_HISTORY / 2) return undefined;
  const mad = median(logs.map((v) => Math.abs(v - mid))) ?? 0;
  const upper = mid + Math.max(BAND_Z * 1.4826 * mad, BAND_MIN);
  const outside = (i: number) => {
    const v = at(i);
    return !Number.isFinite(v) || (v > 0 && Math.log10(v) > upper);
  };
  if (!outside(event)) return undefined;
  let j = event;
  while (j > from && outside(j - 1)) j--;
  return j;
}

/**
 * Before an explosion or the first non-finite value (index `event` of the
 * total norms), which parameter left its own normal band first, and by how
 * many steps it led the total. Needs per-parameter norms and some history.
 */
export function firstMover(view: RunView, event: number, after = 0): FirstMover | undefined {
  if (view.parameters.length < 2) return undefined;
  const from = Math.max(after, event - HISTORY);
  if (event - from < MIN_HISTORY) return undefined;
  const steps = view.norms.steps;
  const aligned = view.aligned();
  let best: { name: string; index: number } | undefined;
  view.parameters.forEach((p, k) => {
    const norms = aligned[k];
    const index = departure((i) => alignedAt(norms, i) ?? NaN, from, event);
    if (index !== undefined && (!best || index < best.index)) best = { name: p.name, index };
  });
  if (!best) return undefined;
  const total = departure((i) => view.norms.values[i], from, event) ?? event;
  return { name: best.name, step: steps[best.index], totalStep: steps[total], lead: steps[total] - steps[best.index] };
}
