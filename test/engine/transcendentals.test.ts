import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FdlibmEmitter } from '../../src/engine/kernels/fdlibm';
import { sigmoid, type Transcendentals } from '../../src/engine/kernels/transcendentals';
import { createWasmTranscendentals, wasmTranscendentalsAvailable } from '../../src/engine/kernels/wasm-transcendentals';
import { DEFAULT_CONFIG, Trainer, type TrainConfig } from '../../src/engine/trainer';
import { encodeModule, FunctionBuilder, instantiate, PAGE_BYTES, V128, type WasmMemory } from '../../src/shared/wasm';

type Fn = 'exp' | 'sigmoid' | 'tanh';
const REFERENCE: Record<Fn, (x: number) => number> = { exp: Math.exp, sigmoid, tanh: Math.tanh };

/**
 * The kernel has no exp run (the engine needs none), so exp is checked on its
 * own: a module with one loop around the emitter's exp, the code sigmoid inlines.
 */
function expRun(): (values: Float64Array) => Float64Array {
  const f = new FunctionBuilder('exp', 2);
  const [pointer, pairs] = f.params;
  const x = f.local(V128);
  const out = f.local(V128);
  const fdlibm = new FdlibmEmitter(f);
  f.loop().get(pointer).v128Load(0).set(x);
  fdlibm.exp(x, out);
  f.get(pointer).get(out).v128Store(0).increment(pointer, 16).countDown(pairs);
  const exports = instantiate(encodeModule([f], 1)) as { memory: WasmMemory; exp(pointer: number, pairs: number): void } | null;
  assert.ok(exports);
  return (values) => {
    const bytes = (values.length + 1) * 8;
    if (bytes > exports.memory.buffer.byteLength) exports.memory.grow(Math.ceil((bytes - exports.memory.buffer.byteLength) / PAGE_BYTES));
    const heap = new Float64Array(exports.memory.buffer, 0, values.length + 1);
    heap.set(values);
    exports.exp(0, (values.length + 1) >> 1);
    return heap.slice(0, values.length);
  };
}

function firstMismatch(fn: Fn, inputs: Float64Array, outputs: Float64Array): string | null {
  for (let i = 0; i < inputs.length; i++) {
    const expected = REFERENCE[fn](inputs[i]);
    if (!Object.is(outputs[i], expected)) return `${fn}(${inputs[i]}) = ${outputs[i]}, Math gives ${expected}`;
  }
  return null;
}

/** Doubles within `steps` units in the last place on either side of each threshold, of both signs. */
function around(thresholds: readonly number[], steps: number): Float64Array {
  const values = new Float64Array(thresholds.length * 2 * (2 * steps + 1));
  const bits = new BigInt64Array(values.buffer);
  let n = 0;
  for (const threshold of thresholds) {
    for (const signed of [threshold, -threshold]) {
      const center = new BigInt64Array(new Float64Array([signed]).buffer)[0];
      for (let d = -steps; d <= steps; d++) bits[n++] = center + BigInt(d);
    }
  }
  return values;
}

const LN2 = Math.LN2;
/** Where fdlibm's exp, expm1 and tanh change branch, and where this port's common path ends. */
const THRESHOLDS = [
  0.5 * LN2, 1.5 * LN2, 2 ** -28, 2 ** -27, 2 ** -54, 2 ** -55, 1, 2, 22, 704, 709.782712893384, 745.1332191019411,
  1021.5 * LN2, 1023.5 * LN2, 1024.5 * LN2, // exp's k = -1022, 1024, 1025
  (19.5 * LN2) / 2, (56.5 * LN2) / 2, (1.5 * LN2) / 2, (0.5 * LN2) / 2, // tanh's expm1(2|x|) at k = 20, 57, and ±1 boundaries
  // the high words fdlibm compares with, as doubles with low word 0
  ...[0x3fd62e42, 0x3fd62e43, 0x3ff0a2b2, 0x3e300000, 0x40862e42, 0x40860000, 0x40360000, 0x3ff00000].map(
    (high) => new Float64Array(new BigInt64Array([BigInt(high) << 32n]).buffer)[0],
  ),
  Number.MIN_VALUE, 2 ** -1022, Number.MAX_VALUE,
];

