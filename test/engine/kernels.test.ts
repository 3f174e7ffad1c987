import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gemmPlain, type Gemm, type GemmArgs } from '../../src/engine/kernels/gemm';
import { createWasmGemm, wasmSimdAvailable } from '../../src/engine/kernels/wasm-gemm';
import { Random } from '../../src/engine/random';

/** One gemm problem; gaps are the extra floats between stored rows. */
interface Problem {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  aOffset?: number;
  bOffset?: number;
  cOffset?: number;
  aGap?: number;
  bGap?: number;
  cGap?: number;
  seed?: number;
}

interface Operands {
  args: GemmArgs;
  /** Floats of each array that the product must not touch. */
  isOutsideC: (index: number) => boolean;
}

/** Stored shape of an operand: op(X) is rows×cols, stored transposed when trans. */
function storedShape(rows: number, cols: number, trans: boolean): [number, number] {
  return trans ? [cols, rows] : [rows, cols];
}

/**
 * Float32-representable random operands. Gaps and the floats around a matrix
 * hold NaN in A and B (so reading them would show) and a sentinel in C (so
 * writing them would show).
 */
function makeOperands(p: Problem): Operands {
  const random = new Random(p.seed ?? 1);
  const [aOffset, bOffset, cOffset] = [p.aOffset ?? 0, p.bOffset ?? 0, p.cOffset ?? 0];
  const [aRows, aCols] = storedShape(p.M, p.K, p.transA);
  const [bRows, bCols] = storedShape(p.K, p.N, p.transB);
  const lda = aCols + (p.aGap ?? 0);
  const ldb = bCols + (p.bGap ?? 0);
  const ldc = p.N + (p.cGap ?? 0);
  const fill = (rows: number, cols: number, offset: number, ld: number, outside: number): Float32Array => {
    const data = new Float32Array(offset + rows * ld + 3).fill(outside);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) data[offset + r * ld + c] = random.range(-1, 1);
    }
    return data;
  };
  const A = fill(aRows, aCols, aOffset, lda, NaN);
  const B = fill(bRows, bCols, bOffset, ldb, NaN);
  const C = fill(p.M, p.N, cOffset, ldc, 12345);
  return {
    args: {
      transA: p.transA, transB: p.transB, M: p.M, N: p.N, K: p.K,
      A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc, accumulate: p.accumulate,
    },
    isOutsideC: (index) => {
      const row = Math.floor((index - cOffset) / ldc);
      const col = index - cOffset - row * ldc;
      return index < cOffset || row >= p.M || col >= p.N;
    },
  };
}

const asFloat64 = (x: Float32Array | Float64Array): Float64Array => Float64Array.from(x);
const absolute = (x: Float32Array | Float64Array): Float64Array => Float64Array.from(x, Math.abs);

/**
 * Runs the wasm kernel on float32 copies and gemmPlain in float64 on the same
 * values, then checks every element of C: NaN where the reference is NaN, the
 * same infinity, otherwise within 1e-5·√K of the element's magnitude
 * (|C| + Σ_k |A||B|). Floats outside C must keep their exact bits.
 */
function checkAgainstPlain(gemm: Gemm, operands: Operands): Float32Array {
  const { args, isOutsideC } = operands;
  const actual = Float32Array.from(args.C);
  gemm({ ...args, A: Float32Array.from(args.A), B: Float32Array.from(args.B), C: actual });

  const expected = asFloat64(args.C);
  gemmPlain({ ...args, A: asFloat64(args.A), B: asFloat64(args.B), C: expected });
  const magnitude = absolute(args.C);
  gemmPlain({ ...args, A: absolute(args.A), B: absolute(args.B), C: magnitude });

  const tolerance = 1e-5 * Math.max(1, Math.sqrt(args.K));
  for (let index = 0; index < actual.length; index++) {
    const where = `C[${index}] of M=${args.M} N=${args.N} K=${args.K} transA=${args.transA} transB=${args.transB}`;
    if (isOutsideC(index)) {
      assert.ok(Object.is(actual[index], args.C[index]), `${where} is outside C but was written`);
    } else if (Number.isNaN(expected[index]) || !Number.isFinite(expected[index])) {
      assert.ok(Object.is(actual[index], expected[index]), `${where}: ${actual[index]}, expected ${expected[index]}`);
    } else {
      const error = Math.abs(actual[index] - expected[index]);
      assert.ok(
        error <= tolerance * magnitude[index] + 1e-30,
        `${where}: ${actual[index]}, expected ${expected[index]} (error ${error}, magnitude ${magnitude[index]})`,
      );
    }
  }
  return actual;
}

