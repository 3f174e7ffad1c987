/**
 * GFLOP/s of gemmPlain vs the wasm SIMD kernel on Float32Array, for the shapes
 * the recurrent-net training loop uses. Run: npx tsx scripts/gemm-throughput.ts
 * Timings are noisy: each figure is the best of several timed rounds.
 */
import { gemmPlain, type Gemm, type GemmArgs } from '../src/engine/kernels/gemm';
import { createWasmGemm } from '../src/engine/kernels/wasm-gemm';

interface Shape {
  label: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

const shapes: Shape[] = [
  { label: '(32×128)·(128×512)ᵀ', M: 32, N: 512, K: 128, transA: false, transB: true },
  { label: '(32×512)·(512×128)', M: 32, N: 128, K: 512, transA: false, transB: false },
  { label: '(3200×16)·(16×512)ᵀ', M: 3200, N: 512, K: 16, transA: false, transB: true },
  { label: '(3200×512)·(512×16)', M: 3200, N: 16, K: 512, transA: false, transB: false },
  { label: '(512×3200)·(3200×128), transA', M: 512, N: 128, K: 3200, transA: true, transB: false },
  { label: '(128×32)·(32×512), transA', M: 128, N: 512, K: 32, transA: true, transB: false },
];

function randomArray(length: number): Float32Array {
  return Float32Array.from({ length }, () => Math.random() * 2 - 1);
}

function argsFor(s: Shape): GemmArgs {
  return {
    transA: s.transA, transB: s.transB, M: s.M, N: s.N, K: s.K,
    A: randomArray(s.M * s.K), aOffset: 0, lda: s.transA ? s.M : s.K,
    B: randomArray(s.K * s.N), bOffset: 0, ldb: s.transB ? s.K : s.N,
    C: new Float32Array(s.M * s.N), cOffset: 0, ldc: s.N, accumulate: false,
  };
}

/** Best GFLOP/s over rounds of at least ~50 ms each. */
function gflops(gemm: Gemm, args: GemmArgs, rounds = 5): number {
  const flops = 2 * args.M * args.N * args.K;
  for (let i = 0; i < 3; i++) gemm(args); // let the JIT and wasm tier-up settle
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      gemm(args);
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < 50);
    best = Math.max(best, (flops * calls) / (elapsed * 1e6));
  }
  return best;
}

const wasmGemm = createWasmGemm();
console.log('shape'.padEnd(34) + 'plain GFLOP/s'.padStart(14) + 'wasm GFLOP/s'.padStart(14) + 'speed-up'.padStart(10));
for (const shape of shapes) {
  const args = argsFor(shape);
  const plain = gflops(gemmPlain, args, 2);
  const wasm = gflops(wasmGemm, args);
  console.log(
    shape.label.padEnd(34) + plain.toFixed(2).padStart(14) + wasm.toFixed(2).padStart(14) +
      `${(wasm / plain).toFixed(1)}×`.padStart(10),
  );
}
