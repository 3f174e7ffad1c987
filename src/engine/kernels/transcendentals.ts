/**
 * The engine's sigmoid and tanh over runs of float64 values: the plain kernel
 * calls Math.exp and Math.tanh per value; a faster kernel must give the same
 * bits (wasm-transcendentals.ts does, with fdlibm's algorithms, which V8 uses).
 * Values stay float64 in the scratch, so a float32 model rounds them only where
 * it stores them, as before.
 */
import type { FloatArray } from './gemm';

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export type TranscendentalKind = 'sigmoid' | 'tanh';

export interface Transcendentals {
  /** A float64 scratch of at least `length` values, what the kernel works on; valid until the next call of scratch. */
  scratch(length: number): Float64Array;
  /** scratch[from..to) = sigmoid or tanh of itself. */
  applyToScratch(kind: TranscendentalKind, from: number, to: number): void;
}

/** The floats a pass over an array stages through the scratch at a time. */
const CHUNK = 4096;

/** v[from..to) = sigmoid or tanh of itself, through the kernel's scratch. */
export function applyInPlace(kernel: Transcendentals, kind: TranscendentalKind, v: FloatArray, from: number, to: number): void {
  const scratch = kernel.scratch(Math.min(CHUNK, to - from));
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    scratch.set(v.subarray(start, end));
    kernel.applyToScratch(kind, 0, end - start);
    v.set(scratch.subarray(0, end - start), start);
  }
}

/** Math.exp and Math.tanh, value by value: the reference, and the kernel without WebAssembly SIMD. */
export function createPlainTranscendentals(): Transcendentals {
  let buffer = new Float64Array(CHUNK);
  return {
    scratch(length) {
      if (length > buffer.length) buffer = new Float64Array(length);
      return buffer;
    },
    applyToScratch(kind, from, to) {
      if (kind === 'sigmoid') for (let i = from; i < to; i++) buffer[i] = sigmoid(buffer[i]);
      else for (let i = from; i < to; i++) buffer[i] = Math.tanh(buffer[i]);
    },
  };
}
