/**
 * TFRecord framing, checked a chunk at a time: each record's header and data
 * CRC-32C in one pass over the chunk, and, in the WebAssembly scanner, the
 * record matched against the scalar shapes its file has shown (see
 * EventDecoder), so that a repeated scalar record is known without decoding
 * its protobuf. The JavaScript scanner, for runtimes without WebAssembly,
 * checks the same frames and matches no shapes.
 */
import { encodeModule, FunctionBuilder, I32, instantiate, PAGE_BYTES, type WasmMemory } from '../../shared/wasm';
import { buildCrc32c, CASTAGNOLI, emitMask, mask, maskedCrc32c, TABLE_BYTES, tables } from './crc';
import { STEP_KEY, WALL_TIME_KEY } from './tensorboard-proto';

/**
 * The scalar shapes of one file's records: a record whose bytes after its
 * wall time and step are a shape's, up to a value of the shape's width at
 * its very end, holds the shape's tag and that value.
 */
export interface RecordShapes {
  /**
   * Takes bytes [start, end) of `bytes` as the shape `id`, whose value is
   * `width` bytes. Returns the id those bytes now have: `id`, an earlier one
   * if they were learnt before, or -1 if the table has no room for them.
   */
  learn(bytes: Uint8Array, start: number, end: number, width: 4 | 8, id: number): number;
}

/** Masked CRC-32C and TFRecord frames of one chunk at a time: a reader loads each chunk it is given, then checks the records in it. */
export interface FrameScanner {
  /** Loads a chunk; with `shapes`, its records are matched against them. */
  load(chunk: Uint8Array, shapes?: RecordShapes): void;
  /** Masked CRC-32C of bytes [start, end) of the loaded chunk. */
  masked(start: number, end: number): number;
  /**
   * Checks the TFRecords of the loaded chunk from `start` in one pass, up to
   * the first that is cut by the chunk's end, has a header failing its
   * checksum or holds more than `maxDataLength` bytes (those are left to the
   * caller). Returns how many it passed, whose data lengths, checksums and
   * shapes the accessors give until the next scan. When shapes were loaded,
   * the pass also ends after the first sound record that has none of them
   * (`stoppedToLearn`), so that its shape, once learnt, serves the rest.
   */
  scan(start: number, maxDataLength: number): number;
  readonly stoppedToLearn: boolean;
  dataLength(k: number): number;
  checksumHolds(k: number): boolean;
  /** The shape id of record k, or -1. */
  shape(k: number): number;
  /** A table of shapes for one file's records, or null if this scanner matches none. */
  newShapes(): RecordShapes | null;
}

export type CrcKind = 'js' | 'wasm';

/** The WebAssembly scanner when this runtime has WebAssembly, else the JavaScript one; or the one asked for. */
export function frameScanner(kind?: CrcKind): FrameScanner {
  if (kind !== 'js') {
    if (sharedWasm === undefined) sharedWasm = wasmScanner();
    if (sharedWasm) return sharedWasm;
    if (kind === 'wasm') throw new Error('WebAssembly is not available in this runtime');
  }
  return new JsScanner();
}

/** A TFRecord: uint64 length, its masked CRC-32C, the data, the data's masked CRC-32C. */
const FRAME_HEADER = 12;

class JsScanner implements FrameScanner {
  private chunk: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.chunk.buffer);
  readonly stoppedToLearn = false;

  load(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  masked(start: number, end: number): number {
    return maskedCrc32c(this.chunk, start, end);
  }

  scan(start: number, maxDataLength: number): number {
    const { chunk, view } = this;
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
    return count;
  }

  dataLength(k: number): number {
    return sharedFrames[2 * k];
  }

  checksumHolds(k: number): boolean {
    return sharedFrames[2 * k + 1] === 1;
  }

  shape(): number {
    return -1;
  }

  newShapes(): null {
    return null;
  }
}

/** The JavaScript scans' results, shared for the reason the WebAssembly instance is (see sharedWasm). */
let sharedFrames = new Int32Array(0);

