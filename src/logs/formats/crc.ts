/**
 * CRC-32C (Castagnoli; TFRecord framing) and CRC-32 (zlib; W&B's LevelDB-style
 * log), slicing-by-8 over 8 KiB of tables each. Node's zlib.crc32 only covers
 * the second and only since 20.15, and the readers stay free of Node APIs.
 * CRC-32C also comes as a WebAssembly function (the same tables and steps, no
 * toolchain: see src/shared/wasm.ts), for the TensorBoard reader's chunks
 * (tfrecord.ts).
 */
import { FunctionBuilder, I32 } from '../../shared/wasm';

export function tables(polynomial: number): Uint32Array[] {
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

export const CASTAGNOLI = 0x82f63b78;

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

export function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** A table's bytes in a module's memory: the 8 tables lie from address 0. */
export const TABLE_BYTES = 1024;

/**
 * crc32c(start, end): the same slicing-by-8 as crcFunction, over memory
 * [start, end), table t at byte t·1024. Words are read little-endian, as the
 * JavaScript one assembles them.
 */
export function buildCrc32c(): FunctionBuilder {
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
export function emitMask(f: FunctionBuilder): void {
  f.i32Const(15).i32Rotr().i32Const(MASK_DELTA | 0).i32Add();
}
