/**
 * General matrix product on row-major typed arrays, BLAS style:
 *   C[M×N] = (accumulate ? C : 0) + op(A)[M×K] · op(B)[K×N]
 * where op(A) = Aᵀ when transA (A is then stored K×M) and likewise for B.
 * Leading dimensions (lda, ldb, ldc) are row strides, so a kernel can work on
 * a time slice or a gate block of a larger buffer without copying it.
 */
export type FloatArray = Float32Array | Float64Array;

export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  A: FloatArray;
  aOffset: number;
  lda: number;
  B: FloatArray;
  bOffset: number;
  ldb: number;
  C: FloatArray;
  cOffset: number;
  ldc: number;
  accumulate: boolean;
  /**
   * The caller's promise that op(B) is the operand of this kernel's previous
   * call, unchanged (same array, region and values), so a kernel may reuse
   * what it prepared from it: the recurrent loops multiply by W_hh at every
   * time step. It never changes a result.
   */
  bUnchanged?: boolean;
}

export type Gemm = (args: GemmArgs) => void;

/**
 * The plain TypeScript kernel: the reference for every other kernel and the one
 * used for float64. The inner loop runs over contiguous memory in every case
 * (i-k-j order for A·B, dot products for A·Bᵀ), which keeps it a few times
 * faster than the textbook i-j-k loop without changing a single rounding:
 * each C element is summed in k order, as in the textbook loop.
 */
export const gemmPlain: Gemm = (g) => {
  const { transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc } = g;
  if (!transB) {
    // Row i of C accumulates A[i,k] · B[k,:] for k in order.
    for (let i = 0; i < M; i++) {
      const c0 = cOffset + i * ldc;
      if (!g.accumulate) C.fill(0, c0, c0 + N);
      for (let k = 0; k < K; k++) {
        const a = transA ? A[aOffset + k * lda + i] : A[aOffset + i * lda + k];
        const b0 = bOffset + k * ldb;
        for (let j = 0; j < N; j++) C[c0 + j] += a * B[b0 + j];
      }
    }
    return;
  }
  // op(B) = Bᵀ: C[i,j] = Σ_k A[i,k] · B[j,k], a dot product over contiguous rows of B.
  for (let i = 0; i < M; i++) {
    const c0 = cOffset + i * ldc;
    for (let j = 0; j < N; j++) {
      const b0 = bOffset + j * ldb;
      let s = g.accumulate ? C[c0 + j] : 0;
      if (transA) {
        for (let k = 0; k < K; k++) s += A[aOffset + k * lda + i] * B[b0 + k];
      } else {
        const a0 = aOffset + i * lda;
        for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      }
      C[c0 + j] = s;
    }
  }
};
