import { clipGradNorm, clipGradValue } from '../engine/clip';
import { Tensor } from '../engine/tensor';
import type { ClipMode } from '../protocol/playground';

/**
 * A gradient clipped exactly as training clips it: the engine's
 * clip_grad_norm_ / clip_grad_value_ (PyTorch's rules, ε included) applied to
 * the vector held as a parameter's gradient.
 */
export function clipVector(gradient: ArrayLike<number>, mode: ClipMode, threshold: number): Float64Array {
  const holder = Tensor.zeros('float64', [gradient.length], true);
  holder.grad!.set(gradient);
  if (mode === 'norm') clipGradNorm([holder], threshold, Math.sqrt(holder.gradSquaredNorm()));
  else if (mode === 'value') clipGradValue([holder], threshold);
  return holder.grad as Float64Array;
}

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** cos∠(a, b); NaN when either is zero or not finite. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot / (norm(a) * norm(b));
}