// Memory of the module: the 8 CRC tables, the shapes of the file whose chunk
// is loaded, a key being learnt, then the chunk and the scan's results.
const SHAPES_AT = 8 * TABLE_BYTES;
const SHAPES_BYTES = 32 * 1024;
const SHAPES_END = SHAPES_AT + SHAPES_BYTES;
/** The shapes' header: how many, arena bytes used, the record found last. */
const COUNT_AT = SHAPES_AT;
const USED_AT = SHAPES_AT + 4;
const LAST_AT = SHAPES_AT + 8;
/** Open addressing: each slot holds a key record's address, 0 when empty. */
const SLOT_BITS = 9;
const SLOTS = 1 << SLOT_BITS;
const SLOTS_AT = SHAPES_AT + 16;
const PROBES = 8;
/** Past half full, new shapes are not kept. */
const MAX_SHAPES = SLOTS / 2;
/** Key records, from ARENA_AT: the key's length, the shape's id, its value's width, the record predicted to be found next (0 if none), then the key's bytes. */
const ARENA_AT = SLOTS_AT + 4 * SLOTS;
const RECORD_LENGTH = 0;
const RECORD_ID = 4;
const RECORD_WIDTH = 8;
const RECORD_NEXT = 12;
const KEY_RECORD_HEADER = 16;
const KEY_AT = SHAPES_END;
/** A key longer than this (a record of many fields) is not learnt. */
const MAX_KEY = 1024;
const CHUNK_AT = KEY_AT + MAX_KEY;
/** Bytes of the scan's results a record: data length, checksum holds, shape. */
const FRAME_RESULT = 12;

/** Moves `slot` to the next one, and counts the probe: leaves whether probes remain. */
function emitNextProbe(f: FunctionBuilder, slot: number, probe: number): void {
  f.get(slot).i32Const(1).i32Add().i32Const(SLOTS - 1).i32And().set(slot);
  f.increment(probe, 1).get(probe).i32Const(PROBES).i32LtU();
}

// Function indices in the module, in encodeModule's order.
const CRC32C = 0;
const KEY_HASH = 1;
const SAME_KEY = 2;
const FIND_SHAPE = 3;
const MATCH_RECORD = 4;

/**
 * Walks i over [0, n): `word` runs for each 4 bytes at i while they fit,
 * then `byte` for each byte left (unaligned loads are fine in WebAssembly).
 */
function emitWordsThenBytes(f: FunctionBuilder, i: number, n: number, word: () => void, byte: () => void): void {
  f.block().loop();
  f.get(i).i32Const(4).i32Add().get(n).i32GtU().brIf(1);
  word();
  f.increment(i, 4).br(0).end().end();
  f.block().loop();
  f.get(i).get(n).i32LtU().i32Eqz().brIf(1);
  byte();
  f.increment(i, 1).br(0).end().end();
}

/** keyHash(p, n): a hash of bytes [p, p + n), a word at a time. */
function buildKeyHash(): FunctionBuilder {
  const f = new FunctionBuilder('keyHash', 2, true);
  const [p, n] = f.params;
  const h = f.local(I32);
  const i = f.local(I32);
  f.get(n).i32Const(0x9e3779b1 | 0).i32Mul().set(h);
  emitWordsThenBytes(
    f, i, n,
    () => f.get(h).get(p).get(i).i32Add().i32Load(0).i32Xor().i32Const(0x85ebca6b | 0).i32Mul().i32Const(17).i32Rotr().set(h),
    () => f.get(h).get(p).get(i).i32Add().i32Load8U(0).i32Xor().i32Const(0x01000193).i32Mul().set(h),
  );
  f.get(h).get(h).i32Const(15).i32ShrU().i32Xor();
  return f;
}

/** sameKey(record, p, n): 1 if the key record holds exactly bytes [p, p + n). */
function buildSameKey(): FunctionBuilder {
  const f = new FunctionBuilder('sameKey', 3, true);
  const [record, p, n] = f.params;
  const i = f.local(I32);
  f.get(record).i32Load(RECORD_LENGTH).get(n).i32Ne().if().i32Const(0).return().end();
  emitWordsThenBytes(
    f, i, n,
    () => f.get(record).get(i).i32Add().i32Load(KEY_RECORD_HEADER).get(p).get(i).i32Add().i32Load(0).i32Ne().if().i32Const(0).return().end(),
    () => f.get(record).get(i).i32Add().i32Load8U(KEY_RECORD_HEADER).get(p).get(i).i32Add().i32Load8U(0).i32Ne().if().i32Const(0).return().end(),
  );
  f.i32Const(1);
  return f;
}

/**
 * findShape(p, n): the key record of bytes [p, p + n), or 0. Files repeat
 * their records in the same order every step, so the record found after the
 * last one found, last time, is tried before the hash.
 */
