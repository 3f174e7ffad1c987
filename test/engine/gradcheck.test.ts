import assert from 'node:assert/strict';
import { Graph } from '../../src/engine/graph';
import { orthogonalBlock } from '../../src/engine/init';
import { createModel, type ModelSpec } from '../../src/engine/models';
import { Mlp, type MlpLayer } from '../../src/engine/nn/mlp';
import { RecurrentStack, type RecurrentKind } from '../../src/engine/nn/recurrent';
import { activation, add, type Activation } from '../../src/engine/ops/elementwise';
import { embedding } from '../../src/engine/ops/embedding';
import { linear } from '../../src/engine/ops/linear';
import { bceWithLogits, crossEntropy, IGNORE_INDEX, mse } from '../../src/engine/ops/loss';
import { GATES, recurrent, type CellKind, type RecurrentLayer, type RecurrentWeights } from '../../src/engine/ops/recurrent';
import { detach, selectStep } from '../../src/engine/ops/shape';
import { powerIteration, spectralNormalize } from '../../src/engine/ops/spectral';
import { Random } from '../../src/engine/random';
import { type FloatArray, squaredNorm, Tensor } from '../../src/engine/tensor';

/*
 * Analytic gradients against central finite differences, in float64.
 * Every check builds its graph once and then perturbs input buffers and calls
 * g.forward(), so it also tests that replaying the tape recomputes the loss
 * from the current contents of the inputs.
 */

const STEP = 1e-6;
const TOLERANCE = 1e-6;
const MAX_SAMPLES = 40;

// ---------------------------------------------------------------- helpers

function randomTensor(rng: Random, shape: number[], requiresGrad: boolean, name: string, scale = 1): Tensor {
  const t = Tensor.zeros('float64', shape, requiresGrad, name);
  for (let i = 0; i < t.size; i++) t.data[i] = scale * rng.normal();
  return t;
}

/** Values with |v| ∈ [0.1, 1]: a ±STEP perturbation never crosses relu's kink. */
function awayFromZero(rng: Random, shape: number[], name: string): Tensor {
  const t = Tensor.zeros('float64', shape, true, name);
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * rng.range(0.1, 1);
  return t;
}

function constant(values: ArrayLike<number>, shape: number[]): Tensor {
  return Tensor.from('float64', shape, values);
}

/** Sum of scalar losses, so that one backward covers several terms. */
function sum(g: Graph, terms: Tensor[]): Tensor {
  return terms.reduce((acc, t) => add(g, acc, t));
}

function assertClose(analytic: number, numeric: number, what: string): void {
  const err = Math.abs(analytic - numeric);
  const scale = Math.max(1, Math.abs(analytic), Math.abs(numeric));
  assert.ok(err <= TOLERANCE * scale, `${what}: analytic ${analytic} vs numeric ${numeric} (|diff| ${err.toExponential(2)})`);
}

/** A fixed random subset (all indices when the tensor is small), in increasing order. */
function sampleIndices(size: number, rng: Random, max = MAX_SAMPLES): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (size <= max) return all;
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(size - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, max).sort((a, b) => a - b);
}

/**
 * (L(x+h) − L(x−h)) / 2h for one element, by replaying g. `reset` restores
 * state that the forward pass mutates (the power-iteration vectors), so that
 * both evaluations start from the same point.
 */
function centralDifference(g: Graph, loss: Tensor, data: FloatArray, i: number, reset?: () => void): number {
  const original = data[i];
  const evaluate = (value: number): number => {
    data[i] = value;
    reset?.();
    g.forward();
    return loss.data[0];
  };
  const up = original + STEP;
  const down = original - STEP;
  const plus = evaluate(up);
  const minus = evaluate(down);
  data[i] = original;
  // The actual spacing, not 2·STEP: up − down is rounded.
  return (plus - minus) / (up - down);
}

interface GradCheckOptions {
  /** Restores state mutated by forward passes; called before every replay. */
  reset?: () => void;
  seed?: number;
}

interface GradCheckResult {
  g: Graph;
  loss: Tensor;
  /** Analytic gradients, one copy per checked tensor. */
  analytic: Float64Array[];
}

/**
 * Builds the graph once, backpropagates, then checks every element (or a
 * random sample of MAX_SAMPLES) of every tensor against central differences.
 */
