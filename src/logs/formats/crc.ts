/**
 * CRC-32C (Castagnoli; TFRecord framing) and CRC-32 (zlib; W&B's LevelDB-style
 * log), slicing-by-8 over 8 KiB of tables each. Node's zlib.crc32 only covers
 * the second and only since 20.15, and the readers stay free of Node APIs.
 * CRC-32C also comes as WebAssembly (the same tables and steps, no toolchain:
 * see src/shared/wasm.ts), for the TensorBoard reader's chunks.
 */
import { encodeModule, FunctionBuilder, I32, instantiate, PAGE_BYTES, type WasmMemory } from '../../shared/wasm';

function tables(polynomial: number): Uint32Array[] {
  const result = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    result[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) result[t][n] = (result[t - 1][n] >>> 8) ^ result[0][result[t - 1][n] & 0xff];
  }
  return result;
}

const CASTAGNOLI = 0x82f63b78;

function crcFunction(polynomial: number): (bytes: Uint8Array, start?: number, end?: number) => number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables(polynomial);
  return (bytes, start = 0, end = bytes.length) => {
    let crc = 0xffffffff;
    let i = start;
    for (; i + 8 <= end; i += 8) {
      const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      crc =
        t7[a & 0xff] ^
        t6[(a >>> 8) & 0xff] ^
        t5[(a >>> 16) & 0xff] ^
        t4[a >>> 24] ^
        t3[bytes[i + 4]] ^
        t2[bytes[i + 5]] ^
        t1[bytes[i + 6]] ^
        t0[bytes[i + 7]];
    }
    for (; i < end; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
}

export const crc32c = crcFunction(CASTAGNOLI);
export const crc32 = crcFunction(0xedb88320);

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so a CRC of CRCs stays strong. */
export function maskedCrc32c(bytes: Uint8Array, start?: number, end?: number): number {
  return mask(crc32c(bytes, start, end));
}

const MASK_DELTA = 0xa282ead8;

function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/**
 * Masked CRC-32C of ranges of one chunk at a time: a reader loads each chunk
 * it is given, then checks the records in it.
 */
export interface ChunkCrc {
  load(chunk: Uint8Array): void;
  /** Masked CRC-32C of bytes [start, end) of the loaded chunk. */
  masked(start: number, end: number): number;
  /**
   * Checks the TFRecords of the loaded chunk from `start` in one pass, up to
   * the first that is cut by the chunk's end, has a header failing its
   * checksum or holds more than `maxDataLength` bytes (those are left to the
   * caller). Returns how many it passed; record k's data length is
   * `frames[2k]`, and `frames[2k + 1]` is 1 if its data passes its checksum.
   * The array is valid until the next call.
   */
  scanFrames(start: number, maxDataLength: number): { count: number; frames: Int32Array };
}

export type CrcKind = 'js' | 'wasm';

/** The WebAssembly one when this runtime has WebAssembly, else the JavaScript one; or the one asked for. */
export function chunkCrc(kind?: CrcKind): ChunkCrc {
  if (kind !== 'js') {
    if (sharedWasm === undefined) sharedWasm = wasmChunkCrc();
    const wasm = sharedWasm;
    if (wasm) return wasm;
    if (kind === 'wasm') throw new Error('WebAssembly is not available in this runtime');
  }
  let chunk: Uint8Array = new Uint8Array(0);
  let view = new DataView(chunk.buffer);
  return {
    load(bytes) {
      chunk = bytes;
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    masked: (start, end) => maskedCrc32c(chunk, start, end),
    scanFrames(start, maxDataLength) {
      // A record takes 16 bytes at least, and needs 2 numbers here.
      const needed = Math.ceil((chunk.length - start) / 8);
      if (sharedFrames.length < needed) sharedFrames = new Int32Array(needed);
      const frames = sharedFrames;
      let count = 0;
      for (let at = start; at + FRAME_HEADER <= chunk.length; count++) {
        const length = view.getUint32(at, true);
        const dataEnd = at + FRAME_HEADER + length;
        if (maskedCrc32c(chunk, at, at + 8) !== view.getUint32(at + 8, true) || view.getUint32(at + 4, true) !== 0 || length > maxDataLength || dataEnd + 4 > chunk.length) break;
        frames[2 * count] = length;
        frames[2 * count + 1] = maskedCrc32c(chunk, at + FRAME_HEADER, dataEnd) === view.getUint32(dataEnd, true) ? 1 : 0;
        at = dataEnd + 4;
      }
      return { count, frames };
    },
  };
}

/** The JavaScript scans' results, shared for the reason the WebAssembly instance is (see sharedWasm). */
let sharedFrames = new Int32Array(0);

/** A TFRecord: uint64 length, its masked CRC-32C, the data, the data's masked CRC-32C. */
const FRAME_HEADER = 12;

/** Memory layout of the module: the 8 tables, then the loaded chunk. */
const TABLE_BYTES = 1024;
const CHUNK_AT = 8 * TABLE_BYTES;

/**
 * crc32c(start, end): the same slicing-by-8 as crcFunction, over memory
 * [start, end), table t at byte t·1024. Words are read little-endian, as the
 * JavaScript one assembles them.
 */
function buildCrc32c(): FunctionBuilder {
  const f = new FunctionBuilder('crc32c', 2, true);
  const [start, end] = f.params;
  const crc = f.local(I32);
  const i = f.local(I32);
  const a = f.local(I32);
  const b = f.local(I32);
  /** Pushes table[t][(word >>> shift) & 0xff]. */
  const lookup = (t: number, word: number, shift: number): void => {
    f.get(word);
    if (shift > 0) f.i32Const(shift).i32ShrU();
    if (shift < 24) f.i32Const(0xff).i32And();
    f.i32Const(2).i32Shl().i32Load(t * TABLE_BYTES);
  };
  f.i32Const(-1).set(crc);
  f.get(start).set(i);
  // Eight bytes at a time while i + 8 <= end.
  f.get(i).i32Const(7).i32Add().get(end).i32LtU().if();
  f.loop();
  f.get(crc).get(i).i32Load(0).i32Xor().set(a);
  f.get(i).i32Load(4).set(b);
  // t7[a & 0xff] ^ t6[a >>> 8 & 0xff] ^ … ^ t0[b >>> 24]: byte k of the 8 picks table 7 - k.
  for (let k = 0; k < 8; k++) {
    lookup(7 - k, k < 4 ? a : b, 8 * (k % 4));
    if (k > 0) f.i32Xor();
  }
  f.set(crc);
  f.increment(i, 8);
  f.get(i).i32Const(7).i32Add().get(end).i32LtU().brIf(0).end();
  f.end();
  // Then byte by byte.
  f.get(i).get(end).i32LtU().if();
  f.loop();
  f.get(crc).get(i).i32Load8U(0).i32Xor().i32Const(0xff).i32And().i32Const(2).i32Shl().i32Load(0);
  f.get(crc).i32Const(8).i32ShrU().i32Xor().set(crc);
  f.increment(i, 1);
  f.get(i).get(end).i32LtU().brIf(0).end();
  f.end();
  f.get(crc).i32Const(-1).i32Xor();
  return f;
}

/** Pushes the masked form of the CRC on the stack. */
function emitMask(f: FunctionBuilder): void {
  f.i32Const(15).i32Rotr().i32Const(MASK_DELTA | 0).i32Add();
}

/**
 * scanFrames(start, end, out, maxDataLength): the frame walk of
 * ChunkCrc.scanFrames over memory [start, end), writing (length, ok) pairs
 * of i32 at `out`; returns the count. Calls crc32c, function 0.
 */
function buildScanFrames(): FunctionBuilder {
  const f = new FunctionBuilder('scanFrames', 4, true);
  const [start, end, out, maxDataLength] = f.params;
  const count = f.local(I32);
  const at = f.local(I32);
  const length = f.local(I32);
  const dataEnd = f.local(I32);
  f.get(start).set(at);
  f.block();
  f.loop();
  // Stop at a header cut by the end, failing its checksum, of 2^32 bytes or more, over the limit, or with its record cut by the end.
  f.get(end).get(at).i32Const(FRAME_HEADER).i32Add().i32LtU().brIf(1);
  f.get(at).get(at).i32Const(8).i32Add().call(0);
  emitMask(f);
  f.get(at).i32Load(8).i32Ne().brIf(1);
  f.get(at).i32Load(4).brIf(1);
  f.get(maxDataLength).get(at).i32Load(0).tee(length).i32LtU().brIf(1);
  f.get(at).i32Const(FRAME_HEADER).i32Add().get(length).i32Add().set(dataEnd);
  f.get(end).get(dataEnd).i32Const(4).i32Add().i32LtU().brIf(1);
  // out[2·count] = length; out[2·count + 1] = data checksum holds.
  f.get(out).get(count).i32Const(3).i32Shl().i32Add().get(length).i32Store(0);
  f.get(out).get(count).i32Const(3).i32Shl().i32Add();
  f.get(at).i32Const(FRAME_HEADER).i32Add().get(dataEnd).call(0);
  emitMask(f);
  f.get(dataEnd).i32Load(0).i32Eq().i32Store(4);
  f.increment(count, 1);
  f.get(dataEnd).i32Const(4).i32Add().set(at);
  f.br(0);
  f.end();
  f.end();
  f.get(count);
  return f;
}

interface CrcExports {
  memory: WasmMemory;
  crc32c(start: number, end: number): number;
  scanFrames(start: number, end: number, out: number, maxDataLength: number): number;
}

/**
 * One instance for the process, null without WebAssembly: its memory holds a
 * chunk (up to 1 MiB as files are read, plus 8 KiB of tables), so a
 * thousand followed TensorBoard files must not each keep one. Sharing is
 * safe because a reader loads its chunk and checks it within one synchronous
 * push, before any other reader can run.
 */
let sharedWasm: ChunkCrc | null | undefined;

function wasmChunkCrc(): ChunkCrc | null {
  const exports = instantiate(encodeModule([buildCrc32c(), buildScanFrames()], 1)) as CrcExports | null;
  if (!exports) return null;
  const { memory, crc32c: crc, scanFrames: scan } = exports;
  /** Length of the loaded chunk, and where scanFrames writes (after the chunk, 8-byte aligned). */
  let loaded = 0;
  let framesAt = CHUNK_AT;
  tables(CASTAGNOLI).forEach((table, t) => new Uint32Array(memory.buffer, t * TABLE_BYTES, 256).set(table));
  let heap = new Uint8Array(memory.buffer);
  return {
    load(chunk) {
      loaded = chunk.length;
      framesAt = CHUNK_AT + Math.ceil(chunk.length / 8) * 8;
      // A record takes 16 bytes at least, and scanFrames writes 8 for each.
      const needed = framesAt + Math.ceil(chunk.length / 16) * 8 + 8;
      if (needed > memory.buffer.byteLength) {
        memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
        // Growing detaches the old buffer and every view on it.
        heap = new Uint8Array(memory.buffer);
      }
      heap.set(chunk, CHUNK_AT);
    },
    masked: (start, end) => mask(crc(CHUNK_AT + start, CHUNK_AT + end) >>> 0),
    scanFrames(start, maxDataLength) {
      const count = scan(CHUNK_AT + start, CHUNK_AT + loaded, framesAt, maxDataLength);
      return { count, frames: new Int32Array(memory.buffer, framesAt, 2 * count) };
    },
  };
}
