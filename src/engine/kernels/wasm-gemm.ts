/**
 * Float32 matrix product in hand-written WebAssembly SIMD (f32x4).
 *
 * There is no wasm toolchain in the build, so the module is assembled here at
 * load time by a small emitter. A call copies the operands into the module's
 * linear memory (plain memcpy), packs op(A) and op(B) there into tile-friendly
 * panels (which resolves transposes and strides), runs a register-tiled
 * micro-kernel over the panels and copies C back. Panels are padded to whole
 * tiles; the padding holds whatever was in memory, which only reaches rows and
 * columns of C that are discarded. The B panels of a call stay in memory, and
 * a call that says B is unchanged (GemmArgs.bUnchanged) with the same layout
 * skips staging and packing it again.
 *
 * Each C element is accumulated in a float32 lane, starting from C (or 0) and
 * adding the products for k in order: a mul then an add, never a fused
 * multiply-add, so results are the same on every machine. They can differ from
 * gemmPlain in the last bits because gemmPlain rounds through float64.
 */
import { encodeModule, FunctionBuilder, I32, instantiate, PAGE_BYTES, V128, wasmAccepts, type WasmMemory } from '../../shared/wasm';
import type { FloatArray, Gemm } from './gemm';

const LANES = 4;
const FLOAT_BYTES = 4;
const VECTOR_BYTES = 16;

/** Rows of C per micro-kernel tile; a multiple of LANES (packing transposes 4×4 blocks). */
const TILE_ROWS = 4;
/** Columns of C per micro-kernel tile; a multiple of LANES. */
const TILE_COLS = 8;
/**
 * The k range one sweep over the tiles covers: keeps the B panel of a sweep in
 * L1 and its A panels in L2 when K is long.
 */
const K_BLOCK = 256;

// ---------------------------------------------------------------------------
// The wasm functions. All pointers and strides are in bytes; loops are
// do-while, so every count must be ≥ 1.
//
// A packed operand is a sequence of panels, one per tile, each kPanel steps of
// `vectors` v128: op(A)[i..i+3, k] for A, op(B)[k, j..j+7] for B.

/**
 * packCopy(dst, src, ld, kPanel, tiles): the tile's values for step k are
 * contiguous in source row k (op(A) = Aᵀ, or op(B) = B). It sweeps 4 source
 * rows at a time across all tiles: going down one tile's column instead
 * strides through memory and was 4× slower.
 */
function buildPackCopy(name: string, vectors: number): FunctionBuilder {
  const f = new FunctionBuilder(name, 5);
  const [dst, src, ld, kPanel, tiles] = f.params;
  const tile = f.local(I32);
  const chunkFrom = f.local(I32);
  const chunkTo = f.local(I32);
  const from = f.local(I32);
  const to = f.local(I32);
  const chunksLeft = f.local(I32);
  const panelStride = f.local(I32);
  const rowOffsets = Array.from({ length: LANES }, () => f.local(I32));
  const stepBytes = vectors * VECTOR_BYTES;

  rowOffsets.forEach((offset, r) => f.get(ld).i32Const(r).i32Mul().set(offset));
  f.get(kPanel).i32Const(stepBytes).i32Mul().set(panelStride);
  f.get(src).set(chunkFrom);
  f.get(dst).set(chunkTo);
  f.get(kPanel).i32Const(Math.log2(LANES)).i32ShrU().set(chunksLeft);
  f.loop();
  f.get(chunkFrom).set(from);
  f.get(chunkTo).set(to);
  f.i32Const(0).set(tile);
  f.loop();
  rowOffsets.forEach((offset, r) => {
    for (let v = 0; v < vectors; v++) {
      f.get(to).get(from).get(offset).i32Add().v128Load(v * VECTOR_BYTES).v128Store(r * stepBytes + v * VECTOR_BYTES);
    }
  });
  f.increment(from, stepBytes);
  f.get(to).get(panelStride).i32Add().set(to);
  f.countUpTo(tile, tiles);
  f.get(chunkFrom).get(ld).i32Const(LANES).i32Mul().i32Add().set(chunkFrom);
  f.increment(chunkTo, LANES * stepBytes);
  f.countDown(chunksLeft);
  return f;
}

/**
 * packTranspose(dst, src, ld, kPanel, tiles): the tile's values for step k are
 * column k of 4·vectors source rows (op(A) = A, or op(B) = Bᵀ), so each
 * 4×4 block is transposed in registers. Reads kPanel columns of every row.
 */
