import type { Graph } from '../graph';
import { expectShape, type FloatArray, Tensor } from '../tensor';
import { activate, derivativeFromOutput } from './elementwise';
import { addColumnSums, addRowVector } from './linear';

/**
 * One recurrent layer over a whole batch-first sequence, as one graph node
 * (the way cuDNN and llm.c do it): the input projection of all time steps is
 * one matrix product, only the hidden-to-hidden product runs step by step, and
 * the weight gradients are again a few large products after the backward loop.
 *
 * Buffers, all batch-first [B, T, ·] so that time slices are strided views:
 *   xg  [B, T, G·H]  x·W_ihᵀ + b_ih            (G gates per unit)
 *   hg  [B, T, G·H]  h_{t-1}·W_hhᵀ + b_hh
 *   act [B, T, G·H]  activated gates (LSTM, GRU)
 *   y   [B, T, H]    hidden states, the output
 *   c   [B, T, H]    cell states (LSTM), tc = tanh(c)
 */
export type CellKind = 'rnn_tanh' | 'rnn_relu' | 'rnn_linear' | 'lstm' | 'gru';

export const GATES: Record<CellKind, number> = { rnn_tanh: 1, rnn_relu: 1, rnn_linear: 1, lstm: 4, gru: 3 };

export interface RecurrentWeights {
  weightIh: Tensor; // [G·H, I]
  weightHh: Tensor; // [G·H, H]
  biasIh: Tensor | null; // [G·H]
  biasHh: Tensor | null; // [G·H]
}

export interface RecurrentOptions {
  /** Initial hidden state [B, H]; zeros when absent. */
  h0?: Tensor | null;
  /** Initial cell state [B, H] (LSTM). */
  c0?: Tensor | null;
  /** Truncated BPTT: the state entering step t is detached when t is a positive multiple of k (0 = never). */
  detachEvery?: number;
}

/** What a recurrent layer exposes besides its output. */
export interface RecurrentLayer {
  readonly output: Tensor; // [B, T, H]
  /** ‖∂L/∂h_t‖ over the batch for t = 0..T-1, filled by the last backward pass. */
  readonly hiddenGradNorms: Float64Array;
  /** Final hidden state h_T [B, H] (and c_T for an LSTM), copied out for carrying state across batches. */
  finalState(h: FloatArray, c?: FloatArray): void;
}

