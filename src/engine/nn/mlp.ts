import type { Graph } from '../graph';
import { normal, orthogonal, xavierUniform, zeros, type InitName } from '../init';
import { activation, add, type Activation } from '../ops/elementwise';
import type { Random } from '../random';
import type { DType, Tensor } from '../tensor';
import { Linear } from './linear';
import { prefixed, type NamedParameters } from './module';

/** One entry of an nn.Sequential: a linear layer or an activation. */
export type MlpLayer = { linear: [number, number] } | { act: Activation };

export interface MlpInit {
  scheme: InitName;
  /** Per-layer gain: weights get std = gain/√fan_in (normal) or are scaled by it (orthogonal, xavier). */
  gain?: number;
}

/**
 * An nn.Sequential of linear layers and activations, with PyTorch's names
 * ("0.weight", "2.bias", ...). With `residual`, every square linear layer
 * followed by an activation becomes a block x + act(W x + b).
 */
export class Mlp {
  private readonly entries: Array<{ index: number; linear: Linear; act: Activation | null; residual: boolean }> = [];

  constructor(dtype: DType, readonly spec: readonly MlpLayer[], rng: Random, init: MlpInit = { scheme: 'default' }, residual = false) {
    spec.forEach((layer, index) => {
      if ('linear' in layer) {
        const [inF, outF] = layer.linear;
        const next = spec[index + 1];
        const act = next && 'act' in next ? next.act : null;
        const linear = new Linear(dtype, inF, outF, rng);
        initialiseLinear(linear, init, rng);
        this.entries.push({ index, linear, act, residual: residual && inF === outF && act !== null });
      } else if (index === 0 || !('linear' in spec[index - 1])) {
        throw new Error(`mlp: activation ${layer.act} at position ${index} must follow a linear layer`);
      }
    });
    for (let i = 1; i < this.entries.length; i++) {
      const prevOut = this.entries[i - 1].linear.outFeatures;
      if (this.entries[i].linear.inFeatures !== prevOut) {
        throw new Error(`mlp: layer ${this.entries[i].index} takes ${this.entries[i].linear.inFeatures} features but the layer before gives ${prevOut}`);
      }
    }
  }

  forward(g: Graph, x: Tensor): Tensor {
    let h = x;
    for (const e of this.entries) {
      let y = e.linear.forward(g, h);
      if (e.act) y = activation(g, e.act, y);
      h = e.residual ? add(g, h, y) : y;
    }
    return h;
  }

  parameters(): NamedParameters {
    return this.entries.flatMap((e) => prefixed(String(e.index), e.linear.parameters()));
  }

  /** A deep MLP: input → depth-1 hidden layers of width `hidden` → output, with one activation after each hidden layer. */
  static stack(inputSize: number, hidden: number, depth: number, outputSize: number, act: Activation): MlpLayer[] {
    if (!(depth >= 1)) throw new Error(`mlp: depth must be at least 1 (got ${depth})`);
    const layers: MlpLayer[] = [];
    for (let l = 0; l < depth; l++) {
      const inF = l === 0 ? inputSize : hidden;
      const last = l === depth - 1;
      layers.push({ linear: [inF, last ? outputSize : hidden] });
      if (!last) layers.push({ act });
    }
    return layers;
  }
}

function initialiseLinear(linear: Linear, init: MlpInit, rng: Random): void {
  const gain = init.gain ?? 1;
  const bias = linear.bias;
  switch (init.scheme) {
    case 'default':
      return;
    case 'xavier':
      xavierUniform(linear.weight, rng, gain);
      break;
    case 'orthogonal':
      orthogonal(linear.weight, rng, gain);
      break;
    case 'normal':
      normal(linear.weight, rng, gain / Math.sqrt(linear.inFeatures));
      break;
    case 'zeros':
      zeros(linear.weight);
      break;
  }
  if (bias) zeros(bias);
}
