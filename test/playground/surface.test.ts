import assert from 'node:assert/strict';
import { Graph } from '../../src/engine/graph';
import { activation } from '../../src/engine/ops/elementwise';
import { linear } from '../../src/engine/ops/linear';
import { mse } from '../../src/engine/ops/loss';
import { Tensor } from '../../src/engine/tensor';
import { lossAndGradient, type ScalarRnn } from '../../src/playground/scalar-rnn';
import { computeSurface, DESCENT, SURFACE_RNN } from '../../src/playground/surface';
import { DEFAULT_PLAYGROUND_PARAMS, type GradientPath, type PlaygroundParams } from '../../src/protocol/playground';

const params = (overrides: Partial<PlaygroundParams>): PlaygroundParams => ({ ...DEFAULT_PLAYGROUND_PARAMS, ...overrides });

function handRolled(rnn: ScalarRnn, w: number, b: number): [number, number, number] {
  const out = new Float64Array(3);
  lossAndGradient(rnn, w, b, new Float64Array(rnn.seqLen + 1), out);
  return [out[0], out[1], out[2]];
}

/** The same network built from the engine's own operations, differentiated by its autograd. */
function engine(rnn: ScalarRnn, w: number, b: number): [number, number, number] {
  const g = new Graph('float64');
  const weight = Tensor.from('float64', [1, 1], [w], true, 'w');
  const bias = Tensor.from('float64', [1], [b], true, 'b');
  let h = Tensor.from('float64', [1, 1], [rnn.h0], false, 'h0');
  for (let t = 0; t < rnn.seqLen; t++) h = activation(g, 'sigmoid', linear(g, h, weight, bias));
  const loss = mse(g, h, Tensor.from('float64', [1, 1], [rnn.target]));
  g.backward(loss);
  return [loss.data[0], weight.grad![0], bias.grad![0]];
}

const close = (actual: number, expected: number, relative: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected}`);

const stepsBefore = (path: GradientPath, k: number): number[] => Array.from(path.stepLength.subarray(0, k)).sort((x, y) => x - y);

describe('playground: the one-unit RNN and its loss surface', () => {
  it('its hand-written backward pass matches the engine’s autograd, on the plateaus and on the cliff', () => {
    for (const seqLen of [1, 5, 50, 200]) {
      const rnn = { ...SURFACE_RNN, seqLen };
      for (const [w, b] of [[1, -0.3], [4, -3], [4.1, -2.051], [6, -3.000001], [8, -4], [10, -1], [0, -5], [9.4, 8.7]]) {
        const mine = handRolled(rnn, w, b);
        const theirs = engine(rnn, w, b);
        ['loss', '∂L/∂w', '∂L/∂b'].forEach((what, k) => close(mine[k], theirs[k], 1e-9, `T=${seqLen} (${w}, ${b}) ${what}`));
      }
    }
  });

  it('its gradient matches finite differences of its loss', () => {
    const rnn = { ...SURFACE_RNN, seqLen: 20 };
    const h = 1e-6;
    for (const [w, b] of [[1, -0.3], [3, -1.5], [4, -3], [7, -2]]) {
      const [, dw, db] = handRolled(rnn, w, b);
      const fdW = (handRolled(rnn, w + h, b)[0] - handRolled(rnn, w - h, b)[0]) / (2 * h);
      const fdB = (handRolled(rnn, w, b + h)[0] - handRolled(rnn, w, b - h)[0]) / (2 * h);
      close(dw, fdW, 1e-5, `∂L/∂w at (${w}, ${b})`);
      close(db, fdB, 1e-5, `∂L/∂b at (${w}, ${b})`);
    }
  });

  it('has a cliff: a wall whose gradient is many orders above the rest of the surface, between two plateaus', () => {
    const s = computeSurface(params({ seqLen: 50 }));
    assert.equal(s.loss.length, s.w.count * s.b.count);
    const sorted = Array.from(s.gradNorm).sort((x, y) => x - y);
    const median = sorted[sorted.length >> 1];
    assert.ok(sorted[sorted.length - 1] > 1e6 * median, `max ‖∇L‖ ${sorted[sorted.length - 1]} against median ${median}`);
    // Across the wall (b = −w/2, w > 4) the loss drops from the plateau where h_T settles near 0 (loss near 0.49) to the one near 1 (0.09).
    const at = (w: number, b: number): number => {
      const i = Math.round(((w - s.w.min) / (s.w.max - s.w.min)) * (s.w.count - 1));
      const j = Math.round(((b - s.b.min) / (s.b.max - s.b.min)) * (s.b.count - 1));
      return s.loss[j * s.w.count + i];
    };
    for (const w of [5.5, 7, 8.5]) {
      assert.ok(at(w, -w / 2 - 0.3) > 0.4, `below the wall at w=${w}: ${at(w, -w / 2 - 0.3)}`);
      assert.ok(at(w, -w / 2 + 0.3) < 0.1, `above the wall at w=${w}: ${at(w, -w / 2 + 0.3)}`);
    }
  });

  it('gradient descent without clipping is thrown off the cliff; with norm clipping its steps stay within lr·τ and it reaches the valley', () => {
    const s = computeSurface(params({ seqLen: 50, mode: 'norm', threshold: 1 }));
    const raw = s.raw;
    const jump = raw.stepLength.indexOf(Math.max(...raw.stepLength));
    const before = stepsBefore(raw, jump);
    assert.ok(jump >= 3, `the path should walk to the wall first (jumped at step ${jump})`);
    assert.ok(raw.stepLength[jump] > 30 * before[before.length >> 1], `a step of ${raw.stepLength[jump]} after steps of ${before[before.length >> 1]}`);
    const end = raw.w.length - 1;
    assert.ok(raw.b[end] > s.b.max, `the unclipped path lands off the map, at (${raw.w[end]}, ${raw.b[end]})`);

    const clipped = s.clipped!;
    assert.ok(clipped.stepLength.every((d) => d <= DESCENT.lr * 1 * (1 + 1e-9)), 'every clipped step is at most lr·τ');
    assert.ok(clipped.loss[end] < 0.01 && clipped.loss[end] < raw.loss[end] / 5, `clipped ends at loss ${clipped.loss[end]}, unclipped at ${raw.loss[end]}`);
  });

  it('value clipping bounds each component of a step by lr·τ', () => {
    const clipped = computeSurface(params({ seqLen: 50, mode: 'value', threshold: 0.5 })).clipped!;
    for (let k = 0; k < clipped.stepLength.length; k++) {
      assert.ok(Math.abs(clipped.w[k + 1] - clipped.w[k]) <= DESCENT.lr * 0.5 + 1e-12 && Math.abs(clipped.b[k + 1] - clipped.b[k]) <= DESCENT.lr * 0.5 + 1e-12, `step ${k}`);
    }
    assert.ok(Math.max(...clipped.stepLength) <= DESCENT.lr * 0.5 * Math.SQRT2 + 1e-12);
  });

  it('a threshold above every gradient on the way changes nothing, and mode none draws one path', () => {
    const high = computeSurface(params({ seqLen: 50, mode: 'norm', threshold: 100 }));
    assert.deepEqual(high.clipped, high.raw);
    assert.equal(computeSurface(params({ mode: 'none' })).clipped, null);
  });
});