describe('WebAssembly exp, sigmoid and tanh (fdlibm)', () => {
  let kernel: Transcendentals;
  let exp: (values: Float64Array) => Float64Array;
  const run = (fn: Fn, values: Float64Array): Float64Array => {
    if (fn === 'exp') return exp(values);
    kernel.scratch(values.length).set(values);
    kernel.applyToScratch(fn, 0, values.length);
    return kernel.scratch(values.length).slice(0, values.length);
  };

  before(() => {
    assert.equal(wasmTranscendentalsAvailable(), true);
    kernel = createWasmTranscendentals();
    exp = expRun();
  });

  for (const fn of ['exp', 'sigmoid', 'tanh'] as const) {
    it(`${fn} gives Math's bits for arbitrary doubles: NaN, ±Infinity, ±0, subnormals, huge (property, 300,000 values)`, () => {
      fc.assert(
        fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 300 }), (xs) => {
          const inputs = Float64Array.from(xs);
          assert.equal(firstMismatch(fn, inputs, run(fn, inputs)), null);
        }),
        { numRuns: 2000 },
      );
    });

    it(`${fn} gives Math's bits for doubles of gate-sized magnitudes (property, 300,000 values)`, () => {
      fc.assert(
        fc.property(fc.array(fc.double({ min: -40, max: 40, noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
          const inputs = Float64Array.from(xs);
          assert.equal(firstMismatch(fn, inputs, run(fn, inputs)), null);
        }),
        { numRuns: 2000 },
      );
    });

    it(`${fn} gives Math's bits on dense sweeps around fdlibm's branch thresholds`, () => {
      const inputs = around(THRESHOLDS, 4000);
      assert.equal(firstMismatch(fn, inputs, run(fn, inputs)), null);
    });
  }

  it('applies a run with an odd start and an odd length, leaving the values around it alone', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), fc.constantFrom('sigmoid' as const, 'tanh' as const), (xs, a, b, fn) => {
        const from = a % xs.length;
        const to = from + (b % (xs.length - from + 1));
        const scratch = kernel.scratch(xs.length);
        scratch.set(xs);
        kernel.applyToScratch(fn, from, to);
        xs.forEach((x, i) => assert.ok(Object.is(scratch[i], i >= from && i < to ? REFERENCE[fn](x) : x), `index ${i} of [${from}, ${to})`));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('training with WebAssembly transcendentals gives the same bits as with Math.exp and Math.tanh', () => {
  const SHAPES: Array<{ name: string; config: Partial<TrainConfig> }> = [
    { name: 'memory task, 1 layer', config: { task: 'memory', layers: 1 } },
    { name: 'chars task, 2 layers, carried state, TBPTT 7', config: { task: 'chars', layers: 2, tbptt: 7 } },
    { name: 'adding task, 2 layers, norm clipping', config: { task: 'adding', inputSize: 2, layers: 2, clip: { mode: 'norm', maxNorm: 0.5 } } },
  ];

  /** Every record and, after the last step, every weight. */
  function train(config: TrainConfig): { records: unknown[]; weights: Uint8Array[] } {
    const trainer = new Trainer(config);
    const records: unknown[] = [];
    for (let s = 0; s < config.steps; s++) records.push(trainer.step());
    const weights = trainer.model.parameters().map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice());
    return { records, weights };
  }

  for (const dtype of ['float32', 'float64'] as const) {
    for (const model of ['rnn', 'lstm', 'gru'] as const) {
      for (const shape of SHAPES) {
        it(`${dtype} ${model}, ${shape.name}: 12 steps, every loss, norm and weight`, () => {
          const config: TrainConfig = {
            ...DEFAULT_CONFIG, model, dtype, inputSize: 3, hiddenSize: 9, seqLen: 20, batch: 5, steps: 12, instrumentEvery: 3,
            lr: 0.05, ...shape.config,
          };
          const fast = train({ ...config, transcendentals: 'auto' });
          const plain = train({ ...config, transcendentals: 'plain' });
          // deepStrictEqual compares numbers with Object.is: NaN, -0 and every last bit count.
          assert.deepStrictEqual(fast.records, plain.records);
          assert.deepStrictEqual(fast.weights, plain.weights);
        });
      }
    }
  }
});
