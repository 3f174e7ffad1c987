import type { Context } from './context';
import { sharesAt, type Episode } from './episodes';
import { firstMover, type FirstMover } from './first-mover';
import { clipName, hints } from './hints';
import { formatNumber, formatPercent, median } from './stats';
import { SEVERITY_RANK, type Finding, type Hint } from './types';
import { valueAt } from './view';

/** Explosion findings listed at most. */
const MAX_EPISODES = 10;
/** An episode this short, clipped, with no loss jump, is a contained blip. */
const BLIP_STEPS = 2;

/** Parameters that carry at least this share of the squared norm are named as where the explosion is. */
const NAMED_SHARE = 0.1;

/**
 * One finding per explosion episode: where it starts (the step a language
 * server marks), how far it goes, where the norm sits, which parameter moved
 * first, and whether clipping contained it.
 */
export function explosionFindings(context: Context): Finding[] {
  const { episodes } = context.exploding;
  const findings = episodes.map((episode, k) => episodeFinding(context, episode, k > 0 ? episodes[k - 1].indexes.at(-1)! + 1 : 0));
  if (findings.length <= MAX_EPISODES) return findings;
  // The worst episodes, in step order; the ledger and the chart show the rest.
  const kept = new Set([...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || Number(b.evidence.peakNorm) - Number(a.evidence.peakNorm)).slice(0, MAX_EPISODES));
  return findings.filter((f) => kept.has(f));
}

function episodeFinding(context: Context, episode: Episode, after: number): Finding {
  const { view, options, clipping } = context;
  const { steps, values } = view.norms;
  const indexes = episode.indexes;
  const firstIndex = indexes[0];
  const first = steps[firstIndex];
  const last = steps[indexes[indexes.length - 1]];
  let peakIndex = firstIndex;
  for (const i of indexes) if (values[i] > values[peakIndex]) peakIndex = i;
  const peak = values[peakIndex];
  const peakStep = steps[peakIndex];

  const significant = (shares: ReturnType<typeof sharesAt>) => shares.filter((p, i) => i === 0 || p.share >= NAMED_SHARE);
  const atFirst = significant(sharesAt(view, firstIndex));
  const atPeak = peakIndex === firstIndex ? [] : significant(sharesAt(view, peakIndex));
  const layers = [...new Set([...atFirst, ...atPeak].map((p) => p.name))];
  const describe = (shares: typeof atFirst) => shares.map((p) => `${p.name} (${formatPercent(p.share)})`).join(', ');

  const parts: string[] = [];
  const growth = context.exploding.growth.get(firstIndex);
  const firstNorm = values[firstIndex];
  const onset = episode.onset;
  parts.push(
    onset
      ? `The gradient norm began to explode at step ${first}: ${formatNumber(firstNorm)}, ${formatNumber(firstNorm / onset.baseline)}× the ${formatNumber(onset.baseline)} typical of the steps before.`
      : growth
      ? `The gradient norm exploded at step ${first}: ${formatNumber(firstNorm)}, ${formatNumber(firstNorm / growth.from)}× the ${formatNumber(growth.from)} of step ${growth.fromStep}.`
      : `The gradient norm exploded at step ${first}: ${formatNumber(firstNorm)}, over the ${firstNorm >= options.alertThreshold ? 'alert' : 'warning'} threshold of ${formatNumber(firstNorm >= options.alertThreshold ? options.alertThreshold : options.warnThreshold)}.`,
  );
  if (indexes.length > 1) parts.push(`${view.stepsText(indexes.length)} between ${first} and ${last} exploded; the largest norm was ${formatNumber(peak)} at step ${peakStep}.`);
  if (atFirst.length > 0) parts.push(`At step ${first} it sits in ${describe(atFirst)}${atPeak.length > 0 ? `; at step ${peakStep}, in ${describe(atPeak)}` : ''}.`);
  const mover = firstMover(view, firstIndex, after);
  if (mover && mover.lead > 0) parts.push(`${mover.name} moved first: it left its normal band at step ${mover.step}, ${mover.lead} step${mover.lead === 1 ? '' : 's'} before the total norm did (step ${mover.totalStep}).`);
  const lossJump = lossAfter(context, firstIndex);
  const recovered = indexes.length <= BLIP_STEPS ? recoveredAfter(context, indexes[indexes.length - 1]) : undefined;
  if (lossJump) parts.push(`The loss jumped to ${formatNumber(lossJump.loss)} at step ${lossJump.step}, from a median of ${formatNumber(lossJump.baseline)} before.`);
  const flaggedClipped = view.clipped !== undefined && valueAt(view.clipped, first, view.run.buckets) === 1;
  // Clipping contained the explosion only where it bit: a threshold above the exploding norms let them through.
  const contained = clipping.mode !== 'value' && (flaggedClipped || (clipping.mode === 'norm' && clipping.threshold !== undefined && firstNorm > clipping.threshold));
  if (contained) {
    const by = clipping.source === 'default' ? ` (${clipName(context.writer)}, the default)` : clipping.source === 'config' ? ' (as the configuration states)' : '';
    const still = lossJump && recovered === undefined ? ', yet the loss still jumped: the clipped step times the learning rate is still too large' : '';
    parts.push(`Norm clipping${clipping.threshold !== undefined ? ` at ${formatNumber(clipping.threshold)}${by}` : ''} rescaled these steps before the update${still}.`);
  }
  if (recovered !== undefined) {
    parts.push(
      `It recovered: the norm was back below the warning threshold at the next step and the loss back at its level within ${recovered} step${recovered === 1 ? '' : 's'}, a fast spike rather than damage (a step's own loss comes from its batch, before the update).`,
    );
  }

  const severe = peak >= options.alertThreshold || growth !== undefined;
  const severity = recovered !== undefined ? 'info' : contained ? (lossJump || indexes.length > BLIP_STEPS ? 'warning' : 'info') : severe ? 'error' : 'warning';
  if (recovered !== undefined) {
    return episodeOf(context, { first, last, layers, message: parts.join(' '), severity, firstNorm, peak, peakStep, indexes, growth, contained, lossJump, mover }, [
      ...hints.clipping(context),
      hints.checkData(first),
    ]);
  }
  const advice: Hint[] = [...hints.clipping(context)];
  if (view.recurrent || layers.some((name) => view.isRecurrentParameter(name))) {
    advice.push(hints.orthogonalInit(), hints.truncatedBptt());
    if (layers.some((name) => /weight_hh/.test(name))) advice.push(hints.spectralNorm());
  } else if (view.parameters.filter((p) => /weight/.test(p.name)).length >= 8) advice.push(hints.residualConnections());
  advice.push(hints.lowerLr(context, view.lr ? valueAt(view.lr, first, view.run.buckets) : undefined));
  const early = first <= Math.max(10, (steps[steps.length - 1] - steps[0]) * 0.02);
  if (early || (context.warmup && first - steps[0] <= context.warmup.steps)) advice.push(hints.lrWarmup(context));
  advice.push(...hints.unscaleBeforeClipping(context));
  if (view.parameters.length === 0) advice.push(hints.logGradients(context));

  return episodeOf(context, { first, last, layers, message: parts.join(' '), severity, firstNorm, peak, peakStep, indexes, growth, contained, lossJump, mover }, advice);
}

