import type { Graph } from '../graph';
import { expectShape, Tensor } from '../tensor';

/** y[..., out] = x[..., in] · wᵀ[in, out] + b[out], PyTorch's nn.functional.linear. */
export function linear(g: Graph, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const inF = x.shape[x.shape.length - 1];
  const [outF, wIn] = w.shape;
  expectShape('linear', w.shape.length === 2 && wIn === inF, 'weight must be [out, in] with in = the last dim of x', x, w);
  expectShape('linear', !b || (b.shape.length === 1 && b.shape[0] === outF), 'bias must be [out]', w, ...(b ? [b] : []));
  const rows = x.size / inF;
  const y = g.output([...x.shape.slice(0, -1), outF], x.requiresGrad || w.requiresGrad || !!b?.requiresGrad, 'linear');
  g.record({
    op: 'linear',
    forward() {
      g.gemm({ transA: false, transB: true, M: rows, N: outF, K: inF, A: x.data, aOffset: 0, lda: inF, B: w.data, bOffset: 0, ldb: inF, C: y.data, cOffset: 0, ldc: outF, accumulate: false });
      if (b) addRowVector(y.data, b.data, rows, outF);
    },
    backward() {
      const dy = y.grad!;
      // dx = dy · w ; dw = dyᵀ · x ; db = Σ_rows dy
      if (x.grad) g.gemm({ transA: false, transB: false, M: rows, N: inF, K: outF, A: dy, aOffset: 0, lda: outF, B: w.data, bOffset: 0, ldb: inF, C: x.grad, cOffset: 0, ldc: inF, accumulate: true });
      if (w.grad) g.gemm({ transA: true, transB: false, M: outF, N: inF, K: rows, A: dy, aOffset: 0, lda: outF, B: x.data, bOffset: 0, ldb: inF, C: w.grad, cOffset: 0, ldc: inF, accumulate: true });
      if (b?.grad) addColumnSums(b.grad, dy, rows, outF, outF, 0);
    },
  });
  return y;
}

/** Adds v[cols] to every row of m[rows, cols]. */
export function addRowVector(m: Float32Array | Float64Array, v: Float32Array | Float64Array, rows: number, cols: number, ld = cols, offset = 0): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ld;
    for (let c = 0; c < cols; c++) m[o + c] += v[c];
  }
}

/** out[cols] += Σ_r m[r, :cols], rows taken every `ld` elements from `offset`. */
export function addColumnSums(out: Float32Array | Float64Array, m: Float32Array | Float64Array, rows: number, cols: number, ld: number, offset: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ld;
    for (let c = 0; c < cols; c++) out[c] += m[o + c];
  }
}