function gradCheck(build: (g: Graph) => Tensor, tensors: Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  const g = new Graph('float64');
  const loss = build(g);
  assert.equal(loss.size, 1, 'the loss must be a scalar');
  // Leaf gradients accumulate across backward passes.
  for (const t of tensors) {
    assert.ok(t.grad, `${t.name}: must require grad to be checked`);
    t.grad.fill(0);
  }
  g.backward(loss);
  const analytic = tensors.map((t) => Float64Array.from(t.grad!));

  const built = loss.data[0];
  assert.ok(Number.isFinite(built), `loss is ${built}`);
  options.reset?.();
  g.forward();
  assert.equal(loss.data[0], built, 'replaying the unchanged graph must reproduce the loss exactly');

  const rng = new Random(options.seed ?? 12345);
  tensors.forEach((t, k) => {
    const label = t.name || `tensors[${k}]`;
    // A gradient that is identically zero would make the comparison vacuous.
    assert.ok(analytic[k].some((v) => v !== 0), `${label}: the analytic gradient is identically zero`);
    for (const i of sampleIndices(t.size, rng)) {
      assertClose(analytic[k][i], centralDifference(g, loss, t.data, i, options.reset), `${label}[${i}]`);
    }
  });
  options.reset?.();
  g.forward();
  return { g, loss, analytic };
}

/**
 * Runs power iteration until u and v stop moving, so that further forward
 * passes of spectralNormalize leave them (and σ) practically unchanged, and
 * returns a function that restores exactly this state.
 */
function convergeSpectral(w: FloatArray, m: number, n: number, u: FloatArray, v: FloatArray): () => void {
  const before = Float64Array.from(u);
  let moved = Infinity;
  for (let round = 0; round < 200 && moved > 1e-15; round++) {
    before.set(u);
    powerIteration(w, m, n, u, v, 50);
    moved = 0;
    for (let i = 0; i < u.length; i++) moved = Math.max(moved, Math.abs(u[i] - before[i]));
  }
  assert.ok(moved <= 1e-13, `power iteration did not converge (last change ${moved})`);
  const uSaved = Float64Array.from(u);
  const vSaved = Float64Array.from(v);
  return () => {
    u.set(uSaved);
    v.set(vSaved);
  };
}

const CELLS: CellKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const B = 2;
const T = 5;
const I = 3;
const H = 4;

function cellWeights(rng: Random, kind: CellKind, inputSize: number, hidden: number, withBias: boolean, scale = 0.5): RecurrentWeights {
  const GH = GATES[kind] * hidden;
  return {
    weightIh: randomTensor(rng, [GH, inputSize], true, 'weight_ih', scale),
    weightHh: randomTensor(rng, [GH, hidden], true, 'weight_hh', scale),
    biasIh: withBias ? randomTensor(rng, [GH], true, 'bias_ih', scale) : null,
    biasHh: withBias ? randomTensor(rng, [GH], true, 'bias_hh', scale) : null,
  };
}

function weightList(w: RecurrentWeights): Tensor[] {
  return [w.weightIh, w.weightHh, w.biasIh, w.biasHh].filter((t): t is Tensor => t !== null);
}

/** Σ_t mse(y[:, t], targets[t]): a per-step loss that can also be summed chunk by chunk. */
function perStepLoss(g: Graph, y: Tensor, targets: Tensor[], firstStep = 0): Tensor {
  const steps = y.shape[1];
  return sum(g, Array.from({ length: steps }, (_, t) => mse(g, selectStep(g, y, t), targets[firstStep + t])));
}

/** Runs f after zeroing the grads of `tensors`, and returns copies of their grads. */
function gradientsOf(tensors: Tensor[], run: () => void): Float64Array[] {
  for (const t of tensors) t.grad!.fill(0);
  run();
  return tensors.map((t) => Float64Array.from(t.grad!));
}

// ---------------------------------------------------------------- primitives

