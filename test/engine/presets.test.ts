import assert from 'node:assert/strict';
import { findPreset, PRESETS } from '../../src/engine/presets';
import type { StepRecord } from '../../src/engine/record';
import { summarize } from '../../src/engine/summary';
import { Trainer, type TrainConfig } from '../../src/engine/trainer';

function train(config: TrainConfig, steps = config.steps): StepRecord[] {
  const trainer = new Trainer({ ...config, steps });
  return Array.from({ length: steps }, () => trainer.step());
}

const presetConfig = (name: string, run = 0): TrainConfig => findPreset(name)!.runs[run].config;

describe('presets do what they claim', () => {
  it('every preset builds and takes a step with finite numbers at step 0', () => {
    for (const preset of PRESETS) {
      for (const { id, config } of preset.runs) {
        const [record] = train(config, 1);
        assert.ok(Number.isFinite(record.loss), `${preset.name}/${id}: loss ${record.loss}`);
        assert.ok(Object.keys(record.layers).length > 0, `${preset.name}/${id}: per-parameter norms`);
      }
    }
  });

  it('rnn-exploding: the pre-clip gradient norm passes 1e3 and the run ends in NaN, while rnn-clipped keeps learning', () => {
    const exploding = summarize(train(presetConfig('rnn-exploding')));
    const clipped = summarize(train(presetConfig('rnn-clipped')));
    assert.ok(exploding.maxGradNorm > 1e3, `max norm ${exploding.maxGradNorm}`);
    assert.notEqual(exploding.firstNonFiniteStep, null);
    assert.equal(clipped.firstNonFiniteStep, null);
    assert.ok(clipped.lastLoss < clipped.firstLoss, `clipped loss ${clipped.firstLoss} → ${clipped.lastLoss}`);
    // NaN compares false with everything: the clipped run ends lower than a NaN loss in the only meaningful sense.
    assert.ok(!(exploding.lastLoss <= clipped.lastLoss));
    assert.ok(clipped.clippedFraction > 0.5, `clipped fraction ${clipped.clippedFraction}`);
  });

  it('rnn-exploding: the recurrent weight’s spectral radius starts at 1.5 and grows as the run blows up', () => {
    const records = train(presetConfig('rnn-exploding'), 40);
    const radius = (r: StepRecord): number => r.spectral!['rnn.weight_hh_l0'].radius[0];
    assert.ok(Math.abs(radius(records[0]) - 1.5) < 0.1, `initial radius ${radius(records[0])}`);
    assert.ok(radius(records[30]) > 10, `radius at step 30: ${radius(records[30])}`);
  });

  it('regimes: ‖∂L/∂h_0‖ / ‖∂L/∂h_T‖ is ρ^(T−1): vanishing at 0.9, stable at 1.0, exploding at 1.1', () => {
    const growth = findPreset('regimes')!.runs.map(({ config }) => summarize(train(config, 1)).backwardGrowth!);
    const T = presetConfig('regimes').seqLen;
    [0.9, 1.0, 1.1].forEach((rho, i) => {
      const expected = rho ** (T - 1);
      assert.ok(Math.abs(Math.log(growth[i] / expected)) < 0.01, `ρ=${rho}: growth ${growth[i]}, expected ${expected}`);
    });
  });

  it('deep-mlp: 24 layers with a large init blow the gradient up past 1e6 at the first step', () => {
    const [first] = train(presetConfig('deep-mlp'), 1);
    assert.ok(first.grad_norm > 1e6, `grad norm ${first.grad_norm}`);
    // A bias gradient is the layer's δ: it grows through depth, from the last layer back to the first.
    assert.ok(first.layers['0.bias'] > 1e4 * first.layers['46.bias'], JSON.stringify(first.layers));
  });

  it('lstm-long: gated cells with clipping train stably on T=100', () => {
    const s = summarize(train(presetConfig('lstm-long')));
    assert.equal(s.firstNonFiniteStep, null);
    assert.ok(s.maxGradNorm < 100, `max norm ${s.maxGradNorm}`);
  });
});

describe('trainer', () => {
  const small: TrainConfig = { ...presetConfig('rnn-clipped'), hiddenSize: 8, seqLen: 10, batch: 4, steps: 5 };

  it('same seed, same numbers; another seed, other numbers', () => {
    const a = train(small);
    const b = train(small);
    const c = train({ ...small, seed: 1 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map((r) => r.loss), c.map((r) => r.loss));
  });

  it('records NaN and Inf as data and keeps going', () => {
    const records = train({ ...small, clip: { mode: 'none' }, lr: 1e6, steps: 6 });
    assert.equal(records.length, 6);
    const bad = records.find((r) => !Number.isFinite(r.grad_norm));
    assert.ok(bad, 'expected a non-finite gradient norm');
    assert.ok(bad.nonfinite.length > 0);
  });

  it('norm clipping records the norm before clipping and whether it clipped', () => {
    const [r] = train({ ...small, clip: { mode: 'norm', maxNorm: 1e-3 } }, 1);
    assert.ok(r.grad_norm > 1e-3);
    assert.equal(r.clipped, true);
    assert.equal(r.max_norm, 1e-3);
  });

  it('runs every model on every task it supports', () => {
    for (const model of ['rnn', 'lstm', 'gru'] as const) {
      for (const task of ['memory', 'sum', 'adding', 'copy', 'binary', 'chars'] as const) {
        const inputSize = task === 'adding' ? 2 : task === 'copy' ? 10 : 3;
        const records = train({ ...small, model, task, inputSize, seqLen: 12, clip: { mode: 'value', value: 0.5 }, tbptt: 4 }, 2);
        assert.ok(records.every((r) => Number.isFinite(r.loss)), `${model}/${task}`);
      }
    }
    const mlp = train({ ...small, model: 'mlp', layers: 3, task: 'binary', tbptt: 0, residual: true }, 2);
    assert.ok(mlp.every((r) => Number.isFinite(r.loss)));
  });

  it('keeps memory flat over many steps (no allocation per step)', () => {
    const trainer = new Trainer({ ...small, steps: 3000, instrumentEvery: 0 });
    for (let i = 0; i < 500; i++) trainer.step();
    global.gc!();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2500; i++) trainer.step();
    global.gc!();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over 2500 steps`);
  });
});
