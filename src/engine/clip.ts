import type { Tensor } from './tensor';

/** L2 norm of each parameter's gradient and of all of them together, in float64. */
export function gradientNorms(params: readonly Tensor[], perParam: Float64Array): number {
  let total = 0;
  params.forEach((p, k) => {
    const sq = p.gradSquaredNorm();
    perParam[k] = Math.sqrt(sq);
    total += sq;
  });
  return Math.sqrt(total);
}

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by
 * min(1, max_norm / (total_norm + 1e-6)) and returns the norm before clipping.
 * As in PyTorch, the scaling is applied even when the norm is NaN or infinite,
 * so a non-finite norm spreads to every gradient: that is what users see.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, totalNorm: number): number {
  const coef = Math.min(maxNorm / (totalNorm + 1e-6), 1); // NaN stays NaN
  for (const p of params) {
    const grad = p.grad;
    if (!grad) continue;
    for (let i = 0; i < grad.length; i++) grad[i] *= coef;
  }
  return totalNorm;
}

/** torch.nn.utils.clip_grad_value_: clamps every gradient element to [-v, v]; NaN stays NaN. */
export function clipGradValue(params: readonly Tensor[], clipValue: number): void {
  for (const p of params) {
    const grad = p.grad;
    if (!grad) continue;
    for (let i = 0; i < grad.length; i++) {
      const gi = grad[i];
      if (gi > clipValue) grad[i] = clipValue;
      else if (gi < -clipValue) grad[i] = -clipValue;
    }
  }
}
