import type { Random } from './random';
import type { FloatArray, Tensor } from './tensor';

/**
 * Weight initialisations, with PyTorch's definitions of fan-in and fan-out
 * (a weight [out, in] has fan_in = in, fan_out = out).
 */
export const INIT_NAMES = ['default', 'xavier', 'orthogonal', 'normal', 'zeros'] as const;
export type InitName = (typeof INIT_NAMES)[number];

export function uniform(t: Tensor, rng: Random, bound: number): void {
  for (let i = 0; i < t.size; i++) t.data[i] = rng.range(-bound, bound);
}

export function normal(t: Tensor, rng: Random, std: number): void {
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
}

export function zeros(t: Tensor): void {
  t.data.fill(0);
}

/** nn.init.xavier_uniform_: U(-a, a), a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, rng: Random, gain = 1): void {
  const [fanOut, fanIn] = fans(t);
  uniform(t, rng, gain * Math.sqrt(6 / (fanIn + fanOut)));
}

function fans(t: Tensor): [number, number] {
  if (t.shape.length < 2) throw new Error(`init: ${t.name || 'tensor'} needs at least 2 dimensions to have a fan-in and fan-out`);
  const receptive = t.size / (t.shape[0] * t.shape[1]);
  return [t.shape[0] * receptive, t.shape[1] * receptive];
}

/**
 * nn.init.orthogonal_ on the rows×cols block starting at row `rowOffset`:
 * Q of the QR decomposition of a Gaussian matrix, signs fixed by diag(R), so
 * the result is uniformly distributed over orthogonal matrices. Multiplied by
 * `gain`, a square block has every eigenvalue of modulus `gain`: its spectral
 * radius is exactly the gain.
 */
export function orthogonalBlock(data: FloatArray, rows: number, cols: number, rowOffset: number, rng: Random, gain = 1): void {
  // Work on the tall orientation (n ≥ m) and transpose back if needed.
  const tall = rows >= cols;
  const n = tall ? rows : cols;
  const m = tall ? cols : rows;
  // Columns of A (n×m), Gaussian.
  const q: Float64Array[] = Array.from({ length: m }, () => Float64Array.from({ length: n }, () => rng.normal()));
  // Modified Gram–Schmidt, twice for stability; the sign convention matches Q·sign(diag(R)).
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[k][i] * q[j][i];
        for (let i = 0; i < n; i++) q[j][i] -= dot * q[k][i];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += q[j][i] * q[j][i];
      norm = Math.sqrt(norm);
      for (let i = 0; i < n; i++) q[j][i] /= norm;
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      data[(rowOffset + r) * cols + c] = gain * (tall ? q[c][r] : q[r][c]);
    }
  }
}

export function orthogonal(t: Tensor, rng: Random, gain = 1): void {
  if (t.shape.length !== 2) throw new Error(`orthogonal: ${t.name || 'tensor'} must be a matrix`);
  orthogonalBlock(t.data, t.shape[0], t.shape[1], 0, rng, gain);
}