function buildPackTranspose(name: string, vectors: number): FunctionBuilder {
  const f = new FunctionBuilder(name, 5);
  const [dst, src, ld, kPanel, tiles] = f.params;
  const tile = f.local(I32);
  const from = f.local(I32);
  const to = f.local(I32);
  const blocksLeft = f.local(I32);
  const rowsPerTile = vectors * LANES;
  const rowOffsets = Array.from({ length: rowsPerTile }, () => f.local(I32));
  const rows = Array.from({ length: LANES }, () => f.local(V128));
  const [lo01, hi01, lo23, hi23] = Array.from({ length: 4 }, () => f.local(V128));
  const panelBytes = vectors * VECTOR_BYTES;

  rowOffsets.forEach((offset, r) => f.get(ld).i32Const(r).i32Mul().set(offset));
  f.i32Const(0).set(tile);
  f.loop();
  f.get(src).get(tile).i32Const(rowsPerTile).i32Mul().get(ld).i32Mul().i32Add().set(from);
  f.get(dst).get(tile).get(kPanel).i32Mul().i32Const(panelBytes).i32Mul().i32Add().set(to);
  f.get(kPanel).i32Const(Math.log2(LANES)).i32ShrU().set(blocksLeft);
  f.loop(); // over 4×4 blocks along k
  for (let v = 0; v < vectors; v++) {
    rows.forEach((row, r) => f.get(from).get(rowOffsets[v * LANES + r]).i32Add().v128Load(0).set(row));
    f.get(rows[0]).get(rows[1]).f32x4Shuffle([0, 4, 1, 5]).set(lo01);
    f.get(rows[0]).get(rows[1]).f32x4Shuffle([2, 6, 3, 7]).set(hi01);
    f.get(rows[2]).get(rows[3]).f32x4Shuffle([0, 4, 1, 5]).set(lo23);
    f.get(rows[2]).get(rows[3]).f32x4Shuffle([2, 6, 3, 7]).set(hi23);
    // Column c of the block becomes step k + c of the panel.
    const columns: [number, number, [number, number, number, number]][] = [
      [lo01, lo23, [0, 1, 4, 5]],
      [lo01, lo23, [2, 3, 6, 7]],
      [hi01, hi23, [0, 1, 4, 5]],
      [hi01, hi23, [2, 3, 6, 7]],
    ];
    columns.forEach(([a, b, lanes], c) =>
      f.get(to).get(a).get(b).f32x4Shuffle(lanes).v128Store(c * panelBytes + v * VECTOR_BYTES));
  }
  f.increment(from, LANES * FLOAT_BYTES);
  f.increment(to, LANES * panelBytes);
  f.countDown(blocksLeft);
  f.countUpTo(tile, tiles);
  return f;
}

/**
 * gemm(rowTiles, colTiles, K, kPanel, aPanels, bPanels, c, accumulate): for
 * every tile, C[tile] = (accumulate ? C[tile] : 0) + Σ_k A[·, k] ⊗ B[k, ·],
 * C being row-major with colTiles·TILE_COLS floats per row.
 */
