/**
 * Float32 matrix product in hand-written WebAssembly SIMD (f32x4).
 *
 * There is no wasm toolchain in the build, so the module is assembled here at
 * load time by a small emitter. The JS side packs op(A) and op(B) into the
 * module's linear memory (which resolves transposes, offsets and strides), the
 * wasm side runs a register-tiled micro-kernel over the packed panels, and the
 * JS side copies C back. Edges are handled by zero-padding the packed panels to
 * whole tiles and discarding the padded rows and columns of C.
 *
 * Each C element is accumulated in a float32 lane, starting from C (or 0) and
 * adding the products for k in order: a mul then an add, never a fused
 * multiply-add, so results are deterministic across machines. They can differ
 * from gemmPlain in the last bits because gemmPlain rounds through float64.
 */
import type { FloatArray, Gemm, GemmArgs } from './gemm';

/** Rows of C per micro-kernel tile. */
const TILE_ROWS = 4;
/** Columns of C per micro-kernel tile: TILE_COLS / 4 vectors per row. */
const TILE_COLS = 8;
/**
 * The k range one pass over the tiles covers, so that the packed B panel and
 * the packed A rows of a pass stay in L1 and L2 for long K.
 */
const K_BLOCK = 256;

const LANES = 4;
const FLOAT_BYTES = 4;
const VECTOR_BYTES = 16;
const PAGE_BYTES = 65536;

// ---------------------------------------------------------------------------
// The part of the JS WebAssembly API used here: neither lib ES2022 nor
// @types/node 20 declares it. Module scoped, so it cannot clash with a global
// declaration should one be added later.

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}
declare const WebAssembly: WasmApi | undefined;

// ---------------------------------------------------------------------------
// A minimal WebAssembly binary emitter: just the opcodes the kernel needs.

