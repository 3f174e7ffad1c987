import type { Graph } from '../graph';
import { normal, orthogonalBlock, uniform, xavierUniform, zeros, type InitName } from '../init';
import { GATES, recurrent, type CellKind, type RecurrentLayer } from '../ops/recurrent';
import { spectralNormalize } from '../ops/spectral';
import type { Random } from '../random';
import { allocate, type DType, type FloatArray, Tensor } from '../tensor';
import type { NamedParameters } from './module';

export type RecurrentKind = 'rnn' | 'lstm' | 'gru';
/** 'linear' (no activation) is not in PyTorch's nn.RNN: it is the textbook model whose backward profile is exactly γ^(T−t). */
export const NONLINEARITIES = ['tanh', 'relu', 'linear'] as const;
export type Nonlinearity = (typeof NONLINEARITIES)[number];

export interface RecurrentConfig {
  kind: RecurrentKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  nonlinearity?: Nonlinearity; // vanilla RNN only
  bias?: boolean;
  /** Reparametrise every weight_hh as W/σ(W) (torch.nn.utils.spectral_norm); the parameter becomes weight_hh_l{k}_orig. */
  spectralNorm?: boolean;
}

export interface RecurrentInit {
  scheme: InitName;
  /** Spectral radius of each square recurrent block (orthogonal: exact; normal: expected, std = radius/√H). */
  radius?: number;
}

interface LayerParams {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  /** Power-iteration vectors when the recurrent weight is spectrally normalised. */
  spectral: { u: FloatArray; v: FloatArray } | null;
}

/**
 * nn.RNN / nn.LSTM / nn.GRU with batch_first=True: same parameter names,
 * shapes and gate order (LSTM i,f,g,o; GRU r,z,n).
 */
export class RecurrentStack {
  readonly layers: LayerParams[] = [];
  readonly cell: CellKind;

  constructor(readonly dtype: DType, readonly config: RecurrentConfig, rng: Random, init: RecurrentInit = { scheme: 'default' }) {
    const { kind, inputSize, hiddenSize: H, numLayers } = config;
    if (!(numLayers >= 1)) throw new Error(`${kind}: num_layers must be at least 1 (got ${numLayers})`);
    this.cell = kind === 'rnn' ? (`rnn_${config.nonlinearity ?? 'tanh'}` as const) : kind;
    const G = GATES[this.cell];
    const withBias = config.bias ?? true;
    for (let l = 0; l < numLayers; l++) {
      const inSize = l === 0 ? inputSize : H;
      const suffix = `_l${l}`;
      const layer: LayerParams = {
        weightIh: Tensor.zeros(dtype, [G * H, inSize], true, `weight_ih${suffix}`),
        weightHh: Tensor.zeros(dtype, [G * H, H], true, `weight_hh${suffix}${config.spectralNorm ? '_orig' : ''}`),
        biasIh: withBias ? Tensor.zeros(dtype, [G * H], true, `bias_ih${suffix}`) : null,
        biasHh: withBias ? Tensor.zeros(dtype, [G * H], true, `bias_hh${suffix}`) : null,
        spectral: null,
      };
      this.initialise(layer, init, rng);
      if (config.spectralNorm) {
        // PyTorch starts u and v as normalised Gaussian vectors.
        const u = allocate(dtype, G * H);
        const v = allocate(dtype, H);
        for (const vec of [u, v]) {
          let s = 0;
          for (let i = 0; i < vec.length; i++) s += (vec[i] = rng.normal()) ** 2;
          for (let i = 0; i < vec.length; i++) vec[i] /= Math.sqrt(s);
        }
        layer.spectral = { u, v };
      }
      this.layers.push(layer);
    }
  }

  private initialise(layer: LayerParams, init: RecurrentInit, rng: Random): void {
    const H = this.config.hiddenSize;
    const G = GATES[this.cell];
    const biases = [layer.biasIh, layer.biasHh].filter((b): b is Tensor => b !== null);
    switch (init.scheme) {
      case 'default': {
        // PyTorch: every weight and bias U(-1/√H, 1/√H).
        const bound = 1 / Math.sqrt(H);
        for (const t of [layer.weightIh, layer.weightHh, ...biases]) uniform(t, rng, bound);
        return;
      }
      case 'xavier':
        xavierUniform(layer.weightIh, rng);
        xavierUniform(layer.weightHh, rng);
        biases.forEach(zeros);
        return;
      case 'orthogonal':
        // The recipe for recurrent nets: xavier input weights, one orthogonal block per gate, zero biases.
        xavierUniform(layer.weightIh, rng);
        for (let gate = 0; gate < G; gate++) orthogonalBlock(layer.weightHh.data, H, H, gate * H, rng, init.radius ?? 1);
        biases.forEach(zeros);
        return;
      case 'normal': {
        // A Gaussian H×H matrix with std s has spectral radius ≈ s·√H (circular law).
        const std = (init.radius ?? 1) / Math.sqrt(H);
        normal(layer.weightIh, rng, 1 / Math.sqrt(layer.weightIh.shape[1]));
        normal(layer.weightHh, rng, std);
        biases.forEach(zeros);
        return;
      }
      case 'zeros':
        for (const t of [layer.weightIh, layer.weightHh, ...biases]) zeros(t);
        return;
    }
  }

  /**
   * Runs the stack on x [B, T, I]. `initial` gives each layer's starting
   * state (constants, e.g. the detached final state of the previous batch).
   */
  forward(g: Graph, x: Tensor, options: { initial?: Array<{ h: Tensor; c?: Tensor }>; detachEvery?: number } = {}): RecurrentLayer[] {
    const outputs: RecurrentLayer[] = [];
    let input = x;
    this.layers.forEach((p, l) => {
      const weightHh = p.spectral ? spectralNormalize(g, p.weightHh, p.spectral.u, p.spectral.v) : p.weightHh;
      const state = options.initial?.[l];
      const layer = recurrent(g, this.cell, input, { weightIh: p.weightIh, weightHh, biasIh: p.biasIh, biasHh: p.biasHh }, {
        h0: state?.h ?? null,
        c0: state?.c ?? null,
        detachEvery: options.detachEvery,
      });
      outputs.push(layer);
      input = layer.output;
    });
    return outputs;
  }

  parameters(): NamedParameters {
    const out: Array<readonly [string, Tensor]> = [];
    for (const p of this.layers) {
      for (const t of [p.weightIh, p.weightHh, p.biasIh, p.biasHh]) if (t) out.push([t.name, t]);
    }
    return out;
  }

  /** The recurrent weights as the cell uses them (after spectral normalisation when it is on), per layer. */
  recurrentWeights(): Array<{ name: string; data: FloatArray; gates: number; hidden: number; spectral: LayerParams['spectral'] }> {
    return this.layers.map((p, l) => ({ name: `weight_hh_l${l}`, data: p.weightHh.data, gates: GATES[this.cell], hidden: this.config.hiddenSize, spectral: p.spectral }));
  }
}
