import type { Graph } from '../graph';
import { expectShape, Tensor } from '../tensor';

/** x[:, t] of a batch-first sequence [B, T, H] → [B, H]; t may be negative, as in Python. */
export function selectStep(g: Graph, x: Tensor, t: number): Tensor {
  expectShape('select_step', x.shape.length === 3, 'expected a batch-first sequence [B, T, H]', x);
  const [B, T, H] = x.shape;
  const step = t < 0 ? T + t : t;
  expectShape('select_step', step >= 0 && step < T, `step ${t} is outside the sequence`, x);
  const y = g.output([B, H], x.requiresGrad, `step${t}`);
  g.record({
    op: 'select_step',
    forward() {
      for (let b = 0; b < B; b++) y.data.set(x.data.subarray((b * T + step) * H, (b * T + step + 1) * H), b * H);
    },
    backward() {
      if (!x.grad) return;
      const dy = y.grad!;
      for (let b = 0; b < B; b++) {
        const o = (b * T + step) * H;
        for (let h = 0; h < H; h++) x.grad[o + h] += dy[b * H + h];
      }
    },
  });
  return y;
}

/** The same values with no gradient flowing back: PyTorch's tensor.detach(). */
export function detach(g: Graph, x: Tensor): Tensor {
  const y = g.output(x.shape, false, 'detach');
  g.record({
    op: 'detach',
    forward() {
      y.data.set(x.data);
    },
    backward() {},
  });
  return y;
}
