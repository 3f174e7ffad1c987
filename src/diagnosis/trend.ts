import type { Context } from './context';
import { hints } from './hints';
import { formatNumber, median } from './stats';
import type { Finding, Hint } from './types';

/** Fewest finite losses a trend is judged on. */
const MIN_LOSSES = 20;
/** A rise this many robust deviations of the two windows is no noise. */
const NOISE_Z = 3;
/** Ends at least this much above its start (as a share of the start's size) to be worth saying... */
const RISE = 0.1;
/** ...and this much to be a warning rather than a note. */
const RISE_WARNING = 0.5;
/** The gradient norm grew this much while the loss stalled. */
const NORM_GROWTH = 3;

function windowStats(values: number[]): { mid: number; spread: number } | undefined {
  const mid = median(values);
  if (mid === null) return undefined;
  return { mid, spread: 1.4826 * (median(values.map((v) => Math.abs(v - mid))) ?? 0) };
}

const finite = (values: ArrayLike<number>, from: number, to: number) => (Array.prototype.slice.call(values, from, to) as number[]).filter(Number.isFinite);

/**
 * The loss's trend, compared window against window rather than value
 * against value: a run that ends clearly above where it started (short of
 * the divergence finding's doubling), or stops improving while the gradient
 * norm grows.
 */
export function lossTrendFindings(context: Context): Finding[] {
  const { view } = context;
  const loss = view.loss;
  if (!loss || loss.values.length < MIN_LOSSES) return [];
  // A loss that goes below zero (an RL objective, a log-likelihood) has no floor to fall towards: its trend says nothing of health.
  if (Array.prototype.some.call(loss.values, (v: number) => v < 0)) return [];
  const n = loss.values.length;
  const edge = Math.max(5, Math.floor(n / 10));
  const start = windowStats(finite(loss.values, 0, edge));
  const end = windowStats(finite(loss.values, n - edge, n));
  if (!start || !end || start.mid === 0) return [];
  const rise = end.mid - start.mid;
  const noise = NOISE_Z * Math.max(start.spread, end.spread) / Math.sqrt(edge);
  const advice = (): Hint[] => [hints.lowerLr(context, view.lr ? view.lr.values[view.lr.values.length - 1] : undefined), ...hints.clipping(context)];
  const share = rise / Math.abs(start.mid);
  if (share >= RISE && rise > noise) {
    return [
      {
        kind: 'loss-trend',
        severity: share >= RISE_WARNING ? 'warning' : 'info',
        step: loss.steps[n - edge],
        endStep: loss.steps[n - 1],
        layers: [],
        message: `The run is getting worse: the loss ends at ${formatNumber(end.mid)} (median of the last ${edge} steps), ${start.mid > 0 ? `${formatNumber(end.mid / start.mid)}× ` : `${formatNumber(rise)} above `}the ${formatNumber(start.mid)} of the first ${edge}, more than its step-to-step noise explains.`,
        evidence: { startLoss: start.mid, endLoss: end.mid, change: share },
        hints: advice(),
      },
    ];
  }
  // Stalled: the last third no better than the middle third, while the norm grew.
  const third = Math.floor(n / 3);
  const middle = windowStats(finite(loss.values, third, 2 * third));
  const last = windowStats(finite(loss.values, 2 * third, n));
  const norms = view.norms;
  if (!middle || !last || norms.values.length < MIN_LOSSES) return [];
  const normThird = Math.floor(norms.values.length / 3);
  const normMiddle = median(finite(norms.values, normThird, 2 * normThird));
  const normLast = median(finite(norms.values, 2 * normThird, norms.values.length));
  const stalled = last.mid >= middle.mid - NOISE_Z * middle.spread / Math.sqrt(third);
  if (!stalled || normMiddle === null || normLast === null || normMiddle <= 0 || normLast < NORM_GROWTH * normMiddle) return [];
  return [
    {
      kind: 'loss-trend',
      severity: 'warning',
      step: loss.steps[2 * third],
      endStep: loss.steps[n - 1],
      layers: [],
      message: `The loss stopped improving (median ${formatNumber(last.mid)} over the last third of the run, ${formatNumber(middle.mid)} over the middle third) while the gradient norm grew ${formatNumber(normLast / normMiddle)}× (median ${formatNumber(normMiddle)} → ${formatNumber(normLast)}): the run is heading for instability rather than converging.`,
      evidence: { middleLoss: middle.mid, lastLoss: last.mid, normGrowth: normLast / normMiddle },
      hints: advice(),
    },
  ];
}