describe('gradient check (float64, central differences): primitives', () => {
  describe('linear', () => {
    for (const shape of [[4, 3], [2, 3, 3]]) {
      for (const withBias of [true, false]) {
        it(`x${JSON.stringify(shape)} ${withBias ? 'with' : 'without'} bias: x, weight${withBias ? ', bias' : ''}`, () => {
          const rng = new Random(1);
          const x = randomTensor(rng, shape, true, 'x');
          const w = randomTensor(rng, [5, 3], true, 'weight');
          const b = withBias ? randomTensor(rng, [5], true, 'bias') : null;
          const target = randomTensor(rng, [...shape.slice(0, -1), 5], false, 'target');
          gradCheck((g) => mse(g, linear(g, x, w, b), target), [x, w, ...(b ? [b] : [])]);
        });
      }
    }
  });

  describe('activations', () => {
    for (const kind of ['tanh', 'relu', 'sigmoid', 'identity'] as Activation[]) {
      it(kind, () => {
        const rng = new Random(2);
        const x = awayFromZero(rng, [3, 4], 'x');
        const target = randomTensor(rng, [3, 4], false, 'target');
        gradCheck((g) => mse(g, activation(g, kind, x), target), [x]);
      });
    }
  });

  describe('add', () => {
    it('a + b', () => {
      const rng = new Random(3);
      const a = randomTensor(rng, [3, 4], true, 'a');
      const b = randomTensor(rng, [3, 4], true, 'b');
      const target = randomTensor(rng, [3, 4], false, 'target');
      gradCheck((g) => mse(g, add(g, a, b), target), [a, b]);
    });

    it('a + a (both operands are the same tensor: the gradient counts twice)', () => {
      const rng = new Random(4);
      const a = randomTensor(rng, [2, 5], true, 'a');
      const target = randomTensor(rng, [2, 5], false, 'target');
      gradCheck((g) => mse(g, add(g, a, a), target), [a]);
    });

    it('one operand without grad', () => {
      const rng = new Random(5);
      const a = randomTensor(rng, [6], true, 'a');
      const c = randomTensor(rng, [6], false, 'c');
      const target = randomTensor(rng, [6], false, 'target');
      gradCheck((g) => mse(g, add(g, c, a), target), [a]);
    });
  });

  describe('losses', () => {
    it('mse', () => {
      const rng = new Random(6);
      const pred = randomTensor(rng, [3, 5], true, 'pred');
      const target = randomTensor(rng, [3, 5], false, 'target');
      gradCheck((g) => mse(g, pred, target), [pred]);
    });

    it('bce_with_logits, soft targets, including large |logits| (the overflow-safe branch)', () => {
      const rng = new Random(7);
      const logits = randomTensor(rng, [4, 3], true, 'logits', 2);
      logits.data[0] = 25;
      logits.data[1] = -25;
      logits.data[2] = 8;
      const target = constant(Array.from({ length: 12 }, () => rng.uniform()), [4, 3]);
      gradCheck((g) => bceWithLogits(g, logits, target), [logits]);
    });

    it('cross_entropy on [N, C] with an IGNORE_INDEX row (its logits get exactly zero gradient)', () => {
      const rng = new Random(8);
      const logits = randomTensor(rng, [5, 4], true, 'logits', 2);
      const classes = constant([2, 0, IGNORE_INDEX, 3, 3], [5]);
      const { analytic } = gradCheck((g) => crossEntropy(g, logits, classes), [logits]);
      assert.deepEqual(Array.from(analytic[0].subarray(8, 12)), [0, 0, 0, 0]);
    });

    it('cross_entropy on [B, T, C] logits against [B, T] classes', () => {
      const rng = new Random(9);
      const logits = randomTensor(rng, [2, 3, 4], true, 'logits', 2);
      const classes = constant([1, IGNORE_INDEX, 0, 3, 2, 2], [2, 3]);
      gradCheck((g) => crossEntropy(g, logits, classes), [logits]);
    });

    it('cross_entropy composed with linear (logits are an intermediate)', () => {
      const rng = new Random(10);
      const x = randomTensor(rng, [4, 3], true, 'x');
      const w = randomTensor(rng, [5, 3], true, 'weight');
      const b = randomTensor(rng, [5], true, 'bias');
      const classes = constant([4, IGNORE_INDEX, 0, 2], [4]);
      gradCheck((g) => crossEntropy(g, linear(g, x, w, b), classes), [x, w, b]);
    });
  });

  describe('shape', () => {
    for (const t of [-1, 0, 2]) {
      it(`selectStep t=${t}`, () => {
        const rng = new Random(11);
        const x = randomTensor(rng, [2, 4, 3], true, 'x');
        const target = randomTensor(rng, [2, 3], false, 'target');
        const { analytic } = gradCheck((g) => mse(g, selectStep(g, x, t), target), [x]);
        // Only the selected step receives gradient.
        const step = t < 0 ? 4 + t : t;
        for (let b = 0; b < 2; b++) {
          for (let s = 0; s < 4; s++) {
            if (s === step) continue;
            for (let j = 0; j < 3; j++) assert.equal(analytic[0][(b * 4 + s) * 3 + j], 0);
          }
        }
      });
    }

    it('detach: no gradient flows through it, the input grad stays zero', () => {
      const rng = new Random(12);
      const x = randomTensor(rng, [3, 4], true, 'x');
      const b = randomTensor(rng, [3, 4], true, 'b');
      const target = randomTensor(rng, [3, 4], false, 'target');
      gradCheck((g) => mse(g, add(g, detach(g, activation(g, 'tanh', x)), b), target), [b]);
      assert.ok(x.grad!.every((v) => v === 0), 'gradient leaked through detach');
    });

    it('detach blocks only its own path: d/dx mse(detach(x) + x) is half the total derivative', () => {
      const rng = new Random(13);
      const x = randomTensor(rng, [2, 3], true, 'x');
      const target = randomTensor(rng, [2, 3], false, 'target');
      const g = new Graph('float64');
      const loss = mse(g, add(g, detach(g, x), x), target);
      x.grad!.fill(0);
      g.backward(loss);
      // Forward is the identity on both paths, so finite differences see 2x.
      for (let i = 0; i < x.size; i++) assertClose(2 * x.grad![i], centralDifference(g, loss, x.data, i), `x[${i}]`);
    });
  });

  describe('embedding', () => {
    it('repeated ids accumulate; unused rows get zero gradient', () => {
      const rng = new Random(14);
      const weight = randomTensor(rng, [5, 4], true, 'embed.weight');
      const ids = constant([1, 3, 1, 0, 3, 3], [2, 3]);
      const target = randomTensor(rng, [2, 3, 4], false, 'target');
      const { analytic } = gradCheck((g) => mse(g, embedding(g, ids, weight), target), [weight]);
      for (const unused of [2, 4]) assert.ok(analytic[0].subarray(unused * 4, unused * 4 + 4).every((v) => v === 0), `row ${unused}`);
    });
  });

  describe('spectralNormalize', () => {
    it('W/σ(W) with converged u, v (the formula treats u and v as constants)', () => {
      const rng = new Random(15);
      const w = randomTensor(rng, [6, 4], true, 'weight_hh');
      const u = Float64Array.from({ length: 6 }, () => rng.normal());
      const v = new Float64Array(4);
      const reset = convergeSpectral(w.data, 6, 4, u, v);
      const target = randomTensor(rng, [6, 4], false, 'target', 0.3);
      gradCheck((g) => mse(g, spectralNormalize(g, w, u, v), target), [w], { reset });
    });

    it('inside a linear layer, with several power iterations per forward pass', () => {
      const rng = new Random(16);
      const x = randomTensor(rng, [3, 4], true, 'x');
      const w = randomTensor(rng, [5, 4], true, 'weight');
      const u = Float64Array.from({ length: 5 }, () => rng.normal());
      const v = new Float64Array(4);
      const reset = convergeSpectral(w.data, 5, 4, u, v);
      const target = randomTensor(rng, [3, 5], false, 'target');
      gradCheck((g) => mse(g, linear(g, x, spectralNormalize(g, w, u, v, 3), null), target), [x, w], { reset });
    });
  });
});