function buildFindShape(): FunctionBuilder {
  const f = new FunctionBuilder('findShape', 2, true);
  const [p, n] = f.params;
  const last = f.local(I32);
  const record = f.local(I32);
  const slot = f.local(I32);
  const probe = f.local(I32);
  f.i32Const(LAST_AT).i32Load(0).tee(last).if();
  f.get(last).i32Load(RECORD_NEXT).tee(record).if();
  f.get(record).get(p).get(n).call(SAME_KEY).if().i32Const(LAST_AT).get(record).i32Store(0).get(record).return().end();
  f.end().end();
  f.get(p).get(n).call(KEY_HASH).i32Const(SLOTS - 1).i32And().set(slot);
  f.block().loop();
  f.get(slot).i32Const(2).i32Shl().i32Load(SLOTS_AT).tee(record).i32Eqz().brIf(1);
  f.get(record).get(p).get(n).call(SAME_KEY).if();
  f.get(last).if().get(last).get(record).i32Store(RECORD_NEXT).end();
  f.i32Const(LAST_AT).get(record).i32Store(0).get(record).return();
  f.end();
  emitNextProbe(f, slot, probe);
  f.brIf(0);
  f.end().end();
  f.i32Const(0);
  return f;
}

/**
 * matchRecord(dataStart, dataEnd): the shape id of the Event in
 * [dataStart, dataEnd), or -1. It must start with wall_time, then an
 * optional step (a varint of at most 10 bytes, within the record, as pbf
 * reads it); the bytes from there to a 4- or 8-byte value at the end must
 * be a shape learnt with a value that wide.
 */
function buildMatchRecord(): FunctionBuilder {
  const f = new FunctionBuilder('matchRecord', 2, true);
  const [dataStart, dataEnd] = f.params;
  const p = f.local(I32);
  const varintBytes = f.local(I32);
  const byte = f.local(I32);
  const record = f.local(I32);
  f.get(dataEnd).get(dataStart).i32Sub().i32Const(10).i32LtU().if().i32Const(-1).return().end();
  f.get(dataStart).i32Load8U(0).i32Const(WALL_TIME_KEY).i32Ne().if().i32Const(-1).return().end();
  f.get(dataStart).i32Const(9).i32Add().set(p);
  f.get(p).i32Load8U(0).i32Const(STEP_KEY).i32Eq().if();
  f.increment(p, 1);
  f.loop();
  f.get(p).get(dataEnd).i32LtU().i32Eqz().if().i32Const(-1).return().end();
  f.get(varintBytes).i32Const(10).i32Eq().if().i32Const(-1).return().end();
  f.get(p).i32Load8U(0).set(byte);
  f.increment(p, 1).increment(varintBytes, 1);
  f.get(byte).i32Const(0x80).i32And().brIf(0);
  f.end();
  f.end();
  for (const width of [4, 8]) {
    // A key of at least one byte: [p, dataEnd - width).
    f.get(p).i32Const(width).i32Add().get(dataEnd).i32LtU().if();
    f.get(p).get(dataEnd).i32Const(width).i32Sub().get(p).i32Sub().call(FIND_SHAPE).tee(record).if();
    f.get(record).i32Load(RECORD_WIDTH).i32Const(width).i32Eq().if().get(record).i32Load(RECORD_ID).return().end();
    f.end().end();
  }
  f.i32Const(-1);
  return f;
}

/**
 * scanFrames(start, end, out, maxDataLength, match): the frame walk of
 * FrameScanner.scan over memory [start, end), writing (length, checksum
 * holds, shape) triples of i32 at `out`; returns the count.
 */