const transposeCases: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const caseName = (transA: boolean, transB: boolean): string => `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;

describe('wasm SIMD gemm', () => {
  let gemm: Gemm;
  before(() => {
    gemm = createWasmGemm();
  });

  it('reports SIMD as available on Node 20', () => {
    assert.equal(wasmSimdAvailable(), true);
  });

  for (const [transA, transB] of transposeCases) {
    it(`matches gemmPlain over a grid of edge shapes for ${caseName(transA, transB)}`, () => {
      let seed = 1;
      for (const M of [1, 3, 4, 5, 8, 13]) {
        for (const N of [1, 4, 7, 8, 9, 17, 33]) {
          for (const K of [1, 2, 3, 4, 5, 16, 17]) {
            for (const accumulate of [false, true]) {
              checkAgainstPlain(gemm, makeOperands({ M, N, K, transA, transB, accumulate, seed: seed++ }));
            }
          }
        }
      }
    });

    it(`matches gemmPlain on strided, offset operands for ${caseName(transA, transB)}`, () => {
      let seed = 100;
      for (const [aGap, bGap, cGap] of [[1, 2, 3], [5, 0, 1], [0, 7, 0], [40, 33, 17], [300, 300, 300]]) {
        for (const accumulate of [false, true]) {
          checkAgainstPlain(gemm, makeOperands({
            M: 11, N: 19, K: 13, transA, transB, accumulate,
            aOffset: 3, bOffset: 7, cOffset: 5, aGap, bGap, cGap, seed: seed++,
          }));
        }
      }
    });

    it(`matches gemmPlain on sizes spanning several k blocks for ${caseName(transA, transB)}`, () => {
      for (const accumulate of [false, true]) {
        checkAgainstPlain(gemm, makeOperands({ M: 37, N: 45, K: 600, transA, transB, accumulate, aGap: 2, cGap: 1 }));
        checkAgainstPlain(gemm, makeOperands({ M: 130, N: 257, K: 131, transA, transB, accumulate, seed: 7 }));
      }
    });
  }

  it('matches gemmPlain on the training shapes', () => {
    checkAgainstPlain(gemm, makeOperands({ M: 32, N: 512, K: 128, transA: false, transB: true, accumulate: false }));
    checkAgainstPlain(gemm, makeOperands({ M: 3200, N: 64, K: 16, transA: false, transB: true, accumulate: true }));
    checkAgainstPlain(gemm, makeOperands({ M: 64, N: 128, K: 3200, transA: true, transB: false, accumulate: true }));
  });

  it('matches gemmPlain on random small problems (property)', () => {
    const dimension = fc.integer({ min: 1, max: 21 });
    const small = fc.integer({ min: 0, max: 4 });
    fc.assert(
      fc.property(
        fc.record({
          M: dimension, N: dimension, K: fc.integer({ min: 0, max: 21 }),
          transA: fc.boolean(), transB: fc.boolean(), accumulate: fc.boolean(),
          aOffset: small, bOffset: small, cOffset: small, aGap: small, bGap: small, cGap: small,
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (problem) => {
          checkAgainstPlain(gemm, makeOperands(problem));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('treats K = 0 as an empty sum: zeros, or C unchanged when accumulating', () => {
    for (const [transA, transB] of transposeCases) {
      for (const accumulate of [false, true]) {
        const operands = makeOperands({ M: 5, N: 6, K: 0, transA, transB, accumulate, cGap: 2, cOffset: 1 });
        const result = checkAgainstPlain(gemm, operands);
        const { C, cOffset, ldc } = operands.args;
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < 6; j++) {
            assert.equal(result[cOffset + i * ldc + j], accumulate ? C[cOffset + i * ldc + j] : 0);
          }
        }
      }
    }
  });

  it('propagates NaN and Inf like plain arithmetic, including 0·Inf', () => {
    for (const [transA, transB] of transposeCases) {
      const operands = makeOperands({ M: 9, N: 10, K: 7, transA, transB, accumulate: false, seed: 3 });
      const { A, B, lda, ldb } = operands.args;
      const aAt = (i: number, k: number): number => (transA ? k * lda + i : i * lda + k);
      const bAt = (k: number, j: number): number => (transB ? j * ldb + k : k * ldb + j);
      A[aAt(2, 3)] = NaN; // row 2 of C becomes NaN
      B[bAt(5, 7)] = Infinity; // column 7 becomes ±Inf...
      for (let k = 0; k < 7; k++) A[aAt(6, k)] = 0; // ...and NaN in row 6, where it meets zeros
      B[bAt(1, 4)] = Infinity;
      B[bAt(2, 4)] = -Infinity;
      A[aAt(0, 1)] = A[aAt(0, 2)] = 0.5; // so C[0, 4] sums +Inf and -Inf: NaN
      const result = checkAgainstPlain(gemm, operands);
      const cAt = (i: number, j: number): number => result[i * operands.args.ldc + j];
      assert.ok(Number.isNaN(cAt(2, 0)) && Number.isNaN(cAt(6, 7)) && Number.isNaN(cAt(0, 4)));
      assert.equal(Math.abs(cAt(0, 7)), Infinity);
      assert.ok(Number.isFinite(cAt(0, 0)));
    }
  });

  it('gives the same bits on repeated calls and reads B afresh each time', () => {
    const { args } = makeOperands({ M: 20, N: 30, K: 40, transA: false, transB: true, accumulate: false });
    const first = new Float32Array(args.C.length);
    const again = new Float32Array(args.C.length);
    gemm({ ...args, C: first });
    gemm({ ...args, C: again });
    assert.deepEqual(again, first);
    // Same B array, new contents: nothing may be cached by identity.
    for (let index = 0; index < args.B.length; index++) args.B[index] *= 2;
    const doubled = new Float32Array(args.C.length);
    gemm({ ...args, C: doubled });
    for (let index = 0; index < 20 * 30; index++) assert.equal(doubled[index], first[index] * 2);
  });

  it('with bUnchanged, gives the bits of a fresh call, and repacks when B is not the previous operand', () => {
    for (const [transA, transB] of transposeCases) {
      const fresh = createWasmGemm();
      const reusing = createWasmGemm();
      // A recurrent loop: the same B, a new A and C at every step, as the layers call it.
      const steps = [1, 2, 3].map((seed) => makeOperands({ M: 13, N: 21, K: 19, transA, transB, accumulate: seed === 2, seed }).args);
      const shared = { B: steps[0].B, bOffset: steps[0].bOffset, ldb: steps[0].ldb };
      steps.forEach((args, step) => {
        const expected = Float32Array.from(args.C);
        const actual = Float32Array.from(args.C);
        fresh({ ...args, ...shared, C: expected });
        reusing({ ...args, ...shared, C: actual, bUnchanged: step > 0 });
        assert.deepEqual(actual, expected, `${caseName(transA, transB)}, step ${step}`);
      });
      // The flag set wrongly for another array, another M (moving the panels) or another region of the same array: the kernel must notice.
      const other = makeOperands({ M: 13, N: 21, K: 19, transA, transB, accumulate: false, seed: 9 });
      const otherResult = checkAgainstPlain(fresh, other);
      const check = (args: GemmArgs, label: string): void => {
        const expected = Float32Array.from(args.C);
        fresh({ ...args, C: expected });
        const actual = Float32Array.from(args.C);
        reusing({ ...args, C: actual, bUnchanged: true });
        assert.deepEqual(actual, expected, `${caseName(transA, transB)}: ${label}`);
      };
      const otherActual = Float32Array.from(other.args.C);
      reusing({ ...other.args, C: otherActual, bUnchanged: true });
      assert.deepEqual(otherActual, otherResult, `${caseName(transA, transB)}: another B array`);
      check(makeOperands({ M: 30, N: 21, K: 19, transA, transB, accumulate: true, seed: 10 }).args, 'another M');
      const shifted = makeOperands({ M: 30, N: 21, K: 19, transA, transB, accumulate: false, bOffset: 2, seed: 10 }).args;
      check(shifted, 'B at an offset');
      check({ ...shifted, bOffset: 1 }, 'the same B array at another offset');
    }
  });

  it('grows its memory for a larger problem and stays right before and after', () => {
    const fresh = createWasmGemm();
    const small = makeOperands({ M: 6, N: 10, K: 5, transA: true, transB: false, accumulate: true, seed: 11 });
    const smallResult = checkAgainstPlain(fresh, small);
    const snapshot = Float32Array.from(smallResult);
    // About 4 MB of packed operands: far past the initial 64 KiB page.
    checkAgainstPlain(fresh, makeOperands({ M: 300, N: 310, K: 320, transA: false, transB: true, accumulate: true, seed: 12 }));
    assert.deepEqual(smallResult, snapshot);
    assert.deepEqual(checkAgainstPlain(fresh, small), smallResult);
  });

  it('rejects Float64Array operands with a clear error', () => {
    const args = makeOperands({ M: 2, N: 2, K: 2, transA: false, transB: false, accumulate: false }).args;
    for (const name of ['A', 'B', 'C'] as const) {
      assert.throws(() => gemm({ ...args, [name]: asFloat64(args[name]) }), new RegExp(`Float32Array.*${name} is a Float64Array`));
    }
  });
});
