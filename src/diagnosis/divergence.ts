import type { Context } from './context';
import { hints } from './hints';
import { formatNumber, median } from './stats';
import type { Finding, Hint } from './types';
import { seriesOfRole } from '../logs/run';

/**
 * The loss counts as diverged when it ends this many times its own scale
 * away from where it started: above for any loss (2.3 → 4.6 and more), and
 * below for a loss that falls through its scale (a cross-entropy gone
 * negative, −3.4e4 → −6.5e7), which a bounded loss cannot do.
 */
const DIVERGED = 1;
/** This many times the scale is an error rather than a warning (a positive loss ending at 10× its start). */
const DIVERGED_FAR = 9;
/** A weight norm that grows this much over the run is growing without bound. */
const WEIGHT_GROWTH = 10;

function windowMedian(values: ArrayLike<number>, from: number, to: number): number | null {
  return median(Array.prototype.slice.call(values, from, to) as number[]);
}

/** A loss that ends far from where it started, relative to its scale, and weights that keep growing. */
export function divergenceFindings(context: Context): Finding[] {
  const { view } = context;
  const findings: Finding[] = [];
  const loss = view.loss;
  if (loss && loss.values.length >= 20) {
    const n = loss.values.length;
    const edge = Math.max(5, Math.floor(n / 10));
    // The first few steps, before any explosion has had time to move the loss.
    const start = windowMedian(loss.values, 0, Math.min(edge, 5));
    const end = windowMedian(loss.values, n - edge, n);
    // The loss's own scale: its size at the start (a loss that starts at 0 has none to measure against).
    const scale = start === null ? 0 : Math.abs(start);
    const moved = start !== null && end !== null && scale > 0 ? (end - start) / scale : 0;
    let best: number | null = null;
    for (const value of loss.values) if (Number.isFinite(value) && (best === null || value < best)) best = value;
    // Falling strictly through: a positive loss that reaches 0 has fitted its data, not broken.
    if (start !== null && end !== null && (moved >= DIVERGED || moved < -DIVERGED)) {
      const rose = moved > 0;
      const advice: Hint[] = [];
      advice.push(...hints.clipping(context));
      advice.push(hints.lowerLr(context, view.lr ? view.lr.values[0] : undefined));
      if (view.recurrent) advice.push(hints.orthogonalInit());
      const span = `median of the last ${edge} steps`;
      const message = rose
        ? start > 0
          ? `Training diverged: the loss ends at ${formatNumber(end)} (${span}), ${formatNumber(end / start)}× the ${formatNumber(start)} the first steps had${best !== null ? `, after reaching ${formatNumber(best)}` : ''}.`
          : `Training diverged: the loss ends at ${formatNumber(end)} (${span}), ${formatNumber(end - start)} above the ${formatNumber(start)} the first steps had, ${formatNumber(moved)}× the size of its start.`
        : `The loss fell without bound: it ends at ${formatNumber(end)} (${span}), ${formatNumber(-moved)}× the size of the ${formatNumber(start)} the first steps had below it. A loss that keeps falling through its own scale is broken (its sign, its reduction, or a term with no lower bound) rather than learning.`;
      findings.push({
        kind: 'divergence',
        severity: Math.abs(moved) >= DIVERGED_FAR ? 'error' : 'warning',
        step: loss.steps[n - edge],
        endStep: loss.steps[n - 1],
        layers: [],
        message,
        evidence: { startLoss: start, endLoss: end, bestLoss: best, change: moved },
        hints: advice,
      });
    }
  }
  const growing: { name: string; growth: number }[] = [];
  for (const series of seriesOfRole(view.run, 'weightNorm')) {
    const n = series.values.length;
    if (n < 20) continue;
    const edge = Math.max(3, Math.floor(n / 10));
    const start = windowMedian(series.values, 0, edge);
    const end = windowMedian(series.values, n - edge, n);
    if (start !== null && end !== null && start > 0 && end >= WEIGHT_GROWTH * start) growing.push({ name: series.param ?? series.tag, growth: end / start });
  }
  if (growing.length > 0) {
    growing.sort((a, b) => b.growth - a.growth);
    findings.push({
      kind: 'divergence',
      severity: 'warning',
      step: view.norms.steps[0] ?? 0,
      endStep: view.norms.steps[view.norms.steps.length - 1] ?? 0,
      layers: growing.map((g) => g.name),
      message: `Weights are growing without bound: the norm of ${growing[0].name} grew ${formatNumber(growing[0].growth)}× over the run${growing.length > 1 ? `, and ${growing.length - 1} more parameters grew over ${WEIGHT_GROWTH}×` : ''}.`,
      evidence: { largestGrowth: growing[0].growth },
      hints: [hints.lowerLr(context, undefined), ...(growing.some((g) => /weight_hh/.test(g.name)) ? [hints.spectralNorm()] : [])],
    });
  }
  return findings;
}