function buildScanFrames(): FunctionBuilder {
  const f = new FunctionBuilder('scanFrames', 5, true);
  const [start, end, out, maxDataLength, match] = f.params;
  const count = f.local(I32);
  const at = f.local(I32);
  const length = f.local(I32);
  const dataEnd = f.local(I32);
  const result = f.local(I32);
  const holds = f.local(I32);
  const shape = f.local(I32);
  f.get(start).set(at);
  f.block().loop();
  // Stop at a header cut by the end, failing its checksum, of 2^32 bytes or more, over the limit, or with its record cut by the end.
  f.get(end).get(at).i32Const(FRAME_HEADER).i32Add().i32LtU().brIf(1);
  f.get(at).get(at).i32Const(8).i32Add().call(CRC32C);
  emitMask(f);
  f.get(at).i32Load(8).i32Ne().brIf(1);
  f.get(at).i32Load(4).brIf(1);
  f.get(maxDataLength).get(at).i32Load(0).tee(length).i32LtU().brIf(1);
  f.get(at).i32Const(FRAME_HEADER).i32Add().get(length).i32Add().set(dataEnd);
  f.get(end).get(dataEnd).i32Const(4).i32Add().i32LtU().brIf(1);
  f.get(at).i32Const(FRAME_HEADER).i32Add().get(dataEnd).call(CRC32C);
  emitMask(f);
  f.get(dataEnd).i32Load(0).i32Eq().set(holds);
  f.i32Const(-1).set(shape);
  f.get(holds).get(match).i32And().if();
  f.get(at).i32Const(FRAME_HEADER).i32Add().get(dataEnd).call(MATCH_RECORD).set(shape);
  f.end();
  f.get(out).get(count).i32Const(FRAME_RESULT).i32Mul().i32Add().tee(result).get(length).i32Store(0);
  f.get(result).get(holds).i32Store(4);
  f.get(result).get(shape).i32Store(8);
  f.increment(count, 1);
  f.get(dataEnd).i32Const(4).i32Add().set(at);
  // A sound record of no shape ends the pass, to be learnt from.
  f.get(holds).get(match).i32And().get(shape).i32Const(-1).i32Eq().i32And().brIf(1);
  f.br(0);
  f.end().end();
  f.get(count);
  return f;
}

/** addShape(p, n, id, width): adds the key [p, p + n) as shape `id`; returns the id it has (an earlier one if known), or -1 if there is no room. */
function buildAddShape(): FunctionBuilder {
  const f = new FunctionBuilder('addShape', 4, true);
  const [p, n, id, width] = f.params;
  const record = f.local(I32);
  const slot = f.local(I32);
  const probe = f.local(I32);
  const i = f.local(I32);
  const last = f.local(I32);
  f.get(p).get(n).call(FIND_SHAPE).tee(record).if().get(record).i32Load(RECORD_ID).return().end();
  f.i32Const(COUNT_AT).i32Load(0).i32Const(MAX_SHAPES).i32LtU().i32Eqz().if().i32Const(-1).return().end();
  f.i32Const(ARENA_AT).i32Const(USED_AT).i32Load(0).i32Add().set(record);
  f.get(record).i32Const(KEY_RECORD_HEADER).i32Add().get(n).i32Add().i32Const(SHAPES_END).i32GtU().if().i32Const(-1).return().end();
  f.get(p).get(n).call(KEY_HASH).i32Const(SLOTS - 1).i32And().set(slot);
  f.block().loop();
  f.get(slot).i32Const(2).i32Shl().i32Load(SLOTS_AT).i32Eqz().brIf(1);
  emitNextProbe(f, slot, probe);
  f.i32Eqz().if().i32Const(-1).return().end();
  f.br(0);
  f.end().end();
  f.get(record).get(n).i32Store(RECORD_LENGTH);
  f.get(record).get(id).i32Store(RECORD_ID);
  f.get(record).get(width).i32Store(RECORD_WIDTH);
  f.get(record).i32Const(0).i32Store(RECORD_NEXT);
  f.block().loop();
  f.get(i).get(n).i32LtU().i32Eqz().brIf(1);
  f.get(record).get(i).i32Add().get(p).get(i).i32Add().i32Load8U(0).i32Store8(KEY_RECORD_HEADER);
  f.increment(i, 1).br(0).end().end();
  f.get(slot).i32Const(2).i32Shl().get(record).i32Store(SLOTS_AT);
  f.i32Const(COUNT_AT).i32Const(COUNT_AT).i32Load(0).i32Const(1).i32Add().i32Store(0);
  f.i32Const(USED_AT).i32Const(USED_AT).i32Load(0).get(n).i32Const(KEY_RECORD_HEADER + 3).i32Add().i32Const(-4).i32And().i32Add().i32Store(0);
  // The shape learnt is the one found last, as the record it was learnt from comes next in the file's order.
  f.i32Const(LAST_AT).i32Load(0).tee(last).if().get(last).get(record).i32Store(RECORD_NEXT).end();
  f.i32Const(LAST_AT).get(record).i32Store(0);
  f.get(id);
  return f;
}

interface ScannerExports {
  memory: WasmMemory;
  crc32c(start: number, end: number): number;
  scanFrames(start: number, end: number, out: number, maxDataLength: number, match: number): number;
  addShape(p: number, n: number, id: number, width: number): number;
}

/** One file's shapes; kept here while another file's are in the module's memory. */
class WasmShapes implements RecordShapes {
  readonly kept = new Uint8Array(SHAPES_BYTES);
  constructor(private readonly scanner: WasmScanner) {}

