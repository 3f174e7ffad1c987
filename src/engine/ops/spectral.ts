import type { Graph } from '../graph';
import { expectShape, type FloatArray, Tensor } from '../tensor';

const EPS = 1e-12;

/**
 * One power-iteration step on W [m, n], as torch.nn.utils.spectral_norm does
 * in training mode: v ← normalize(Wᵀu), u ← normalize(W v); returns σ = uᵀ W v.
 */
export function powerIteration(w: FloatArray, m: number, n: number, u: FloatArray, v: FloatArray, iterations: number): number {
  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += w[i * n + j] * u[i];
      v[j] = s;
    }
    normalize(v);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += w[i * n + j] * v[j];
      u[i] = s;
    }
    normalize(u);
  }
  let sigma = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += w[i * n + j] * v[j];
    sigma += u[i] * s;
  }
  return sigma;
}

function normalize(x: FloatArray): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const d = Math.max(Math.sqrt(s), EPS);
  for (let i = 0; i < x.length; i++) x[i] /= d;
}

/**
 * W / σ(W), with σ estimated by power iteration that updates u and v in place
 * on every forward pass. As in PyTorch, u and v are constants for the
 * gradient: ∂L/∂W = G/σ − (Σ G⊙W)/σ² · u vᵀ.
 */
export function spectralNormalize(g: Graph, weight: Tensor, u: FloatArray, v: FloatArray, iterations = 1): Tensor {
  expectShape('spectral_norm', weight.shape.length === 2 && u.length === weight.shape[0] && v.length === weight.shape[1], 'weight must be [m, n] with u of size m and v of size n', weight);
  const [m, n] = weight.shape;
  const y = g.output(weight.shape, weight.requiresGrad, `${weight.name}_sn`);
  let sigma = 1;
  g.record({
    op: 'spectral_norm',
    forward() {
      sigma = powerIteration(weight.data, m, n, u, v, iterations);
      for (let i = 0; i < y.size; i++) y.data[i] = weight.data[i] / sigma;
    },
    backward() {
      if (!weight.grad) return;
      const dy = y.grad!;
      let gw = 0;
      for (let i = 0; i < y.size; i++) gw += dy[i] * weight.data[i];
      const k = gw / (sigma * sigma);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) weight.grad[i * n + j] += dy[i * n + j] / sigma - k * u[i] * v[j];
      }
    },
  });
  return y;
}