function buildGemm(): FunctionBuilder {
  const f = new FunctionBuilder('gemm', 8);
  const [rowTiles, colTiles, K, kPanel, aPanels, bPanels, cBase, accumulate] = f.params;
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

  const forEachRowOfTile = (visit: (row: number[]) => void): void => {
    f.get(cTile).set(cRow);
    acc.forEach((row, r) => {
      if (r > 0) f.get(cRow).get(cRowBytes).i32Add().set(cRow);
      visit(row);
    });
  };

  f.get(colTiles).i32Const(TILE_COLS * FLOAT_BYTES).i32Mul().set(cRowBytes);
  f.i32Const(0).set(kStart);
  f.loop(); // over k blocks
  // kCount = min(K_BLOCK, K - kStart)
  f.get(K).get(kStart).i32Sub().tee(kLeft).i32Const(K_BLOCK)
    .get(kLeft).i32Const(K_BLOCK).i32LtU().select().set(kCount);
  // After the first k block, C holds the partial sums.
  f.get(accumulate).get(kStart).i32Or().set(loadC);

  f.i32Const(0).set(colTile);
  f.loop(); // over tile columns: one B panel stays in L1 while the A panels pass
  f.i32Const(0).set(rowTile);
  f.loop(); // over tile rows
  f.get(cBase)
    .get(rowTile).i32Const(TILE_ROWS).i32Mul().get(cRowBytes).i32Mul().i32Add()
    .get(colTile).i32Const(TILE_COLS * FLOAT_BYTES).i32Mul().i32Add()
    .set(cTile);
  f.get(loadC).if();
  forEachRowOfTile((row) => row.forEach((v, c) => f.get(cRow).v128Load(c * VECTOR_BYTES).set(v)));
  f.else();
  acc.flat().forEach((v) => f.v128Zero().set(v));
  f.end();
  f.get(aPanels)
    .get(rowTile).get(kPanel).i32Mul().get(kStart).i32Add().i32Const(TILE_ROWS * FLOAT_BYTES).i32Mul()
    .i32Add().set(aPtr);
  f.get(bPanels)
    .get(colTile).get(kPanel).i32Mul().get(kStart).i32Add().i32Const(TILE_COLS * FLOAT_BYTES).i32Mul()
    .i32Add().set(bPtr);

  f.get(kCount).set(kLeft);
  f.loop(); // over k: the micro-kernel
  bVectors.forEach((b, c) => f.get(bPtr).v128Load(c * VECTOR_BYTES).set(b));
  acc.forEach((row, r) => {
    f.get(aPtr).v128Load32Splat(r * FLOAT_BYTES).set(aSplat);
    row.forEach((v, c) => f.get(v).get(aSplat).get(bVectors[c]).f32x4Mul().f32x4Add().set(v));
  });
  f.increment(aPtr, TILE_ROWS * FLOAT_BYTES);
  f.increment(bPtr, TILE_COLS * FLOAT_BYTES);
  f.countDown(kLeft);

  forEachRowOfTile((row) => row.forEach((v, c) => f.get(cRow).get(v).v128Store(c * VECTOR_BYTES)));
  f.countUpTo(rowTile, rowTiles);
  f.countUpTo(colTile, colTiles);
  f.get(kStart).i32Const(K_BLOCK).i32Add().tee(kStart).get(K).i32LtU().brIf(0).end();
  return f;
}

let cachedModuleBytes: Uint8Array | undefined;
function kernelModuleBytes(): Uint8Array {
  cachedModuleBytes ??= encodeModule(
    [
      buildGemm(),
      buildPackCopy('packCopyA', TILE_ROWS / LANES),
      buildPackTranspose('packTransposeA', TILE_ROWS / LANES),
      buildPackCopy('packCopyB', TILE_COLS / LANES),
      buildPackTranspose('packTransposeB', TILE_COLS / LANES),
    ],
    1,
  );
  return cachedModuleBytes;
}

/** Whether this runtime can run the kernel: WebAssembly with SIMD128. */
export function wasmSimdAvailable(): boolean {
  return wasmAccepts(kernelModuleBytes());
}

// ---------------------------------------------------------------------------
// The Gemm wrapper.

interface KernelExports {
  memory: WasmMemory;
  gemm(rowTiles: number, colTiles: number, K: number, kPanel: number,
    aPanels: number, bPanels: number, c: number, accumulate: number): void;
  packCopyA: Pack;
  packTransposeA: Pack;
  packCopyB: Pack;
  packTransposeB: Pack;
}
type Pack = (dst: number, src: number, ld: number, kPanel: number, tiles: number) => void;

function requireFloat32(array: FloatArray, name: string): Float32Array {
  if (!(array instanceof Float32Array)) {
    throw new Error(`wasm gemm takes Float32Array operands only, but ${name} is a ${array.constructor.name}`);
  }
  return array;
}

/** An operand as stored: `rows` rows of `rowLength` used floats, `ld` floats apart. */
interface StoredMatrix {
  data: Float32Array;
  offset: number;
  rows: number;
  rowLength: number;
  ld: number;
}

/**
 * Row stride of the operand's copy in wasm memory: the caller's own, so that
 * one memcpy moves it, unless the gaps between rows would outweigh the data.
 * Keeping the caller's stride also keeps overlapping rows (ld < rowLength) right.
 */
function stagedStride(m: StoredMatrix): number {
  return m.rows > 1 && m.ld <= 2 * m.rowLength ? m.ld : m.rowLength;
}

/**
 * Floats the staged copy needs, with room for what packing reads past it: up
 * to 7 rows past the last (tiles of 8) and 7 floats past a row's end.
 */
function stagedFloats(m: StoredMatrix): number {
  return (m.rows + 7) * stagedStride(m) + m.rowLength + 8;
}

/**
 * A Gemm for Float32Array operands backed by one wasm instance. Its memory
 * grows to the largest problem seen and is reused after that.
 */
