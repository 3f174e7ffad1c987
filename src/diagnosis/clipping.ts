import type { Context } from './context';
import { clipName, hints } from './hints';
import { formatNumber, formatPercent, median } from './stats';
import type { Finding } from './types';

/** Clipped on more than this share of steps, the threshold is below the typical norm. */
const MOSTLY_CLIPPED = 0.5;

/** What the share of clipped steps says about the threshold, and value clipping's turned directions. */
export function clippingFindings(context: Context): Finding[] {
  const { view, clipping, advice } = context;
  const steps = view.norms.steps;
  const finding = (message: string, evidence: Finding['evidence'], advise: Finding['hints']): Finding => ({
    kind: 'clipping',
    severity: 'info',
    step: steps.length > 0 ? steps[0] : 0,
    endStep: steps.length > 0 ? steps[steps.length - 1] : 0,
    layers: [],
    message,
    evidence,
    hints: advise,
  });
  if (clipping.mode === 'value') {
    return [
      finding(
        `Gradients are clipped by value at ${formatNumber(clipping.threshold ?? null)}: each component is cut separately, which turns the gradient's direction whenever it bites.`,
        { clipValue: clipping.threshold ?? null, clippedFraction: clipping.clippedFraction },
        [hints.preferNormClipping(context)],
      ),
    ];
  }
  const threshold = clipping.threshold;
  const { indexes } = context.exploding;
  const unclipped = indexes.filter((i) => threshold !== undefined && view.norms.values[i] <= threshold);
  if (clipping.mode === 'norm' && threshold !== undefined && unclipped.length > 0) {
    const first = unclipped[0];
    return [
      {
        ...finding(
          `Norm clipping at ${formatNumber(threshold)} let ${view.stepsText(unclipped.length, 'exploding')} through unclipped, from step ${view.norms.steps[first]} (norm ${formatNumber(view.norms.values[first])}): the threshold sits above the norms it should catch${advice.recommended !== null ? ` (the healthy 95th percentile is ${formatNumber(advice.recommended)})` : ''}.`,
          { maxNorm: threshold, unclippedExplodingSteps: unclipped.length, recommended: advice.recommended },
          [hints.lowerClipThreshold(context, threshold)],
        ),
        severity: 'warning',
        step: view.norms.steps[first],
      },
    ];
  }
  if (clipping.clippedFraction === null || clipping.clippedFraction <= MOSTLY_CLIPPED) return [];
  const cut = threshold !== undefined && advice.median !== null ? ` of about ${formatNumber(advice.median / threshold)}×` : '';
  const named = `${threshold !== undefined ? `${clipName(context.writer)} ${formatNumber(threshold)}, ` : ''}median norm ${formatNumber(advice.median)}`;
  const episodes = context.exploding.episodes.length;
  // Under a run that explodes or gets worse, the clip is what holds it together: raising it would let the explosions through.
  if (episodes > 0 || lossRises(context)) {
    return [
      finding(
        `Clipping is active on ${formatPercent(clipping.clippedFraction)} of steps (${named}), and the norms before clipping are unstable` +
          `${episodes > 0 ? ` (${episodes} explosion episode${episodes === 1 ? '' : 's'})` : ''}${lossRises(context) ? ', while the loss rises' : ''}: the clip hides an unstable run rather than guarding against rare spikes. ` +
          'Raising the threshold would let the explosions through; fix what makes the norm large instead.',
        { clippedFraction: clipping.clippedFraction, maxNorm: threshold ?? null, medianNorm: advice.median, explosionEpisodes: episodes },
        [hints.lowerLr(context, undefined), ...(context.view.recurrent ? [hints.orthogonalInit(), hints.truncatedBptt()] : [])],
      ),
    ];
  }
  return [
    finding(
      `Clipping is active on ${formatPercent(clipping.clippedFraction)} of steps (${named}): ` +
        `nearly every update is rescaled, so clipping works as a learning-rate cut${cut} rather than as a guard against rare explosions.`,
      { clippedFraction: clipping.clippedFraction, maxNorm: threshold ?? null, medianNorm: advice.median },
      [hints.raiseClipThreshold(context, threshold)],
    ),
  ];
}

/** The loss's last tenth above its first tenth (medians). */
function lossRises(context: Context): boolean {
  const loss = context.view.loss;
  if (!loss || loss.values.length < 20) return false;
  const edge = Math.max(5, Math.floor(loss.values.length / 10));
  const start = median(loss.values.subarray(0, edge));
  const end = median(loss.values.subarray(loss.values.length - edge));
  return start !== null && end !== null && end > start;
}
