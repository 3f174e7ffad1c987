/**
 * One training step in GradLens's native JSON-lines format (DESIGN.md).
 * grad_norm is the total L2 norm before clipping; NaN and ±Infinity are data.
 */
export interface StepRecord {
  step: number;
  loss: number;
  grad_norm: number;
  lr: number;
  clipped: boolean;
  /** Norm clipping threshold, when norm clipping is on. */
  max_norm?: number;
  /** Value clipping bound, when value clipping is on. */
  clip_value?: number;
  /** Gradient L2 norm per parameter, before clipping. */
  layers: Record<string, number>;
  /** Weight L2 norm per parameter, after the update. */
  weight_norms: Record<string, number>;
  /** Parameters whose gradient has a NaN or an infinity. */
  nonfinite: string[];
  /** Every few steps: spectral norm and radius of each recurrent weight. */
  spectral?: Record<string, { norm: number; radius: number[] }>;
  /** Every few steps: ‖∂L/∂h_t‖ for t = 0..T-1, per recurrent layer. */
  hidden_grad_norms?: Record<string, number[]>;
}

/**
 * JSON with Python's spelling of non-finite numbers (bare NaN, Infinity,
 * -Infinity), which JSON.stringify would silently turn into null.
 */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}\u0000` : v)).replace(
    /"\\u0000(NaN|Infinity|-Infinity)\\u0000"/g,
    '$1',
  );
}
