import { spectralReading } from '../engine/instruments';
import { DEFAULT_CONFIG, Trainer, type TrainConfig } from '../engine/trainer';
import type { PlaygroundParams, ProfileResult } from '../protocol/playground';
import { clipVector, cosine, norm } from './clip';

/**
 * The vanilla RNN whose backward pass the profile shows: orthogonal W_hh
 * scaled to radius γ, so that without an activation every step back in time
 * multiplies ‖∂L/∂h_t‖ by exactly γ (the `regimes` preset's network).
 * float64, so that γ^T stays exact where float32 would round; small (16
 * units, batch 4) so that a slider move costs milliseconds.
 */
export function profileConfig(p: Pick<PlaygroundParams, 'radius' | 'seqLen' | 'nonlinearity'>): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    model: 'rnn', inputSize: 4, hiddenSize: 16, layers: 1, seqLen: p.seqLen, batch: 4, task: 'memory',
    init: 'orthogonal', radius: p.radius, nonlinearity: p.nonlinearity,
    optimizer: 'sgd', lr: 0.01, clip: { mode: 'none' }, steps: 1, seed: 0, dtype: 'float64', instrumentEvery: 1, kernel: 'plain',
  };
}

/** One training step of the engine, read for its backward profile and for what clipping at τ does to its gradient. */
export function computeProfile(p: PlaygroundParams): ProfileResult {
  const trainer = new Trainer(profileConfig(p));
  // Read before the step: the update changes W_hh (the step's own reading comes after it).
  const measuredRadius = spectralReading(trainer.model.recurrentWeights()[0]).radius[0];
  const record = trainer.step(); // unclipped: the raw gradient stays in the parameters' grad buffers
  const profile = Float64Array.from(record.hidden_grad_norms!['rnn.l0']);
  const T = profile.length;
  const envelope = profile.map((_, t) => profile[T - 1] * p.radius ** (T - 1 - t));

  // Every parameter's gradient as one vector, the way clipping sees it.
  const named = trainer.model.parameters();
  const raw = new Float64Array(named.reduce((n, [, t]) => n + t.size, 0));
  const slices: Array<[number, number]> = [];
  for (const [, t] of named) {
    const from = slices.length ? slices[slices.length - 1][1] : 0;
    raw.set(t.grad!, from);
    slices.push([from, from + t.size]);
  }
  const clipped = clipVector(raw, p.mode, p.threshold);

  return {
    hiddenGradNorms: profile,
    envelope,
    measuredRadius,
    clip: { mode: p.mode, threshold: p.threshold, normBefore: norm(raw), normAfter: norm(clipped), cosine: cosine(clipped, raw) },
    parameters: named.map(([name], k) => ({ name, before: norm(raw.subarray(...slices[k])), after: norm(clipped.subarray(...slices[k])) })),
  };
}
