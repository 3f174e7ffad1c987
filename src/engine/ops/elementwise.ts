import type { Graph } from '../graph';
import { applyInPlace, type Transcendentals } from '../kernels/transcendentals';
import { expectShape, type FloatArray, Tensor } from '../tensor';

export type Activation = 'tanh' | 'relu' | 'sigmoid' | 'identity';

/** Applies an activation in place (tanh and sigmoid with the graph's kernel); also used by the recurrent cells. */
export function activate(kind: Activation, v: FloatArray, from: number, to: number, transcendentals: Transcendentals): void {
  switch (kind) {
    case 'tanh':
    case 'sigmoid':
      applyInPlace(transcendentals, kind, v, from, to);
      return;
    case 'relu':
      for (let i = from; i < to; i++) if (!(v[i] > 0) && v[i] === v[i]) v[i] = 0; // NaN stays NaN, as in PyTorch
      return;
    case 'identity':
      return;
  }
}

/** The activation's derivative written in terms of its output y = f(z). */
export function derivativeFromOutput(kind: Activation, y: number): number {
  switch (kind) {
    case 'tanh':
      return 1 - y * y;
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'sigmoid':
      return y * (1 - y);
    case 'identity':
      return 1;
  }
}

export function activation(g: Graph, kind: Activation, x: Tensor): Tensor {
  const y = g.output(x.shape, x.requiresGrad, kind);
  g.record({
    op: kind,
    forward() {
      y.data.set(x.data);
      activate(kind, y.data, 0, y.size, g.transcendentals);
    },
    backward() {
      const dx = x.grad;
      if (!dx) return;
      const dy = y.grad!;
      for (let i = 0; i < y.size; i++) dx[i] += dy[i] * derivativeFromOutput(kind, y.data[i]);
    },
  });
  return y;
}

/** a + b, same shapes (residual connections). */
export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  expectShape('add', a.size === b.size && a.shape.length === b.shape.length, 'shapes must match', a, b);
  const y = g.output(a.shape, a.requiresGrad || b.requiresGrad, 'add');
  g.record({
    op: 'add',
    forward() {
      for (let i = 0; i < y.size; i++) y.data[i] = a.data[i] + b.data[i];
    },
    backward() {
      const dy = y.grad!;
      for (const t of [a, b]) if (t.grad) for (let i = 0; i < y.size; i++) t.grad[i] += dy[i];
    },
  });
  return y;
}
