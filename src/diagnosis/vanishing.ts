import type { Context } from './context';
import { hints } from './hints';
import { listNames } from './nonfinite';
import { formatNumber, median } from './stats';
import type { Finding, Hint } from './types';
import { alignedIndex, valueAt } from './view';

/** A parameter whose gradient is below this share of the total norm on a typical step barely learns. */
const VANISHING_SHARE = 1e-4;
/** Healthy steps needed before a small share means anything. */
const MIN_SHARE_STEPS = 20;
/** Exact zeros in a row needed needed to call a parameter dead: at least this many steps... */
const MIN_DEAD_STEPS = 5;
/** ...and this share of the run. */
const MIN_DEAD_FRACTION = 0.2;

/**
 * Parameters that stopped learning. An exact 0.0 right after an explosion is
 * saturation (tanh or sigmoid units pinned at ±1, ReLUs all off); a gradient
 * that is a vanishing share of the total norm is the slow kind.
 */
export function vanishingFindings(context: Context): Finding[] {
  const { view } = context;
  const findings: Finding[] = [];
  const dead: { name: string; since: number }[] = [];
  for (const { name, series } of view.parameters) {
    const stretch = longestZeroStretch(series.values);
    // A stretch that runs into the end of the finite data counts even when short of the share: NaN often follows.
    const reachesEnd = stretch.end === lastFiniteIndex(series.values);
    if (stretch.length >= MIN_DEAD_STEPS && (stretch.length >= MIN_DEAD_FRACTION * series.values.length || reachesEnd)) dead.push({ name, since: series.steps[stretch.start] });
  }
  if (dead.length > 0) {
    const since = Math.min(...dead.map((d) => d.since));
    const names = dead.map((d) => d.name);
    const before = [...context.exploding.indexes].map((i) => view.norms.steps[i]).filter((step) => step < since && step >= since - 10);
    const neverLearned = since === view.parameters.find((p) => p.name === names[0])?.series.steps[0];
    const explosionStep = before.length > 0 ? before[before.length - 1] : undefined;
    const explosionNorm = explosionStep !== undefined ? valueAt(view.norms, explosionStep) : undefined;
    const message = neverLearned
      ? `${listNames(names)} never received a gradient: the norm is exactly 0 at every step. If ${names.length === 1 ? 'it is' : 'they are'} not frozen on purpose, ${names.length === 1 ? 'it is' : 'they are'} not on the path from the input to the loss.`
      : explosionStep !== undefined
        ? `${listNames(names)} ${names.length === 1 ? 'has' : 'have'} had a gradient of exactly 0 since step ${since}, right after the explosion at step ${explosionStep} (norm ${formatNumber(explosionNorm ?? NaN)}): the units saturated, and ${names.length === 1 ? 'this parameter no longer learns' : 'these parameters no longer learn'}. Only the rest of the model is still training.`
        : `${listNames(names)} ${names.length === 1 ? 'has' : 'have'} had a gradient of exactly 0 since step ${since}: ${names.length === 1 ? 'it' : 'they'} stopped learning (saturated or dead units).`;
    const advice: Hint[] = [];
    if (explosionStep !== undefined) advice.push(...hints.clipping(context));
    if (view.recurrent) advice.push(hints.orthogonalInit());
    if (!neverLearned) advice.push(hints.lowerLr(context, view.lr ? valueAt(view.lr, since, view.run.buckets) : undefined));
    findings.push({
      kind: 'vanishing',
      severity: neverLearned ? 'info' : explosionStep !== undefined ? 'error' : 'warning',
      step: since,
      endStep: view.norms.steps.length > 0 ? view.norms.steps[view.norms.steps.length - 1] : since,
      layers: names,
      message,
      evidence: { deadParameters: names.length, since, explosionStep: explosionStep ?? null },
      hints: advice,
    });
  }

  const deadNames = new Set(dead.map((d) => d.name));
  const tiny: { name: string; share: number }[] = [];
  const aligned = view.aligned();
  const { values } = view.norms;
  const exploding = new Uint8Array(values.length);
  for (const i of context.exploding.indexes) exploding[i] = 1;
  const shares = new Float64Array(values.length);
  view.parameters.forEach(({ name }, k) => {
    if (deadNames.has(name)) return;
    const norms = aligned[k];
    let count = 0;
    for (let j = 0; j < norms.values.length; j++) {
      const i = alignedIndex(norms, j);
      const norm = norms.values[j];
      if (exploding[i] === 0 && values[i] > 0 && values[i] < Infinity && Number.isFinite(norm)) shares[count++] = norm / values[i];
    }
    if (count < MIN_SHARE_STEPS) return;
    const typical = median(shares.subarray(Math.floor(count / 2), count));
    if (typical !== null && typical > 0 && typical < VANISHING_SHARE) tiny.push({ name, share: typical });
  });
  if (tiny.length > 0) {
    const names = tiny.sort((a, b) => a.share - b.share).map((t) => t.name);
    const advice: Hint[] = [];
    const recurrentNames = names.filter((name) => view.isRecurrentParameter(name));
    if (recurrentNames.length > 0) {
      if (!view.parameters.some((p) => /lstm|gru/i.test(p.name))) advice.push(hints.gatedCells());
      advice.push(hints.orthogonalInit());
    } else advice.push(hints.residualConnections());
    findings.push({
      kind: 'vanishing',
      severity: 'warning',
      step: view.norms.steps[Math.floor(view.norms.steps.length / 2)] ?? 0,
      endStep: view.norms.steps[view.norms.steps.length - 1] ?? 0,
      layers: names,
      message: `The gradient vanishes in ${listNames(names)}: over the second half of the run ${names.length === 1 ? 'its' : 'their'} norm is ${formatNumber(tiny[0].share)}× the total or less, so ${names.length === 1 ? 'it barely learns' : 'they barely learn'}.`,
      evidence: { smallestShare: tiny[0].share },
      hints: advice,
    });
  }
  return findings;
}

function longestZeroStretch(values: ArrayLike<number>): { start: number; end: number; length: number } {
  let best = { start: 0, end: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= values.length; i++) {
    if (i < values.length && values[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, end: i - 1, length: i - start };
      start = -1;
    }
  }
  return best;
}

function lastFiniteIndex(values: ArrayLike<number>): number {
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return i;
  return -1;
}
