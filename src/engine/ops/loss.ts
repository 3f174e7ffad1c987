import type { Graph } from '../graph';
import { expectShape, Tensor } from '../tensor';
import { sigmoid } from '../kernels/transcendentals';

export type LossKind = 'mse' | 'bce_with_logits' | 'cross_entropy';

/** Targets equal to this class id are left out of cross-entropy, as PyTorch's ignore_index. */
export const IGNORE_INDEX = -100;

function scalarOutput(g: Graph, pred: Tensor, name: string): Tensor {
  return g.output([1], pred.requiresGrad, name);
}

/** mean_i loss(x_i, y_i), with ∂/∂x_i = grad(x_i, y_i) / n. */
function elementwiseMeanLoss(
  g: Graph,
  op: LossKind,
  pred: Tensor,
  target: Tensor,
  lossAt: (x: number, y: number) => number,
  gradAt: (x: number, y: number) => number,
): Tensor {
  expectShape(op, pred.size === target.size, 'prediction and target must have the same number of elements', pred, target);
  const loss = scalarOutput(g, pred, op);
  const n = pred.size;
  g.record({
    op,
    forward() {
      let s = 0;
      for (let i = 0; i < n; i++) s += lossAt(pred.data[i], target.data[i]);
      loss.data[0] = s / n;
    },
    backward() {
      if (!pred.grad) return;
      const k = loss.grad![0] / n;
      for (let i = 0; i < n; i++) pred.grad[i] += k * gradAt(pred.data[i], target.data[i]);
    },
  });
  return loss;
}

/** Mean squared error over all elements. */
export function mse(g: Graph, pred: Tensor, target: Tensor): Tensor {
  return elementwiseMeanLoss(g, 'mse', pred, target, (x, y) => (x - y) * (x - y), (x, y) => 2 * (x - y));
}

/** Binary cross-entropy on logits, mean over elements, in the overflow-safe form PyTorch uses. */
export function bceWithLogits(g: Graph, logits: Tensor, target: Tensor): Tensor {
  return elementwiseMeanLoss(
    g,
    'bce_with_logits',
    logits,
    target,
    (x, y) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))),
    (x, y) => sigmoid(x) - y,
  );
}

/**
 * Cross-entropy of logits [..., C] against integer class ids [...], mean over
 * the targets that are not IGNORE_INDEX.
 */
export function crossEntropy(g: Graph, logits: Tensor, classes: Tensor): Tensor {
  const C = logits.shape[logits.shape.length - 1];
  const rows = logits.size / C;
  expectShape('cross_entropy', classes.size === rows, 'targets must hold one class id per row of logits', logits, classes);
  const loss = scalarOutput(g, logits, 'cross_entropy');
  // Softmax probabilities, kept for backward.
  const probs = new Float64Array(logits.size);
  let counted = 0;
  g.record({
    op: 'cross_entropy',
    forward() {
      let s = 0;
      counted = 0;
      for (let r = 0; r < rows; r++) {
        const o = r * C;
        let max = -Infinity;
        for (let c = 0; c < C; c++) max = Math.max(max, logits.data[o + c]);
        let sum = 0;
        for (let c = 0; c < C; c++) sum += (probs[o + c] = Math.exp(logits.data[o + c] - max));
        for (let c = 0; c < C; c++) probs[o + c] /= sum;
        const target = classes.data[r];
        if (target === IGNORE_INDEX) continue;
        if (!(Number.isInteger(target) && target >= 0 && target < C)) {
          throw new Error(`cross_entropy: target ${target} at row ${r} is not a class id in [0, ${C})`);
        }
        s -= logits.data[o + target] - max - Math.log(sum);
        counted++;
      }
      loss.data[0] = counted ? s / counted : NaN;
    },
    backward() {
      if (!logits.grad || counted === 0) return;
      const k = loss.grad![0] / counted;
      for (let r = 0; r < rows; r++) {
        const target = classes.data[r];
        if (target === IGNORE_INDEX) continue;
        const o = r * C;
        for (let c = 0; c < C; c++) logits.grad[o + c] += k * (probs[o + c] - (c === target ? 1 : 0));
      }
    },
  });
  return loss;
}

export function lossOf(g: Graph, kind: LossKind, pred: Tensor, target: Tensor): Tensor {
  switch (kind) {
    case 'mse':
      return mse(g, pred, target);
    case 'bce_with_logits':
      return bceWithLogits(g, pred, target);
    case 'cross_entropy':
      return crossEntropy(g, pred, target);
  }
}
