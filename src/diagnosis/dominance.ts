import type { Context } from './context';
import { alignedIndex } from './view';
import { hints } from './hints';
import { formatPercent, median } from './stats';
import type { Finding } from './types';

/** A parameter with this share of the squared norm on a typical step dominates it. */
const DOMINANT_SHARE = 0.8;
const MIN_STEPS = 20;

/** One parameter carrying most of the gradient norm: where to look first, and what the total norm really measures. */
export function dominanceFindings(context: Context): Finding[] {
  const { view } = context;
  if (view.parameters.length < 3) return [];
  const { steps, values } = view.norms;
  // Measured on the healthy steps before the first explosion: afterwards, dead layers make any survivor "dominant".
  const firstNonFinite = values.findIndex((v) => !Number.isFinite(v));
  const healthy = Math.min(context.exploding.indexes[0] ?? steps.length, firstNonFinite < 0 ? steps.length : firstNonFinite);
  if (healthy < MIN_STEPS) return [];
  const aligned = view.aligned();
  // The squared total of each healthy step, then each parameter's share of it, walking only the points logged.
  const totals = new Float64Array(healthy);
  const counted = (i: number, norm: number): boolean => i < healthy && Number.isFinite(values[i]) && values[i] > 0 && Number.isFinite(norm);
  for (const norms of aligned) {
    for (let j = 0; j < norms.values.length; j++) {
      const i = alignedIndex(norms, j);
      if (counted(i, norms.values[j])) totals[i] += norms.values[j] * norms.values[j];
    }
  }
  const shares = aligned.map((norms) => {
    const list: number[] = [];
    for (let j = 0; j < norms.values.length; j++) {
      const i = alignedIndex(norms, j);
      if (counted(i, norms.values[j]) && totals[i] > 0) list.push((norms.values[j] * norms.values[j]) / totals[i]);
    }
    return list;
  });
  let top: { name: string; share: number } | undefined;
  shares.forEach((list, k) => {
    const typical = median(list);
    if (typical !== null && (!top || typical > top.share)) top = { name: view.parameters[k].name, share: typical };
  });
  if (!top || top.share < DOMINANT_SHARE) return [];
  const recurrentWeight = /weight_hh/.test(top.name);
  return [
    {
      kind: 'dominance',
      severity: recurrentWeight && context.exploding.indexes.length > 0 ? 'warning' : 'info',
      step: steps[0],
      endStep: steps[healthy - 1],
      layers: [top.name],
      message: `${top.name} carries ${formatPercent(top.share)} of the squared gradient norm on a typical healthy step; the other ${view.parameters.length - 1} parameters share the rest. The total norm, and any clipping on it, is mostly about this one parameter.`,
      evidence: { medianShare: top.share },
      hints: recurrentWeight ? [hints.orthogonalInit(), hints.spectralNorm()] : [],
    },
  ];
}
