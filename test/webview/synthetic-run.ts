/** A long synthetic run for the dashboard's benchmark and its tests of long and live runs. */
import type { Role } from '../../src/logs/roles';
import type { Run, Series } from '../../src/logs/run';

export const SYNTHETIC_PARAMETERS = ['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'rnn.weight_hh_l1', 'head.weight', 'head.bias'];

/**
 * A long recurrent-network run: norms wander in log space; at 60 % of the
 * run the recurrent weight's gradient grows ×10 every 200 steps for 2,000
 * steps, the next 50 steps are NaN or Inf, then training goes on clipped.
 */
export function syntheticRun(steps: number): Run {
  let seed = 7;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const stepAxis = new Float64Array(steps);
  for (let i = 0; i < steps; i++) stepAxis[i] = i;
  const explosionStart = Math.floor(steps * 0.6);
  const explosionEnd = explosionStart + Math.min(2000, Math.floor(steps / 100));
  const nonFiniteEnd = explosionEnd + 50;
  const layers = SYNTHETIC_PARAMETERS.map(() => new Float64Array(steps));
  const levels = SYNTHETIC_PARAMETERS.map(() => Math.log(0.05 + random()));
  const total = new Float64Array(steps);
  const loss = new Float64Array(steps);
  const lr = new Float64Array(steps);
  const clipped = new Float64Array(steps);
  const maxNorm = new Float64Array(steps).fill(1);
  for (let i = 0; i < steps; i++) {
    let squares = 0;
    for (let p = 0; p < SYNTHETIC_PARAMETERS.length; p++) {
      levels[p] += 0.04 * (random() - 0.5) - 0.0005 * levels[p];
      let norm = Math.exp(levels[p]);
      if (i >= explosionStart && i < explosionEnd && SYNTHETIC_PARAMETERS[p].includes('weight_hh')) norm *= 10 ** ((i - explosionStart) / 200);
      if (i >= explosionEnd && i < nonFiniteEnd) norm = p % 3 === 0 ? Infinity : NaN;
      layers[p][i] = norm;
      squares += norm * norm;
    }
    total[i] = Math.sqrt(squares);
    const progress = i / steps;
    loss[i] = i >= explosionEnd && i < nonFiniteEnd ? NaN : 3 * Math.exp(-3 * progress) + 0.2 + 0.05 * random() + (i >= explosionStart && i < explosionEnd ? 2 : 0);
    lr[i] = 3e-4 * Math.min(1, i / 2000) * (0.5 + 0.5 * Math.cos(Math.PI * progress));
    clipped[i] = total[i] > 1 ? 1 : 0;
  }
  const series = (tag: string, role: Role, values: Float64Array, param?: string): Series => ({ tag, role, ...(param ? { param } : {}), steps: stepAxis, values });
  return {
    id: 'synthetic-1M.jsonl',
    path: '/bench/synthetic-1M.jsonl',
    files: ['/bench/synthetic-1M.jsonl'],
    format: 'jsonl',
    series: [
      series('grad_norm', 'gradNorm', total),
      series('loss', 'loss', loss),
      series('lr', 'lr', lr),
      series('clipped', 'clipped', clipped),
      series('max_norm', 'maxNorm', maxNorm),
      ...SYNTHETIC_PARAMETERS.map((name, p) => series(`layers.${name}`, 'paramGradNorm', layers[p], name)),
    ],
    histograms: [],
    events: [],
    warnings: [],
  };
}


/** The run as a live log showed it when its first `points` steps were written. */
export function runPrefix(run: Run, points: number): Run {
  // Series that shared a step array still share one, as a reader gives them.
  const cut = new Map<Float64Array, Float64Array>();
  const stepsOf = (steps: Float64Array): Float64Array => cut.get(steps) ?? cut.set(steps, steps.slice(0, points)).get(steps)!;
  return { ...run, series: run.series.map((s) => ({ ...s, steps: stepsOf(s.steps), values: s.values.slice(0, points) })) };
}