export function createWasmGemm(): Gemm {
  const exports = instantiate(kernelModuleBytes());
  if (!exports) throw new Error('WebAssembly with SIMD128 is not available in this runtime');
  const kernel = exports as unknown as KernelExports;
  const memory = kernel.memory;
  let heap = new Float32Array(memory.buffer);

  function reserveFloats(floats: number): void {
    const bytes = floats * FLOAT_BYTES;
    if (bytes <= memory.buffer.byteLength) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    // Growing detaches the old buffer and every view on it.
    heap = new Float32Array(memory.buffer);
  }

  /** What the B panels in memory were packed from, and where; null before the first call. */
  let packedB: { data: Float32Array; offset: number; ld: number; transB: boolean; N: number; K: number; at: number } | null = null;

  function stage(m: StoredMatrix, at: number): number {
    const stride = stagedStride(m);
    if (stride === m.ld) {
      heap.set(m.data.subarray(m.offset, m.offset + (m.rows - 1) * m.ld + m.rowLength), at);
    } else {
      for (let r = 0; r < m.rows; r++) {
        const from = m.offset + r * m.ld;
        heap.set(m.data.subarray(from, from + m.rowLength), at + r * stride);
      }
    }
    return stride;
  }

  return (g) => {
    const A = requireFloat32(g.A, 'A');
    const B = requireFloat32(g.B, 'B');
    const C = requireFloat32(g.C, 'C');
    const { transA, transB, M, N, K, cOffset, ldc, accumulate } = g;
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
      if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOffset + i * ldc, cOffset + i * ldc + N);
      return;
    }
    const storedA: StoredMatrix = transA
      ? { data: A, offset: g.aOffset, rows: K, rowLength: M, ld: g.lda }
      : { data: A, offset: g.aOffset, rows: M, rowLength: K, ld: g.lda };
    const storedB: StoredMatrix = transB
      ? { data: B, offset: g.bOffset, rows: N, rowLength: K, ld: g.ldb }
      : { data: B, offset: g.bOffset, rows: K, rowLength: N, ld: g.ldb };
    const rowTiles = Math.ceil(M / TILE_ROWS);
    const colTiles = Math.ceil(N / TILE_COLS);
    // Packing moves blocks of 4 steps, so panels hold K rounded up to a multiple of 4.
    const kPanel = Math.ceil(K / LANES) * LANES;
    const cStride = colTiles * TILE_COLS;
    // Layout in floats: A panels, B panels, then scratch for staging A, then B, then C.
    const aPanels = 0;
    const bPanels = aPanels + rowTiles * TILE_ROWS * kPanel;
    const scratch = bPanels + colTiles * TILE_COLS * kPanel;
    reserveFloats(scratch + Math.max(stagedFloats(storedA), stagedFloats(storedB), rowTiles * TILE_ROWS * cStride));

    const scratchBytes = scratch * FLOAT_BYTES;
    const aLd = stage(storedA, scratch) * FLOAT_BYTES;
    if (transA) kernel.packCopyA(aPanels * FLOAT_BYTES, scratchBytes, aLd, kPanel, rowTiles);
    else kernel.packTransposeA(aPanels * FLOAT_BYTES, scratchBytes, aLd, kPanel, rowTiles);
    const p = packedB;
    const bPacked = g.bUnchanged === true && p !== null && p.data === B && p.offset === g.bOffset && p.ld === g.ldb &&
      p.transB === transB && p.N === N && p.K === K && p.at === bPanels;
    if (!bPacked) {
      const bLd = stage(storedB, scratch) * FLOAT_BYTES;
      if (transB) kernel.packTransposeB(bPanels * FLOAT_BYTES, scratchBytes, bLd, kPanel, colTiles);
      else kernel.packCopyB(bPanels * FLOAT_BYTES, scratchBytes, bLd, kPanel, colTiles);
      packedB = { data: B, offset: g.bOffset, ld: g.ldb, transB, N, K, at: bPanels };
    }

    // C's rows are copied one by one unless C is one block with the packed row stride.
    const contiguous = ldc === N && N === cStride;
    if (accumulate) {
      if (contiguous) heap.set(C.subarray(cOffset, cOffset + M * N), scratch);
      else for (let i = 0; i < M; i++) heap.set(C.subarray(cOffset + i * ldc, cOffset + i * ldc + N), scratch + i * cStride);
    }
    kernel.gemm(rowTiles, colTiles, K, kPanel, aPanels * FLOAT_BYTES, bPanels * FLOAT_BYTES, scratchBytes, accumulate ? 1 : 0);
    if (contiguous) C.set(heap.subarray(scratch, scratch + M * N), cOffset);
    else for (let i = 0; i < M; i++) C.set(heap.subarray(scratch + i * cStride, scratch + i * cStride + N), cOffset + i * ldc);
  };
}