const I32 = 0x7f;
const V128 = 0x7b;
type ValueType = typeof I32 | typeof V128;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const signBitClear = (byte & 0x40) === 0;
    if ((value === 0 && signBitClear) || (value === -1 && !signBitClear)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

function utf8Name(name: string): number[] {
  return [...unsignedLeb(name.length), ...Array.from(name, (ch) => ch.charCodeAt(0))];
}

/** A length-prefixed vector of already encoded items. */
function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

/** One function body: parameters are i32, locals are allocated as the code needs them. */
class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(readonly paramCount: number) {}

  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.emit(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  get(index: number): this { return this.emit(0x20, ...unsignedLeb(index)); }
  set(index: number): this { return this.emit(0x21, ...unsignedLeb(index)); }
  tee(index: number): this { return this.emit(0x22, ...unsignedLeb(index)); }
  i32Const(value: number): this { return this.emit(0x41, ...signedLeb(value)); }
  i32Add(): this { return this.emit(0x6a); }
  i32Sub(): this { return this.emit(0x6b); }
  i32Mul(): this { return this.emit(0x6c); }
  i32Or(): this { return this.emit(0x72); }
  i32Ne(): this { return this.emit(0x47); }
  i32LtU(): this { return this.emit(0x49); }
  /** Pops c, b, a; pushes c ? a : b. */
  select(): this { return this.emit(0x1b); }
  loop(): this { return this.emit(0x03, 0x40); }
  if(): this { return this.emit(0x04, 0x40); }
  else(): this { return this.emit(0x05); }
  end(): this { return this.emit(0x0b); }
  brIf(depth: number): this { return this.emit(0x0d, ...unsignedLeb(depth)); }

  // Alignment hints are log2 bytes; the offsets are static byte offsets.
  v128Load(offset: number): this { return this.simd(0x00, 4, ...unsignedLeb(offset)); }
  v128Store(offset: number): this { return this.simd(0x0b, 4, ...unsignedLeb(offset)); }
  v128Load32Splat(offset: number): this { return this.simd(0x09, 2, ...unsignedLeb(offset)); }
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }

  /** local += step */
  addTo(index: number, step: number): this {
    return this.get(index).i32Const(step).i32Add().set(index);
  }

  encode(): number[] {
    const groups: number[][] = this.localTypes.map((type) => [1, type]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }
}

/** A module with one exported memory and exported functions taking i32 parameters. */
function encodeModule(functions: { name: string; body: FunctionBuilder }[], initialPages: number): Uint8Array {
  const functionTypes = functions.map(({ body }) => [0x60, ...vector(new Array(body.paramCount).fill([I32])), 0x00]);
  const exports = [
    ...functions.map(({ name }, index) => [...utf8Name(name), 0x00, ...unsignedLeb(index)]),
    [...utf8Name('memory'), 0x02, 0x00],
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(functionTypes)),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(5, vector([[0x00, ...unsignedLeb(initialPages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(functions.map(({ body }) => body.encode()))),
  ]);
}

// ---------------------------------------------------------------------------
// The kernel.

/**
 * gemm(rowTiles, colTiles, K, aBase, bBase, cBase, accumulate): for every tile,
 * C[tile] = (accumulate ? C[tile] : 0) + Σ_k Apacked[k] ⊗ Bpacked[k].
 *
 * Packed A: per tile row, K steps of TILE_ROWS floats (A[i..i+3, k]).
 * Packed B: per tile column, K steps of TILE_COLS floats (B[k, j..j+7]).
 * C: row-major with row stride colTiles·TILE_COLS floats. K must be ≥ 1.
 */
function buildGemmFunction(): FunctionBuilder {
  const f = new FunctionBuilder(7);
  const [rowTiles, colTiles, K, aBase, bBase, cBase, accumulate] = [0, 1, 2, 3, 4, 5, 6];
  const kStart = f.local(I32);
  const kCount = f.local(I32);
  const kLeft = f.local(I32);
  const loadC = f.local(I32);
  const rowTile = f.local(I32);
  const colTile = f.local(I32);
  const cRowBytes = f.local(I32);
  const cTile = f.local(I32);
  const cRow = f.local(I32);
  const aPtr = f.local(I32);
  const bPtr = f.local(I32);
  const vectorsPerRow = TILE_COLS / LANES;
  const acc = Array.from({ length: TILE_ROWS }, () => Array.from({ length: vectorsPerRow }, () => f.local(V128)));
  const bVectors = Array.from({ length: vectorsPerRow }, () => f.local(V128));
  const aSplat = f.local(V128);

  f.get(colTiles).i32Const(TILE_COLS * FLOAT_BYTES).i32Mul().set(cRowBytes);
  f.i32Const(0).set(kStart);
  f.loop(); // over k blocks
  {
    // kCount = min(K_BLOCK, K - kStart)
    f.get(K).get(kStart).i32Sub().tee(kLeft).i32Const(K_BLOCK)
      .get(kLeft).i32Const(K_BLOCK).i32LtU().select().set(kCount);
    // After the first k block, C holds the partial sums.
    f.get(accumulate).get(kStart).i32Or().set(loadC);

    f.i32Const(0).set(colTile);
    f.loop(); // over tile columns: one packed B panel stays in L1 while all A tiles pass
    {
      f.i32Const(0).set(rowTile);
      f.loop(); // over tile rows
      {
        // cTile = cBase + rowTile·TILE_ROWS·cRowBytes + colTile·TILE_COLS·4
        f.get(cBase)
          .get(rowTile).i32Const(TILE_ROWS).i32Mul().get(cRowBytes).i32Mul().i32Add()
          .get(colTile).i32Const(TILE_COLS * FLOAT_BYTES).i32Mul().i32Add()
          .set(cTile);

        f.get(loadC).if();
        f.get(cTile).set(cRow);
        acc.forEach((row, r) => {
          if (r > 0) f.get(cRow).get(cRowBytes).i32Add().set(cRow);
          row.forEach((v, c) => f.get(cRow).v128Load(c * VECTOR_BYTES).set(v));
        });
        f.else();
        acc.flat().forEach((v) => f.v128Zero().set(v));
        f.end();

        // aPtr = aBase + (rowTile·TILE_ROWS·K + kStart·TILE_ROWS)·4, likewise bPtr.
        f.get(aBase)
          .get(rowTile).get(K).i32Mul().get(kStart).i32Add().i32Const(TILE_ROWS * FLOAT_BYTES).i32Mul()
          .i32Add().set(aPtr);
        f.get(bBase)
          .get(colTile).get(K).i32Mul().get(kStart).i32Add().i32Const(TILE_COLS * FLOAT_BYTES).i32Mul()
          .i32Add().set(bPtr);

        f.get(kCount).set(kLeft);
        f.loop(); // over k: the micro-kernel
        {
          bVectors.forEach((b, c) => f.get(bPtr).v128Load(c * VECTOR_BYTES).set(b));
          acc.forEach((row, r) => {
            f.get(aPtr).v128Load32Splat(r * FLOAT_BYTES).set(aSplat);
            row.forEach((v, c) => f.get(v).get(aSplat).get(bVectors[c]).f32x4Mul().f32x4Add().set(v));
          });
          f.addTo(aPtr, TILE_ROWS * FLOAT_BYTES);
          f.addTo(bPtr, TILE_COLS * FLOAT_BYTES);
          f.get(kLeft).i32Const(1).i32Sub().tee(kLeft).brIf(0);
        }
        f.end();

        f.get(cTile).set(cRow);
        acc.forEach((row, r) => {
          if (r > 0) f.get(cRow).get(cRowBytes).i32Add().set(cRow);
          row.forEach((v, c) => f.get(cRow).get(v).v128Store(c * VECTOR_BYTES));
        });

        f.get(rowTile).i32Const(1).i32Add().tee(rowTile).get(rowTiles).i32Ne().brIf(0);
      }
      f.end();
      f.get(colTile).i32Const(1).i32Add().tee(colTile).get(colTiles).i32Ne().brIf(0);
    }
    f.end();
    f.get(kStart).i32Const(K_BLOCK).i32Add().tee(kStart).get(K).i32LtU().brIf(0);
  }
  f.end();
  return f;
}

let cachedModuleBytes: Uint8Array | undefined;
function kernelModuleBytes(): Uint8Array {
  cachedModuleBytes ??= encodeModule([{ name: 'gemm', body: buildGemmFunction() }], 1);
  return cachedModuleBytes;
}

/** Whether this runtime can run the kernel (WebAssembly with SIMD128). */
export function wasmSimdAvailable(): boolean {
  return typeof WebAssembly !== 'undefined' && WebAssembly.validate(kernelModuleBytes());
}

// ---------------------------------------------------------------------------
// Packing and the Gemm wrapper.

type KernelFunction = (
  rowTiles: number, colTiles: number, K: number,
  aBase: number, bBase: number, cBase: number, accumulate: number,
) => void;

function requireFloat32(array: FloatArray, name: string): Float32Array {
  if (!(array instanceof Float32Array)) {
    throw new Error(`wasm gemm works on Float32Array only, but ${name} is a ${array.constructor.name}`);
  }
  return array;
}

/** op(A) into tile rows: K steps of TILE_ROWS floats each, rows past M zeroed. */
function packA(g: GemmArgs, A: Float32Array, heap: Float32Array, base: number): void {
  const { transA, M, K, aOffset, lda } = g;
  for (let i0 = 0; i0 < M; i0 += TILE_ROWS) {
    const panel = base + i0 * K;
    const rows = Math.min(TILE_ROWS, M - i0);
    if (transA) {
      // A[i, k] = A_stored[k, i]: the tile's rows are contiguous in each stored row.
      for (let k = 0; k < K; k++) {
        const src = aOffset + k * lda + i0;
        const dst = panel + k * TILE_ROWS;
        for (let r = 0; r < rows; r++) heap[dst + r] = A[src + r];
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const src = aOffset + (i0 + r) * lda;
        for (let k = 0; k < K; k++) heap[panel + k * TILE_ROWS + r] = A[src + k];
      }
    }
    for (let r = rows; r < TILE_ROWS; r++) {
      for (let k = 0; k < K; k++) heap[panel + k * TILE_ROWS + r] = 0;
    }
  }
}

/** op(B) into tile columns: K steps of TILE_COLS floats each, columns past N zeroed. */
function packB(g: GemmArgs, B: Float32Array, heap: Float32Array, base: number): void {
  const { transB, N, K, bOffset, ldb } = g;
  if (transB) {
    // op(B)[k, j] = B_stored[j, k]: read each stored row once, contiguously.
    for (let j = 0; j < N; j++) {
      const src = bOffset + j * ldb;
      const dst = base + (j - (j % TILE_COLS)) * K + (j % TILE_COLS);
      for (let k = 0; k < K; k++) heap[dst + k * TILE_COLS] = B[src + k];
    }
  } else {
    for (let k = 0; k < K; k++) {
      const src = bOffset + k * ldb;
      const dst = base + k * TILE_COLS;
      for (let j0 = 0; j0 < N; j0 += TILE_COLS) {
        const panel = dst + j0 * K;
        const cols = Math.min(TILE_COLS, N - j0);
        for (let c = 0; c < cols; c++) heap[panel + c] = B[src + j0 + c];
      }
    }
  }
  const fullCols = N - (N % TILE_COLS);
  if (fullCols < N) {
    const panel = base + fullCols * K;
    for (let k = 0; k < K; k++) heap.fill(0, panel + k * TILE_COLS + (N - fullCols), panel + (k + 1) * TILE_COLS);
  }
}

/**
 * A Gemm for Float32Array operands backed by one wasm instance. Its memory
 * grows to the largest problem seen and is reused, so steady-state calls
 * allocate nothing in wasm. Not reentrant across threads (none in JS).
 */
export function createWasmGemm(): Gemm {
  if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(kernelModuleBytes())) {
    throw new Error('WebAssembly SIMD128 is not available in this runtime');
  }
  // Synchronous compilation is fine: the module is well under the 4 KB limit
  // browsers put on it for the main thread.
  const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModuleBytes()), {});
  const memory = instance.exports.memory as WasmMemory;
  const kernel = instance.exports.gemm as KernelFunction;
  let heap = new Float32Array(memory.buffer);

  function reserveFloats(floats: number): void {
    const bytes = floats * FLOAT_BYTES;
    if (bytes <= memory.buffer.byteLength) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    // Growing detaches the old buffer and every view on it.
    heap = new Float32Array(memory.buffer);
  }

  return (g) => {
    const A = requireFloat32(g.A, 'A');
    const B = requireFloat32(g.B, 'B');
    const C = requireFloat32(g.C, 'C');
    const { M, N, K, cOffset, ldc, accumulate } = g;
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
      if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOffset + i * ldc, cOffset + i * ldc + N);
      return;
    }
    const rowTiles = Math.ceil(M / TILE_ROWS);
    const colTiles = Math.ceil(N / TILE_COLS);
    const cStride = colTiles * TILE_COLS;
    const aBase = 0;
    const bBase = aBase + rowTiles * TILE_ROWS * K;
    const cBase = bBase + cStride * K;
    reserveFloats(cBase + rowTiles * TILE_ROWS * cStride);

    packA(g, A, heap, aBase);
    packB(g, B, heap, bBase);
    // One copy when C is a contiguous block with the packed row stride.
    const contiguous = ldc === N && N === cStride;
    if (accumulate) {
      if (contiguous) heap.set(C.subarray(cOffset, cOffset + M * N), cBase);
      else for (let i = 0; i < M; i++) heap.set(C.subarray(cOffset + i * ldc, cOffset + i * ldc + N), cBase + i * cStride);
    }
    kernel(rowTiles, colTiles, K, aBase * FLOAT_BYTES, bBase * FLOAT_BYTES, cBase * FLOAT_BYTES, accumulate ? 1 : 0);
    if (contiguous) C.set(heap.subarray(cBase, cBase + M * N), cOffset);
    else for (let i = 0; i < M; i++) C.set(heap.subarray(cBase + i * cStride, cBase + i * cStride + N), cOffset + i * ldc);
  };
}
