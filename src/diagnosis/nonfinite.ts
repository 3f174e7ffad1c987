import type { Context } from './context';
import { hints } from './hints';
import { formatNumber, formatPercent } from './stats';
import type { Finding, Hint } from './types';
import { indexOfStep, valueAt } from './view';
import { extentOf, tallyOf, type Series } from '../logs/run';
import { firstMover } from './first-mover';

/** The first NaN or infinity in the norms, the loss or any parameter, and which parameters went first. */
export function nonFiniteFindings(context: Context): Finding[] {
  const { view, skips } = context;
  const { steps, values } = view.norms;
  const badSteps: number[] = [];
  for (let i = 0; i < steps.length; i++) if (!Number.isFinite(values[i])) badSteps.push(steps[i]);
  const lossBad: number[] = [];
  if (view.loss) for (let i = 0; i < view.loss.steps.length; i++) if (!Number.isFinite(view.loss.values[i])) lossBad.push(view.loss.steps[i]);
  const paramFirst = view.parameters
    .map((p) => {
      const index = p.series.values.findIndex((v) => !Number.isFinite(v));
      return { name: p.name, step: index < 0 ? Infinity : p.series.steps[index], value: index < 0 ? 0 : p.series.values[index] };
    })
    .filter((p) => p.step !== Infinity && !skips.has(p.step));

  const realBad = [...new Set([...badSteps, ...lossBad])].filter((step) => !skips.has(step)).sort((a, b) => a - b);
  const findings: Finding[] = [];
  const skipped = [...skips].filter((step) => badSteps.includes(step) || view.run.events.some((e) => e.step === step)).sort((a, b) => a - b);
  if (skipped.length > 0) findings.push(skipFinding(context, skipped));
  const firstParam = Math.min(...paramFirst.map((p) => p.step));
  const first = Math.min(realBad[0] ?? Infinity, firstParam);
  if (first === Infinity) return findings;

  const firstParams = paramFirst.filter((p) => p.step === first);
  const inNorm = badSteps.includes(first);
  const { buckets } = view.run;
  const normAt = valueAt(view.norms, first, buckets);
  const lossAt = view.loss ? valueAt(view.loss, first, buckets) : undefined;
  let lastFinite: { step: number; norm: number } | undefined;
  for (let i = 0; i < steps.length && steps[i] < first; i++) if (Number.isFinite(values[i])) lastFinite = { step: steps[i], norm: values[i] };
  const lossFirstBad = lossBad.find((step) => !skips.has(step));
  const total = Math.max(steps.length > 0 ? view.normsExtent().count : 0, view.loss ? extentOf(view.loss).count : 0);
  // A summarised run keeps a point per bucket of steps; its tallies count every step (skips aside).
  const nonFiniteCount = (series: Pick<Series, 'steps' | 'values' | 'tally'>) => {
    const { nan, inf } = tallyOf(series);
    return nan + inf;
  };
  const badCount = view.run.buckets
    ? Math.max(realBad.length, nonFiniteCount(view.norms) - skipped.length, (view.loss ? nonFiniteCount(view.loss) : 0) - skipped.length)
    : realBad.length;
  const recovered = steps.length > 0 && Number.isFinite(values[steps.length - 1]) && (!view.loss || Number.isFinite(view.loss.values[view.loss.values.length - 1]));

  const what: string[] = [];
  if (inNorm && normAt !== undefined) what.push(`the total gradient norm is ${formatNumber(normAt)}`);
  if (firstParams.length > 0) {
    const names = firstParams.map((p) => p.name);
    what.push(`${names.length === view.parameters.length ? 'every parameter\'s gradient' : `the gradient of ${listNames(names)}`} is ${sameValue(firstParams.map((p) => p.value))}${names.length < view.parameters.length ? ` (${names.length} of ${view.parameters.length} parameters)` : ''}`);
  }
  if (lossAt !== undefined && !Number.isFinite(lossAt)) what.push(`the loss is ${formatNumber(lossAt)}`);
  let message = `Training produced non-finite values at step ${first}: ${what.join('; ') || 'a logged value is not finite'}.`;
  if (lastFinite) message += ` The last finite gradient norm was ${formatNumber(lastFinite.norm)} at step ${lastFinite.step}.`;
  const firstIndex = indexOfStep(steps, first, buckets);
  const mover = firstIndex >= 0 ? firstMover(view, firstIndex) : undefined;
  if (mover && mover.lead > 0) message += ` ${mover.name} moved first: it left its normal band at step ${mover.step}, ${mover.lead} step${mover.lead === 1 ? '' : 's'} before the total norm did (step ${mover.totalStep}).`;
  if (lossFirstBad !== undefined && lossFirstBad > first) message += ` The loss followed at step ${lossFirstBad}.`;
  if (lossFirstBad !== undefined && lossFirstBad < first && !inNorm) message += ' The loss went first: look at the data and the loss computation as well as the gradients.';
  message += recovered
    ? ` ${badCount} step${badCount === 1 ? '' : 's'} had non-finite values; the run recovered afterwards.`
    : ` From then on ${badCount} of ${total} steps (${formatPercent(badCount / Math.max(1, total))}) are non-finite: training never recovered, and every update after step ${first} wrote NaN into the weights.`;

  const advice: Hint[] = [];
  advice.push(...hints.clipping(context));
  if (view.recurrent) advice.push(hints.orthogonalInit());
  advice.push(hints.lowerLr(context, view.lr ? valueAt(view.lr, first, buckets) : undefined));
  if (lossFirstBad !== undefined && lossFirstBad <= first && context.exploding.indexes.length === 0) advice.push(hints.checkData(lossFirstBad));
  advice.push(...hints.unscaleBeforeClipping(context));
  if (view.parameters.length === 0) advice.push(hints.logGradients(context));

  findings.push({
    kind: 'nonfinite',
    severity: 'error',
    step: first,
    endStep: realBad[realBad.length - 1] ?? first,
    layers: firstParams.map((p) => p.name),
    message,
    evidence: {
      firstNonFiniteStep: first,
      lastFiniteNorm: lastFinite?.norm ?? null,
      lastFiniteStep: lastFinite?.step ?? null,
      nonFiniteSteps: badCount,
      firstLossNonFiniteStep: lossFirstBad ?? null,
      recovered: recovered ? 'yes' : 'no',
      firstMover: mover && mover.lead > 0 ? mover.name : null,
      firstMoverLead: mover && mover.lead > 0 ? mover.lead : null,
    },
    hints: advice,
  });
  return findings;
}

