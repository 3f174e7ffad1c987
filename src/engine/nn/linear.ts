import type { Graph } from '../graph';
import { uniform } from '../init';
import { linear } from '../ops/linear';
import { embedding } from '../ops/embedding';
import type { Random } from '../random';
import { type DType, Tensor } from '../tensor';
import type { NamedParameters } from './module';

/** nn.Linear: weight [out, in], bias [out], PyTorch's default init U(±1/√in). */
export class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(dtype: DType, readonly inFeatures: number, readonly outFeatures: number, rng: Random, withBias = true) {
    this.weight = Tensor.zeros(dtype, [outFeatures, inFeatures], true, 'weight');
    this.bias = withBias ? Tensor.zeros(dtype, [outFeatures], true, 'bias') : null;
    const bound = 1 / Math.sqrt(inFeatures);
    uniform(this.weight, rng, bound);
    if (this.bias) uniform(this.bias, rng, bound);
  }

  forward(g: Graph, x: Tensor): Tensor {
    return linear(g, x, this.weight, this.bias);
  }

  parameters(): NamedParameters {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
}

/** nn.Embedding: weight [num, dim] ~ N(0, 1). */
export class Embedding {
  readonly weight: Tensor;

  constructor(dtype: DType, readonly numEmbeddings: number, readonly dim: number, rng: Random) {
    this.weight = Tensor.zeros(dtype, [numEmbeddings, dim], true, 'weight');
    for (let i = 0; i < this.weight.size; i++) this.weight.data[i] = rng.normal();
  }

  forward(g: Graph, ids: Tensor): Tensor {
    return embedding(g, ids, this.weight);
  }

  parameters(): NamedParameters {
    return [['weight', this.weight]];
  }
}