// ---------------------------------------------------------------- recurrent op

describe('gradient check (float64, central differences): recurrent op', () => {
  for (const kind of CELLS) {
    describe(kind, () => {
      it(`B=${B} T=${T} I=${I} H=${H} with biases, no h0: x and every weight and bias`, () => {
        const rng = new Random(20);
        const x = randomTensor(rng, [B, T, I], true, 'x');
        const w = cellWeights(rng, kind, I, H, true);
        const target = randomTensor(rng, [B, T, H], false, 'target');
        gradCheck((g) => mse(g, recurrent(g, kind, x, w).output, target), [x, ...weightList(w)]);
      });

      it(`without biases, with h0${kind === 'lstm' ? ' and c0' : ''} requiring grad`, () => {
        const rng = new Random(21);
        const x = randomTensor(rng, [B, T, I], true, 'x');
        const w = cellWeights(rng, kind, I, H, false);
        const h0 = randomTensor(rng, [B, H], true, 'h0', 0.5);
        const c0 = kind === 'lstm' ? randomTensor(rng, [B, H], true, 'c0', 0.5) : null;
        const target = randomTensor(rng, [B, T, H], false, 'target');
        gradCheck((g) => mse(g, recurrent(g, kind, x, w, { h0, c0 }).output, target), [x, ...weightList(w), h0, ...(c0 ? [c0] : [])]);
      });

      it('with a constant h0 (no grad) and biases: W_hh still gets the h0 term', () => {
        const rng = new Random(22);
        const x = randomTensor(rng, [B, T, I], true, 'x');
        const w = cellWeights(rng, kind, I, H, true);
        const h0 = randomTensor(rng, [B, H], false, 'h0', 0.5);
        const c0 = kind === 'lstm' ? randomTensor(rng, [B, H], false, 'c0', 0.5) : null;
        const target = randomTensor(rng, [B, T, H], false, 'target');
        gradCheck((g) => mse(g, recurrent(g, kind, x, w, { h0, c0 }).output, target), [x, ...weightList(w)]);
      });

      it('a single time step with h0 requiring grad', () => {
        const rng = new Random(23);
        const x = randomTensor(rng, [B, 1, I], true, 'x');
        const w = cellWeights(rng, kind, I, H, true);
        const h0 = randomTensor(rng, [B, H], true, 'h0', 0.5);
        const c0 = kind === 'lstm' ? randomTensor(rng, [B, H], true, 'c0', 0.5) : null;
        const target = randomTensor(rng, [B, 1, H], false, 'target');
        gradCheck((g) => mse(g, recurrent(g, kind, x, w, { h0, c0 }).output, target), [x, ...weightList(w), h0, ...(c0 ? [c0] : [])]);
      });

      it('frozen (no weight or input requires grad) under a trainable head: backward skips it', () => {
        const rng = new Random(25);
        const x = randomTensor(rng, [B, T, I], false, 'x');
        const w = cellWeights(rng, kind, I, H, true);
        const frozen: RecurrentWeights = {
          weightIh: constant(w.weightIh.data, [...w.weightIh.shape]),
          weightHh: constant(w.weightHh.data, [...w.weightHh.shape]),
          biasIh: null,
          biasHh: null,
        };
        const head = randomTensor(rng, [2, H], true, 'head.weight');
        const target = randomTensor(rng, [B, T, 2], false, 'target');
        gradCheck((g) => mse(g, linear(g, recurrent(g, kind, x, frozen).output, head, null), target), [head]);
      });

      it('as the input of a second layer (x is an intermediate)', () => {
        const rng = new Random(24);
        const x = randomTensor(rng, [B, T, I], true, 'x');
        const w1 = cellWeights(rng, kind, I, H, true);
        const w2 = cellWeights(rng, kind, H, 3, true);
        const target = randomTensor(rng, [B, T, 3], false, 'target');
        gradCheck((g) => mse(g, recurrent(g, kind, recurrent(g, kind, x, w1).output, w2).output, target), [x, ...weightList(w1), ...weightList(w2)]);
      });
    });
  }
});