/**
 * How many steps the scaler skipped: one per announcement (several can fall
 * between two logged steps), or the log's own running count (DeepSpeed's
 * `skipped=`) when that says more.
 */
function skipCount(context: Context, skipped: number[]): number {
  const { view } = context;
  const announced = view.run.events.filter((e) => e.kind === 'overflow-skip').length;
  const total = view.skippedTotal;
  const counted = total && total.values.length > 0 ? total.values[total.values.length - 1] : 0;
  return Math.max(skipped.length, announced, Number.isFinite(counted) ? counted : 0);
}

function skipFinding(context: Context, skipped: number[]): Finding {
  const { view } = context;
  const count = skipCount(context, skipped);
  // Against the steps the log covers, whatever it logged them with: a log without gradient norms still has its step lines.
  const steps = Math.max(view.stepsCovered(), count);
  const tail = view.norms.steps.length > 0 ? view.norms.steps[view.norms.steps.length - 1] : skipped[skipped.length - 1];
  let consecutiveAtEnd = 0;
  for (let i = view.norms.steps.length - 1; i >= 0 && context.skips.has(view.norms.steps[i]); i--) consecutiveAtEnd++;
  const fraction = count / Math.max(steps, 1);
  const persistent = consecutiveAtEnd >= 5 || fraction > 0.2;
  const of = `${count} of ${steps} steps`;
  const message = persistent
    ? `The fp16 loss scaler skipped ${of} (${formatPercent(fraction)}, from step ${skipped[0]}${consecutiveAtEnd >= 5 ? `, and every one of the last ${consecutiveAtEnd}` : ''}): the gradients overflow even at a reduced loss scale, so the model stopped learning. This is no longer the scaler's normal search for a scale.`
    : `The fp16 loss scaler skipped ${count === 1 ? `1 of ${steps} steps` : of} (${formatPercent(fraction)}; first at step ${skipped[0]}, last at ${skipped[skipped.length - 1]}): each time the gradient overflowed, the update was not applied and the loss scale was lowered. This is the scaler's normal behaviour, not an explosion.`;
  return {
    kind: 'nonfinite',
    severity: persistent ? 'error' : 'info',
    step: skipped[0],
    endStep: persistent ? tail : skipped[skipped.length - 1],
    layers: [],
    message,
    evidence: { skippedSteps: count, skippedFraction: fraction, consecutiveAtEnd },
    hints: [hints.lossScaler()],
  };
}

function sameValue(values: number[]): string {
  const labels = [...new Set(values.map((v) => formatNumber(v)))];
  return labels.length === 1 ? labels[0] : 'non-finite';
}

/** "a, b and 3 more" */
export function listNames(names: string[], limit = 4): string {
  if (names.length <= limit) return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}