export function recurrent(g: Graph, kind: CellKind, x: Tensor, w: RecurrentWeights, options: RecurrentOptions = {}): RecurrentLayer {
  expectShape(kind, x.shape.length === 3, 'input must be batch-first [B, T, input_size]', x);
  const [B, T, I] = x.shape;
  const G = GATES[kind];
  const GH = w.weightHh.shape[0];
  const H = GH / G;
  expectShape(kind, w.weightHh.shape.length === 2 && w.weightHh.shape[1] === H && Number.isInteger(H), `weight_hh must be [${G}·H, H]`, w.weightHh);
  expectShape(kind, w.weightIh.shape.length === 2 && w.weightIh.shape[0] === GH && w.weightIh.shape[1] === I, `weight_ih must be [${G}·H, input_size] with input_size = ${I}`, x, w.weightIh);
  for (const bias of [w.biasIh, w.biasHh]) if (bias) expectShape(kind, bias.size === GH, `biases must be [${G}·H]`, bias);
  const h0 = options.h0 ?? null;
  const c0 = options.c0 ?? null;
  for (const s of [h0, c0]) if (s) expectShape(kind, s.size === B * H, 'initial states must be [B, H]', s);
  const detachEvery = options.detachEvery ?? 0;

  const needsGrad = x.requiresGrad || w.weightIh.requiresGrad || w.weightHh.requiresGrad || !!h0?.requiresGrad || !!c0?.requiresGrad;
  const y = g.output([B, T, H], needsGrad, kind);
  const n = B * T * GH;
  const alloc = (size: number): FloatArray => (g.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size));
  const xg = alloc(n);
  const hg = alloc(n);
  const act = GATES[kind] === 1 ? y.data : alloc(n);
  const c = kind === 'lstm' ? alloc(B * T * H) : null;
  const tc = kind === 'lstm' ? alloc(B * T * H) : null;
  // Gradients of the pre-activations of the input and hidden projections; the same for RNN and LSTM.
  const dxg = needsGrad ? alloc(n) : null;
  const dhg = needsGrad ? (kind === 'gru' ? alloc(n) : dxg) : null;
  const carryH = alloc(B * H);
  const carryC = alloc(B * H);
  const dh = alloc(B * H);
  const hiddenGradNorms = new Float64Array(T);
  const rnnActivation = kind === 'rnn_relu' ? 'relu' : kind === 'rnn_linear' ? 'identity' : 'tanh';

  /** Offset of row b of h_{t-1}, and its row stride, or null at t = 0 without h0. */
  const previousHidden = (t: number): { data: FloatArray; offset: number; ld: number } | null =>
    t > 0 ? { data: y.data, offset: (t - 1) * H, ld: T * H } : h0 ? { data: h0.data, offset: 0, ld: H } : null;
  /** Where the state before step t is: `states` itself, the initial state, or zeros at t = 0 without one. */
  const zeros = alloc(H);
  const previousStates = (states: FloatArray, initial: Tensor | null, t: number): FloatArray => (t > 0 ? states : initial ? initial.data : zeros);
  const previousOffset = (initial: Tensor | null, t: number, b: number): number => (t > 0 ? (b * T + t - 1) * H : initial ? b * H : 0);
  const biasIh = w.biasIh?.data ?? null;
  const biasHh = w.biasHh?.data ?? null;

  /**
   * LSTM and GRU rows go through the kernel's float64 scratch [G·H + H]: the
   * gate pre-activations, activated in place a run at a time, then the LSTM's
   * cell state for its tanh. Values stay float64 there: a float32 model rounds
   * only what it stores, as when each value was computed on its own.
   */
  const transcendentals = g.transcendentals;
  const apply = (kind: 'sigmoid' | 'tanh', from: number, to: number): void => transcendentals.applyToScratch(kind, from, to);

  function stepForward(t: number): void {
    const gates = transcendentals.scratch(GH + H);
    for (let b = 0; b < B; b++) {
      const gOff = (b * T + t) * GH;
      const hOff = (b * T + t) * H;
      // The biases join the projections row by row, right before the row is read (it is then in cache).
      if (biasIh) addRowVector(xg, biasIh, 1, GH, GH, gOff);
      if (biasHh) addRowVector(hg, biasHh, 1, GH, GH, gOff);
      switch (kind) {
        case 'rnn_tanh':
        case 'rnn_relu':
        case 'rnn_linear':
          for (let j = 0; j < H; j++) y.data[hOff + j] = xg[gOff + j] + hg[gOff + j];
          activate(rnnActivation, y.data, hOff, hOff + H, transcendentals);
          break;
        case 'lstm': {
          // gates = [i f g o | cell]
          const cPrev = previousStates(c!, c0, t);
          const cp = previousOffset(c0, t, b);
          for (let j = 0; j < GH; j++) gates[j] = xg[gOff + j] + hg[gOff + j];
          apply('sigmoid', 0, 2 * H);
          apply('tanh', 2 * H, 3 * H);
          apply('sigmoid', 3 * H, GH);
          for (let j = 0; j < H; j++) {
            const i = (act[gOff + j] = gates[j]);
            const f = (act[gOff + H + j] = gates[H + j]);
            const gg = (act[gOff + 2 * H + j] = gates[2 * H + j]);
            act[gOff + 3 * H + j] = gates[3 * H + j];
            gates[GH + j] = c![hOff + j] = f * cPrev[cp + j] + i * gg;
          }
          apply('tanh', GH, GH + H);
          for (let j = 0; j < H; j++) y.data[hOff + j] = gates[3 * H + j] * (tc![hOff + j] = gates[GH + j]);
          break;
        }
        case 'gru': {
          // gates = [r z n]
          const hPrev = previousStates(y.data, h0, t);
          const hp = previousOffset(h0, t, b);
          for (let j = 0; j < 2 * H; j++) gates[j] = xg[gOff + j] + hg[gOff + j];
          apply('sigmoid', 0, 2 * H);
          for (let j = 0; j < H; j++) gates[2 * H + j] = xg[gOff + 2 * H + j] + (act[gOff + j] = gates[j]) * hg[gOff + 2 * H + j];
          apply('tanh', 2 * H, GH);
          for (let j = 0; j < H; j++) {
            const update = (act[gOff + H + j] = gates[H + j]);
            const nn = (act[gOff + 2 * H + j] = gates[2 * H + j]);
            y.data[hOff + j] = (1 - update) * nn + update * hPrev[hp + j];
          }
          break;
        }
      }
    }
  }

  /** From dh = ∂L/∂h_t, writes the pre-activation gradients of step t and the direct carries to step t-1. */
  function stepBackward(t: number): void {
    for (let b = 0; b < B; b++) {
      const gOff = (b * T + t) * GH;
      const hOff = (b * T + t) * H;
      const s = b * H;
      switch (kind) {
        case 'rnn_tanh':
        case 'rnn_relu':
        case 'rnn_linear':
          for (let j = 0; j < H; j++) dxg![gOff + j] = dh[s + j] * derivativeFromOutput(rnnActivation, y.data[hOff + j]);
          carryH.fill(0, s, s + H);
          break;
        case 'lstm': {
          const cPrev = previousStates(c!, c0, t);
          const cp = previousOffset(c0, t, b);
          for (let j = 0; j < H; j++) {
            const i = act[gOff + j], f = act[gOff + H + j], gg = act[gOff + 2 * H + j], o = act[gOff + 3 * H + j];
            const tanhC = tc![hOff + j];
            const dc = carryC[s + j] + dh[s + j] * o * (1 - tanhC * tanhC);
            dxg![gOff + j] = dc * gg * i * (1 - i);
            dxg![gOff + H + j] = dc * cPrev[cp + j] * f * (1 - f);
            dxg![gOff + 2 * H + j] = dc * i * (1 - gg * gg);
            dxg![gOff + 3 * H + j] = dh[s + j] * tanhC * o * (1 - o);
            carryC[s + j] = dc * f;
          }
          carryH.fill(0, s, s + H);
          break;
        }
        case 'gru': {
          const hPrev = previousStates(y.data, h0, t);
          const hp = previousOffset(h0, t, b);
          for (let j = 0; j < H; j++) {
            const r = act[gOff + j], z = act[gOff + H + j], nn = act[gOff + 2 * H + j];
            const d = dh[s + j];
            const dn = d * (1 - z) * (1 - nn * nn);
            const dz = d * (hPrev[hp + j] - nn) * z * (1 - z);
            const dr = dn * hg[gOff + 2 * H + j] * r * (1 - r);
            dxg![gOff + j] = dhg![gOff + j] = dr;
            dxg![gOff + H + j] = dhg![gOff + H + j] = dz;
            dxg![gOff + 2 * H + j] = dn;
            dhg![gOff + 2 * H + j] = dn * r;
            carryH[s + j] = d * z;
          }
          break;
        }
      }
    }
  }

  g.record({
    op: kind,
    forward() {
      // All time steps' input projections in one product.
      g.gemm({ transA: false, transB: true, M: B * T, N: GH, K: I, A: x.data, aOffset: 0, lda: I, B: w.weightIh.data, bOffset: 0, ldb: I, C: xg, cOffset: 0, ldc: GH, accumulate: false });
      // W_hh is the same operand at every step: the kernel may keep what it prepared from it after the first product.
      let weightPrepared = false;
      for (let t = 0; t < T; t++) {
        const prev = previousHidden(t);
        if (prev) {
          g.gemm({ transA: false, transB: true, M: B, N: GH, K: H, A: prev.data, aOffset: prev.offset, lda: prev.ld, B: w.weightHh.data, bOffset: 0, ldb: H, C: hg, cOffset: t * GH, ldc: T * GH, accumulate: false, bUnchanged: weightPrepared });
          weightPrepared = true;
        } else {
          for (let b = 0; b < B; b++) hg.fill(0, (b * T + t) * GH, (b * T + t + 1) * GH);
        }
        stepForward(t);
      }
    },
    backward() {
      if (!needsGrad) return; // a frozen layer on a constant input: y has no gradient buffer
      const dy = y.grad!;
      carryH.fill(0);
      carryC.fill(0);
      let weightPrepared = false;
      for (let t = T - 1; t >= 0; t--) {
        let sq = 0;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const v = (dh[b * H + j] = dy[(b * T + t) * H + j] + carryH[b * H + j]);
            sq += v * v;
          }
        }
        hiddenGradNorms[t] = Math.sqrt(sq);
        stepBackward(t);
        const detached = detachEvery > 0 && t > 0 && t % detachEvery === 0;
        if (detached) {
          carryH.fill(0);
          carryC.fill(0);
        } else if (t > 0 || h0?.grad) {
          g.gemm({ transA: false, transB: false, M: B, N: H, K: GH, A: dhg!, aOffset: t * GH, lda: T * GH, B: w.weightHh.data, bOffset: 0, ldb: H, C: carryH, cOffset: 0, ldc: H, accumulate: true, bUnchanged: weightPrepared });
          weightPrepared = true;
        }
      }
      if (h0?.grad) for (let i = 0; i < B * H; i++) h0.grad[i] += carryH[i];
      if (c0?.grad) for (let i = 0; i < B * H; i++) c0.grad[i] += carryC[i];
      if (w.weightIh.grad) g.gemm({ transA: true, transB: false, M: GH, N: I, K: B * T, A: dxg!, aOffset: 0, lda: GH, B: x.data, bOffset: 0, ldb: I, C: w.weightIh.grad, cOffset: 0, ldc: I, accumulate: true });
      if (w.biasIh?.grad) addColumnSums(w.biasIh.grad, dxg!, B * T, GH, GH, 0);
      if (w.biasHh?.grad) addColumnSums(w.biasHh.grad, dhg!, B * T, GH, GH, 0);
      if (w.weightHh.grad) {
        // Σ_t dhg_tᵀ · h_{t-1}: per sequence, steps 1..T-1 pair with hidden states 0..T-2.
        if (T > 1) {
          for (let b = 0; b < B; b++) {
            g.gemm({ transA: true, transB: false, M: GH, N: H, K: T - 1, A: dhg!, aOffset: (b * T + 1) * GH, lda: GH, B: y.data, bOffset: b * T * H, ldb: H, C: w.weightHh.grad, cOffset: 0, ldc: H, accumulate: true });
          }
        }
        if (h0) g.gemm({ transA: true, transB: false, M: GH, N: H, K: B, A: dhg!, aOffset: 0, lda: T * GH, B: h0.data, bOffset: 0, ldb: H, C: w.weightHh.grad, cOffset: 0, ldc: H, accumulate: true });
      }
      if (x.grad) g.gemm({ transA: false, transB: false, M: B * T, N: I, K: GH, A: dxg!, aOffset: 0, lda: GH, B: w.weightIh.data, bOffset: 0, ldb: I, C: x.grad, cOffset: 0, ldc: I, accumulate: true });
    },
  });

  return {
    output: y,
    hiddenGradNorms,
    finalState(h: FloatArray, cOut?: FloatArray) {
      for (let b = 0; b < B; b++) {
        const o = (b * T + T - 1) * H;
        h.set(y.data.subarray(o, o + H), b * H);
        if (cOut && c) cOut.set(c.subarray(o, o + H), b * H);
      }
    },
  };
}