// ---------------------------------------------------------------- truncated BPTT

describe('truncated BPTT (detachEvery)', () => {
  interface Problem {
    x: Tensor;
    w: RecurrentWeights;
    h0: Tensor;
    c0: Tensor | null;
    targets: Tensor[];
    /** Every tensor that gets a gradient, x first. */
    tensors: Tensor[];
  }

  function problem(kind: CellKind, seed: number): Problem {
    const rng = new Random(seed);
    const x = randomTensor(rng, [B, T, I], true, 'x');
    const w = cellWeights(rng, kind, I, H, true);
    const h0 = randomTensor(rng, [B, H], true, 'h0', 0.5);
    const c0 = kind === 'lstm' ? randomTensor(rng, [B, H], true, 'c0', 0.5) : null;
    const targets = Array.from({ length: T }, () => randomTensor(rng, [B, H], false, 'target'));
    return { x, w, h0, c0, targets, tensors: [x, ...weightList(w), h0, ...(c0 ? [c0] : [])] };
  }

  function gradientsWith(kind: CellKind, p: Problem, detachEvery: number, lastStepOnly: boolean): Float64Array[] {
    return gradientsOf(p.tensors, () => {
      const g = new Graph('float64');
      const y = recurrent(g, kind, p.x, p.w, { h0: p.h0, c0: p.c0, detachEvery }).output;
      g.backward(lastStepOnly ? mse(g, selectStep(g, y, -1), p.targets[T - 1]) : perStepLoss(g, y, p.targets));
    });
  }

  for (const kind of CELLS) {
    describe(kind, () => {
      it('detachEvery ≥ T gives exactly the gradients of untruncated BPTT', () => {
        const p = problem(kind, 30);
        const full = gradientsWith(kind, p, 0, false);
        for (const k of [T, T + 3]) assert.deepEqual(gradientsWith(kind, p, k, false), full, `detachEvery=${k}`);
      });

      for (const k of [2, 3]) {
        it(`detachEvery=${k}, loss on the last step: no gradient behind the last boundary, untruncated gradient after it`, () => {
          const p = problem(kind, 31);
          const full = gradientsWith(kind, p, 0, true);
          const cut = gradientsWith(kind, p, k, true);
          const boundary = Math.floor((T - 1) / k) * k; // the last step whose incoming state is detached
          const [dxFull, dxCut] = [full[0], cut[0]];
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              const row = (b * T + t) * I;
              const got = Array.from(dxCut.subarray(row, row + I));
              const expected = t < boundary ? [0, 0, 0] : Array.from(dxFull.subarray(row, row + I));
              assert.deepEqual(got, expected, `∂L/∂x[${b}, ${t}]`);
            }
          }
          // The initial states are behind the boundary too.
          for (const s of cut.slice(-(p.c0 ? 2 : 1))) assert.ok(s.every((v) => v === 0), 'initial state gradient');
          assert.ok(full[0].subarray(0, I).some((v) => v !== 0), 'the untruncated gradient does reach step 0');
        });

        it(`detachEvery=${k} matches finite differences of the loss with the carried state cut at every boundary`, () => {
          const p = problem(kind, 32);
          const analytic = gradientsWith(kind, p, k, false);

          // The same per-step loss, run chunk by chunk; each chunk after the
          // first starts from a constant copy of the state the previous chunk
          // ended with, so perturbations do not propagate across boundaries.
          const g = new Graph('float64');
          const chunks: Array<{ start: number; x: Tensor }> = [];
          const terms: Tensor[] = [];
          let h0: Tensor = p.h0;
          let c0: Tensor | null = p.c0;
          for (let start = 0; start < T; start += k) {
            const len = Math.min(k, T - start);
            const xc = Tensor.zeros('float64', [B, len, I], true, `x[:, ${start}:${start + len}]`);
            for (let b = 0; b < B; b++) xc.data.set(p.x.data.subarray((b * T + start) * I, (b * T + start + len) * I), b * len * I);
            const layer: RecurrentLayer = recurrent(g, kind, xc, p.w, { h0, c0 });
            terms.push(perStepLoss(g, layer.output, p.targets, start));
            chunks.push({ start, x: xc });
            h0 = Tensor.zeros('float64', [B, H], false, 'carried h');
            c0 = p.c0 ? Tensor.zeros('float64', [B, H], false, 'carried c') : null;
            layer.finalState(h0.data, c0?.data);
          }
          const loss = sum(g, terms);

          const rng = new Random(33);
          // Parameters and initial states are shared with the chunked graph.
          p.tensors.slice(1).forEach((t, n) => {
            for (const i of sampleIndices(t.size, rng)) assertClose(analytic[n + 1][i], centralDifference(g, loss, t.data, i), `${t.name}[${i}]`);
          });
          for (const { start, x } of chunks) {
            const len = x.shape[1];
            for (let b = 0; b < B; b++) {
              for (let t = 0; t < len; t++) {
                for (let j = 0; j < I; j++) {
                  const numeric = centralDifference(g, loss, x.data, (b * len + t) * I + j);
                  assertClose(analytic[0][(b * T + start + t) * I + j], numeric, `x[${b}, ${start + t}, ${j}]`);
                }
              }
            }
          }
        });
      }
    });
  }
});

