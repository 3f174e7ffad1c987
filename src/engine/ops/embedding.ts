import type { Graph } from '../graph';
import { expectShape, Tensor } from '../tensor';

/** Rows of weight [V, D] picked by integer ids [...] → [..., D]. */
export function embedding(g: Graph, ids: Tensor, weight: Tensor): Tensor {
  expectShape('embedding', weight.shape.length === 2, 'weight must be [num_embeddings, dim]', weight);
  const [V, D] = weight.shape;
  const y = g.output([...ids.shape, D], weight.requiresGrad, 'embedding');
  g.record({
    op: 'embedding',
    forward() {
      for (let i = 0; i < ids.size; i++) {
        const id = ids.data[i];
        if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`embedding: id ${id} at position ${i} is outside [0, ${V})`);
        y.data.set(weight.data.subarray(id * D, (id + 1) * D), i * D);
      }
    },
    backward() {
      if (!weight.grad) return;
      const dy = y.grad!;
      for (let i = 0; i < ids.size; i++) {
        const o = ids.data[i] * D;
        for (let d = 0; d < D; d++) weight.grad[o + d] += dy[i * D + d];
      }
    },
  });
  return y;
}