  learn(bytes: Uint8Array, start: number, end: number, width: 4 | 8, id: number): number {
    return this.scanner.learn(this, bytes, start, end, width, id);
  }
}

class WasmScanner implements FrameScanner {
  /** Length of the loaded chunk, and where the scan writes (after the chunk, 8-byte aligned), in bytes and in words. */
  private loaded = 0;
  private framesAt = CHUNK_AT;
  private framesWord = CHUNK_AT / 4;
  private heap: Uint8Array;
  private words: Int32Array;
  /** The file whose shapes are in memory, and whether the loaded chunk is matched against them. */
  private owner: WasmShapes | undefined;
  private matching = false;
  stoppedToLearn = false;

  constructor(private readonly module: ScannerExports) {
    tables(CASTAGNOLI).forEach((table, t) => new Uint32Array(module.memory.buffer, t * TABLE_BYTES, 256).set(table));
    this.heap = new Uint8Array(module.memory.buffer);
    this.words = new Int32Array(module.memory.buffer);
  }

  load(chunk: Uint8Array, shapes?: RecordShapes): void {
    this.loaded = chunk.length;
    this.framesAt = CHUNK_AT + Math.ceil(chunk.length / 8) * 8;
    this.framesWord = this.framesAt / 4;
    // A record takes 16 bytes at least, and the scan writes 12 for each.
    const needed = this.framesAt + Math.ceil(chunk.length / 16) * FRAME_RESULT + FRAME_RESULT;
    const memory = this.module.memory;
    if (needed > memory.buffer.byteLength) {
      memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
      // Growing detaches the old buffer and every view on it.
      this.heap = new Uint8Array(memory.buffer);
      this.words = new Int32Array(memory.buffer);
    }
    this.heap.set(chunk, CHUNK_AT);
    this.matching = shapes instanceof WasmShapes;
    if (shapes instanceof WasmShapes) this.claim(shapes);
  }

  masked(start: number, end: number): number {
    return mask(this.module.crc32c(CHUNK_AT + start, CHUNK_AT + end) >>> 0);
  }

  scan(start: number, maxDataLength: number): number {
    const count = this.module.scanFrames(CHUNK_AT + start, CHUNK_AT + this.loaded, this.framesAt, maxDataLength, this.matching ? 1 : 0);
    this.stoppedToLearn = this.matching && count > 0 && this.checksumHolds(count - 1) && this.shape(count - 1) < 0;
    return count;
  }

  dataLength(k: number): number {
    return this.words[this.framesWord + 3 * k];
  }

  checksumHolds(k: number): boolean {
    return this.words[this.framesWord + 3 * k + 1] === 1;
  }

  shape(k: number): number {
    return this.words[this.framesWord + 3 * k + 2];
  }

  newShapes(): RecordShapes {
    return new WasmShapes(this);
  }

  learn(shapes: WasmShapes, bytes: Uint8Array, start: number, end: number, width: 4 | 8, id: number): number {
    if (end - start < 1 || end - start > MAX_KEY) return -1;
    this.claim(shapes);
    this.heap.set(bytes.subarray(start, end), KEY_AT);
    return this.module.addShape(KEY_AT, end - start, id, width);
  }

  /** Puts a file's shapes in memory, keeping those of the file they replace. */
  private claim(shapes: WasmShapes): void {
    if (this.owner === shapes) return;
    this.owner?.kept.set(this.heap.subarray(SHAPES_AT, SHAPES_END));
    this.heap.set(shapes.kept, SHAPES_AT);
    this.owner = shapes;
  }
}

/**
 * One instance for the process, null without WebAssembly: its memory holds a
 * chunk (up to 1 MiB as files are read), so a thousand followed TensorBoard
 * files must not each keep one. Sharing is safe because a reader loads its
 * chunk and checks it within one synchronous push, before any other reader
 * can run, and each file's shapes are put back in memory when its chunk is.
 */
let sharedWasm: FrameScanner | null | undefined;

function wasmScanner(): FrameScanner | null {
  const functions = [buildCrc32c(), buildKeyHash(), buildSameKey(), buildFindShape(), buildMatchRecord(), buildScanFrames(), buildAddShape()];
  const exports = instantiate(encodeModule(functions, Math.ceil(CHUNK_AT / PAGE_BYTES))) as ScannerExports | null;
  return exports ? new WasmScanner(exports) : null;
}