// ---------------------------------------------------------------- hidden-state gradient norms

describe('hiddenGradNorms', () => {
  for (const kind of CELLS) {
    it(`${kind}: hiddenGradNorms[t] = ‖∂L/∂h_t‖ for every t, loss on the last step`, () => {
      const rng = new Random(40);
      const x = randomTensor(rng, [B, T, I], false, 'x');
      const w = cellWeights(rng, kind, I, H, true);
      const target = randomTensor(rng, [B, H], false, 'target');
      const g = new Graph('float64');
      const layer = recurrent(g, kind, x, w);
      const last = selectStep(g, layer.output, -1);
      g.backward(mse(g, last, target));
      const norm = (v: FloatArray): number => Math.sqrt(squaredNorm(v));
      assertClose(layer.hiddenGradNorms[T - 1], norm(last.grad!), `hiddenGradNorms[${T - 1}]`);

      // ∂L/∂h_t (c_t held fixed for an LSTM) is the gradient of the initial
      // state of the rest of the sequence, restarted from h_t (and c_t).
      for (let t = 0; t < T - 1; t++) {
        const rest = T - 1 - t;
        const xs = Tensor.zeros('float64', [B, rest, I], false);
        for (let b = 0; b < B; b++) xs.data.set(x.data.subarray((b * T + t + 1) * I, (b * T + T) * I), b * rest * I);
        const state = (from: FloatArray): Tensor => {
          const s = Tensor.zeros('float64', [B, H], true, 'state');
          for (let b = 0; b < B; b++) s.data.set(from.subarray((b * T + t) * H, (b * T + t + 1) * H), b * H);
          return s;
        };
        const h = state(layer.output.data);
        const c = kind === 'lstm' ? Tensor.zeros('float64', [B, H], false, 'c') : null;
        if (c) {
          // Recover c_t by running the prefix 0..t (finalState exposes it).
          const gp = new Graph('float64');
          const xp = Tensor.zeros('float64', [B, t + 1, I], false);
          for (let b = 0; b < B; b++) xp.data.set(x.data.subarray(b * T * I, (b * T + t + 1) * I), b * (t + 1) * I);
          const hp = new Float64Array(B * H);
          recurrent(gp, kind, xp, w).finalState(hp, c.data);
          assert.deepEqual(Array.from(hp), Array.from(h.data), 'prefix replays the same states');
        }
        const gs = new Graph('float64');
        const restLayer = recurrent(gs, kind, xs, w, { h0: h, c0: c });
        gs.backward(mse(gs, selectStep(gs, restLayer.output, -1), target));
        assertClose(layer.hiddenGradNorms[t], norm(h.grad!), `hiddenGradNorms[${t}]`);
      }
    });
  }

  function profile(gain: number, steps: number): Float64Array {
    const rng = new Random(41);
    // Tiny inputs keep tanh in its linear regime, where an orthogonal W_hh
    // scaled by `gain` multiplies ‖∂L/∂h‖ by exactly `gain` per step back.
    const x = randomTensor(rng, [B, steps, I], false, 'x', 1e-9);
    const w = cellWeights(rng, 'rnn_tanh', I, H, false);
    orthogonalBlock(w.weightHh.data, H, H, 0, rng, gain);
    const target = randomTensor(rng, [B, H], false, 'target');
    const g = new Graph('float64');
    const layer = recurrent(g, 'rnn_tanh', x, w);
    g.backward(mse(g, selectStep(g, layer.output, -1), target));
    return layer.hiddenGradNorms;
  }

  it('tanh RNN with a large recurrent weight: the profile grows backwards in time (explosion)', () => {
    const gain = 3;
    const norms = profile(gain, 8);
    for (let t = 0; t < norms.length - 1; t++) assertClose(norms[t] / norms[t + 1], gain, `ratio at step ${t}`);
    assert.ok(norms[0] > 1000 * norms[norms.length - 1], `${norms[0]} vs ${norms[norms.length - 1]}`);
  });

  it('tanh RNN with a tiny recurrent weight: the profile decays backwards in time (vanishing)', () => {
    const gain = 0.1;
    const norms = profile(gain, 8);
    for (let t = 0; t < norms.length - 1; t++) assertClose(norms[t] / norms[t + 1], gain, `ratio at step ${t}`);
    assert.ok(norms[0] < 1e-6 * norms[norms.length - 1], `${norms[0]} vs ${norms[norms.length - 1]}`);
  });
});

