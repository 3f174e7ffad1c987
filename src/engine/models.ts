import type { Graph } from './graph';
import type { InitName } from './init';
import { Embedding, Linear } from './nn/linear';
import { Mlp, type MlpLayer } from './nn/mlp';
import { prefixed, type NamedParameters } from './nn/module';
import { RecurrentStack, type Nonlinearity, type RecurrentKind } from './nn/recurrent';
import { selectStep } from './ops/shape';
import type { RecurrentLayer } from './ops/recurrent';
import type { Random } from './random';
import type { DType, FloatArray, Tensor } from './tensor';

export interface SequenceModelSpec {
  kind: RecurrentKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  nonlinearity?: Nonlinearity;
  outputSize: number;
  /** 'last': head(h[:, -1]) → [B, out]; 'all': head on every step → [B, T, out]. */
  output: 'last' | 'all';
  /** Inputs are token ids embedded into inputSize dimensions ("embed.weight"). */
  vocabSize?: number;
  spectralNorm?: boolean;
}

export interface MlpModelSpec {
  kind: 'mlp';
  layers: MlpLayer[];
  residual?: boolean;
}

export type ModelSpec = SequenceModelSpec | MlpModelSpec;

export interface InitSpec {
  scheme: InitName;
  /** Recurrent nets: spectral radius of W_hh. MLPs: per-layer gain. */
  radius?: number;
}

export interface RecurrentWeightView {
  name: string;
  data: FloatArray;
  gates: number;
  hidden: number;
  /** Power-iteration vectors when the weight is spectrally normalised: the cell uses data/σ. */
  spectral: { u: FloatArray; v: FloatArray } | null;
}

export interface Forward {
  prediction: Tensor;
  recurrent: RecurrentLayer[];
}

export interface Model {
  readonly spec: ModelSpec;
  parameters(): NamedParameters;
  /** Builds the forward pass on g. Recurrent models may start from given per-layer states. */
  forward(g: Graph, input: Tensor, options?: { initial?: Array<{ h: Tensor; c?: Tensor }>; detachEvery?: number }): Forward;
  /** Recurrent weights as used by the cells, for the spectral instruments. */
  recurrentWeights(): RecurrentWeightView[];
}

export function createModel(dtype: DType, spec: ModelSpec, rng: Random, init: InitSpec = { scheme: 'default' }): Model {
  return spec.kind === 'mlp' ? new MlpModel(dtype, spec, rng, init) : new SequenceModel(dtype, spec, rng, init);
}

/** [embed →] rnn → head, named like a PyTorch module with fields embed, rnn, head. */
class SequenceModel implements Model {
  private readonly embed: Embedding | null;
  private readonly rnn: RecurrentStack;
  private readonly head: Linear;

  constructor(dtype: DType, readonly spec: SequenceModelSpec, rng: Random, init: InitSpec) {
    this.embed = spec.vocabSize ? new Embedding(dtype, spec.vocabSize, spec.inputSize, rng) : null;
    this.rnn = new RecurrentStack(
      dtype,
      { kind: spec.kind, inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, numLayers: spec.numLayers, nonlinearity: spec.nonlinearity, spectralNorm: spec.spectralNorm },
      rng,
      { scheme: init.scheme, radius: init.radius },
    );
    this.head = new Linear(dtype, spec.hiddenSize, spec.outputSize, rng);
  }

  forward(g: Graph, input: Tensor, options: { initial?: Array<{ h: Tensor; c?: Tensor }>; detachEvery?: number } = {}): Forward {
    const x = this.embed ? this.embed.forward(g, input) : input;
    const recurrent = this.rnn.forward(g, x, options);
    const top = recurrent[recurrent.length - 1].output;
    const features = this.spec.output === 'last' ? selectStep(g, top, -1) : top;
    return { prediction: this.head.forward(g, features), recurrent };
  }

  parameters(): NamedParameters {
    return [...(this.embed ? prefixed('embed', this.embed.parameters()) : []), ...prefixed('rnn', this.rnn.parameters()), ...prefixed('head', this.head.parameters())];
  }

  recurrentWeights(): RecurrentWeightView[] {
    return this.rnn.recurrentWeights().map((w) => ({ ...w, name: `rnn.${w.name}` }));
  }
}

class MlpModel implements Model {
  private readonly mlp: Mlp;

  constructor(dtype: DType, readonly spec: MlpModelSpec, rng: Random, init: InitSpec) {
    this.mlp = new Mlp(dtype, spec.layers, rng, { scheme: init.scheme, gain: init.radius }, spec.residual ?? false);
  }

  forward(g: Graph, input: Tensor): Forward {
    return { prediction: this.mlp.forward(g, input), recurrent: [] };
  }

  parameters(): NamedParameters {
    return this.mlp.parameters();
  }

  recurrentWeights(): RecurrentWeightView[] {
    return [];
  }
}