interface EpisodeFacts {
  first: number;
  last: number;
  layers: string[];
  message: string;
  severity: Finding['severity'];
  firstNorm: number;
  peak: number;
  peakStep: number;
  indexes: number[];
  growth?: { from: number; fromStep: number };
  contained: boolean;
  lossJump?: { loss: number };
  mover?: FirstMover;
}

function episodeOf(context: Context, facts: EpisodeFacts, advice: Hint[]): Finding {
  const { mover, layers, growth } = facts;
  return {
    kind: 'explosion',
    severity: facts.severity,
    step: facts.first,
    endStep: facts.last,
    layers: mover && mover.lead > 0 && !layers.includes(mover.name) ? [...layers, mover.name] : layers,
    message: facts.message,
    evidence: {
      firstNorm: facts.firstNorm,
      peakNorm: facts.peak,
      peakStep: facts.peakStep,
      explodingSteps: facts.indexes.length,
      growthFrom: growth?.from ?? null,
      growthFromStep: growth?.fromStep ?? null,
      clipThreshold: facts.contained ? (context.clipping.threshold ?? null) : null,
      lossAfter: facts.lossJump?.loss ?? null,
      firstMover: mover?.name ?? null,
      firstMoverLead: mover?.lead ?? null,
    },
    hints: advice,
  };
}

/** Steps after a short episode the norm and the loss must be back to normal within, for it to count as a fast spike. */
const FAST_RECOVERY = 10;

/**
 * Steps after the episode's last index until the loss is back within 1.5× its
 * median before the episode, when the norm is back below the warning
 * threshold at the next step and stays finite: undefined when it did not recover fast.
 */
function recoveredAfter(context: Context, lastIndex: number): number | undefined {
  const { view, options } = context;
  const { steps, values } = view.norms;
  const next = Array.prototype.slice.call(values, lastIndex + 1, lastIndex + 1 + FAST_RECOVERY) as number[];
  if (next.length === 0 || !(next[0] < options.warnThreshold) || next.some((v) => !Number.isFinite(v))) return undefined;
  const loss = view.loss;
  if (!loss) return 1;
  const at = sortedStep(loss.steps, steps[lastIndex]);
  const before = median(Array.prototype.slice.call(loss.values, Math.max(0, at - 50), at) as number[]);
  if (before === null) return undefined;
  for (let i = at + 1; i < loss.steps.length && view.key(loss.steps[i]) - view.key(steps[lastIndex]) <= FAST_RECOVERY; i++) {
    if (Number.isFinite(loss.values[i]) && Math.abs(loss.values[i]) <= 1.5 * Math.abs(before)) return loss.steps[i] - steps[lastIndex];
  }
  return undefined;
}

/** The first index of ascending `steps` at or after `step`. */
function sortedStep(steps: ArrayLike<number>, step: number): number {
  let index = 0;
  while (index < steps.length && steps[index] < step) index++;
  return index;
}

/** A loss at least twice its recent median within three steps of a gradient jump: the signature of an explosion that reached the weights. */
export function lossAfter(context: Context, normIndex: number): { step: number; loss: number; baseline: number } | undefined {
  const loss = context.view.loss;
  if (!loss) return undefined;
  const step = context.view.norms.steps[normIndex];
  const index = sortedStep(loss.steps, step);
  const baseline = median(Array.prototype.slice.call(loss.values, Math.max(0, index - 50), index) as number[]);
  if (baseline === null || baseline <= 0) return undefined;
  for (let i = index; i < loss.steps.length && loss.steps[i] <= step + 3; i++) {
    const value = loss.values[i];
    if (Number.isFinite(value) && value >= 2 * baseline) return { step: loss.steps[i], loss: value, baseline };
  }
  return undefined;
}