// ---------------------------------------------------------------- long sequences

describe('long sequences', () => {
  for (const kind of ['rnn_tanh', 'lstm'] as CellKind[]) {
    it(`${kind}: 2000 time steps (B=1, H=2) run forward and backward without stack overflow, with finite gradients`, () => {
      const steps = 2000;
      const rng = new Random(50);
      const x = randomTensor(rng, [1, steps, 1], true, 'x');
      const w = cellWeights(rng, kind, 1, 2, true);
      const target = randomTensor(rng, [1, steps, 2], false, 'target');
      const tensors = [x, ...weightList(w)];
      const g = new Graph('float64');
      const layer = recurrent(g, kind, x, w);
      const loss = mse(g, layer.output, target);
      for (const t of tensors) t.grad!.fill(0);
      g.backward(loss);
      g.forward();
      g.backward(loss);
      for (const t of tensors) {
        assert.ok(t.grad!.every(Number.isFinite), `${t.name}: non-finite gradient`);
        assert.ok(t.grad!.some((v) => v !== 0), `${t.name}: zero gradient`);
      }
      assert.ok(layer.hiddenGradNorms.every(Number.isFinite));
      assert.equal(layer.hiddenGradNorms.length, steps);
    });
  }
});

// ---------------------------------------------------------------- layers and models

describe('gradient check (float64, central differences): layers and models', () => {
  for (const kind of ['rnn', 'lstm', 'gru'] as RecurrentKind[]) {
    it(`RecurrentStack ${kind}, 2 layers, spectral norm on weight_hh, with initial states requiring grad`, () => {
      const rng = new Random(60);
      const stack = new RecurrentStack('float64', { kind, inputSize: I, hiddenSize: H, numLayers: 2, spectralNorm: true }, rng);
      const resets = stack.layers.map((p) => convergeSpectral(p.weightHh.data, p.weightHh.shape[0], H, p.spectral!.u, p.spectral!.v));
      const reset = (): void => resets.forEach((r) => r());
      const initial = stack.layers.map((_, l) => ({
        h: randomTensor(rng, [B, H], true, `h0_l${l}`, 0.5),
        ...(kind === 'lstm' ? { c: randomTensor(rng, [B, H], true, `c0_l${l}`, 0.5) } : {}),
      }));
      const x = randomTensor(rng, [B, T, I], true, 'x');
      const target = randomTensor(rng, [B, T, H], false, 'target');
      const states = initial.flatMap((s) => (s.c ? [s.h, s.c] : [s.h]));
      gradCheck(
        (g) => {
          const layers = stack.forward(g, x, { initial });
          return mse(g, layers[layers.length - 1].output, target);
        },
        [x, ...stack.parameters().map(([, t]) => t), ...states],
        { reset },
      );
    });
  }

  it('Mlp with residual blocks (tanh, relu, sigmoid)', () => {
    const spec: MlpLayer[] = [{ linear: [3, 4] }, { act: 'tanh' }, { linear: [4, 4] }, { act: 'relu' }, { linear: [4, 4] }, { act: 'sigmoid' }, { linear: [4, 2] }];
    const x = randomTensor(new Random(70), [5, 3], true, 'x');
    const target = randomTensor(new Random(71), [5, 2], false, 'target');
    const residual = new Mlp('float64', spec, new Random(72), { scheme: 'default' }, true);
    const { g } = gradCheck((gr) => mse(gr, residual.forward(gr, x), target), [x, ...residual.parameters().map(([, t]) => t)]);
    // Same weights without the skip connections: a different function, so the residual path is really there.
    const plain = new Mlp('float64', spec, new Random(72), { scheme: 'default' }, false);
    const gp = new Graph('float64');
    mse(gp, plain.forward(gp, x), target);
    assert.equal(g.length - gp.length, 2, 'two residual adds');
  });

  describe('createModel', () => {
    const cases: Array<{ name: string; spec: ModelSpec; input: (rng: Random) => Tensor; loss: (g: Graph, prediction: Tensor, rng: Random) => Tensor }> = [
      {
        name: 'embedding → 2-layer LSTM → head on every step, cross-entropy with an ignored target',
        spec: { kind: 'lstm', inputSize: I, hiddenSize: H, numLayers: 2, outputSize: 5, output: 'all', vocabSize: 7 },
        input: () => constant([2, 5, 5, 0, 6, 1, 2, 2, 3, 4], [B, T]),
        loss: (g, p) => crossEntropy(g, p, constant([1, 4, IGNORE_INDEX, 0, 2, 3, 3, 1, 0, 4], [B, T])),
      },
      {
        name: 'spectrally normalised GRU → head on the last step, mse',
        spec: { kind: 'gru', inputSize: I, hiddenSize: H, numLayers: 2, outputSize: 2, output: 'last', spectralNorm: true },
        input: (rng) => randomTensor(rng, [B, T, I], true, 'x'),
        loss: (g, p, rng) => mse(g, p, randomTensor(rng, [B, 2], false, 'target')),
      },
      {
        name: 'relu RNN → head on the last step, bce_with_logits',
        spec: { kind: 'rnn', nonlinearity: 'relu', inputSize: I, hiddenSize: H, numLayers: 1, outputSize: 3, output: 'last' },
        input: (rng) => randomTensor(rng, [B, T, I], true, 'x'),
        loss: (g, p, rng) => bceWithLogits(g, p, constant(Array.from({ length: B * 3 }, () => rng.uniform()), [B, 3])),
      },
      {
        name: 'residual MLP (Mlp.stack), bce_with_logits',
        spec: { kind: 'mlp', layers: Mlp.stack(3, 4, 3, 2, 'tanh'), residual: true },
        input: (rng) => randomTensor(rng, [4, 3], true, 'x'),
        loss: (g, p, rng) => bceWithLogits(g, p, constant(Array.from({ length: 8 }, () => rng.uniform()), [4, 2])),
      },
    ];

    for (const c of cases) {
      it(c.name, () => {
        const rng = new Random(80);
        const model = createModel('float64', c.spec, rng);
        const resets = model.recurrentWeights().flatMap((w) => (w.spectral ? [convergeSpectral(w.data, w.gates * w.hidden, w.hidden, w.spectral.u, w.spectral.v)] : []));
        const reset = resets.length ? (): void => resets.forEach((r) => r()) : undefined;
        const input = c.input(rng);
        const params = model.parameters().map(([name, t]) => {
          t.name = name;
          return t;
        });
        gradCheck((g) => c.loss(g, model.forward(g, input).prediction, rng), [...(input.requiresGrad ? [input] : []), ...params], { reset });
      });
    }
  });
});
