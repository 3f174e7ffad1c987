/**
 * Weights & Biases run folders: `wandb/offline-run-<time>-<id>/` (and
 * `run-<time>-<id>/` for online runs, which keep the same local log).
 *
 * `run-<id>.wandb` is W&B's transaction log, everything the run logged in
 * the order it was logged. Its framing follows wandb/sdk/internal/datastore.py
 * and core/pkg/leveldb/record.go: a 7-byte header (`:W&B`, magic 0xBEE1 as a
 * little-endian uint16, a version byte), then LevelDB-log chunks in 32 KiB
 * blocks counted from the start of the file. A chunk is a 7-byte header
 * (CRC-32 of the type byte and the payload, zlib's polynomial, not masked;
 * uint16 payload length; type FULL=1, FIRST=2, MIDDLE=3, LAST=4) and its
 * payload; a record too long for the rest of a block goes on in the next
 * ones as FIRST, MIDDLE..., LAST; a block's last 1-6 bytes are zero padding.
 * Each record is a protobuf `Record` (wandb-proto.ts).
 *
 * `files/wandb-summary.json` holds each key's latest value.
 */
import { concatBytes } from '../bytes';
import { lineReader } from '../lines';
import type { Histogram, LogSink, ReaderFactory } from '../sink';
import { crc32 } from './crc';
import { parsePythonJson } from './python-json';
import { decodeRecord, type HistoryItem, type WandbRecord } from './wandb-proto';

const BLOCK_SIZE = 32 * 1024;
const CHUNK_HEADER_SIZE = 7;
const FILE_HEADER_SIZE = 7;
const FILE_IDENT = ':W&B';
const FILE_MAGIC = 0xbee1;
const KNOWN_VERSION = 0;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;
/** Far above any real history row; a chain of pieces longer than this is damage, not data. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const INTEGER = /^[+-]?\d+$/;

/** The run id and mode W&B put in a run folder's name, or undefined for other folders. */
export function parseWandbRunFolder(name: string): { runId: string; offline: boolean } | undefined {
  const match = /^(offline-)?run-\d{8}_\d{6}-(.+)$/.exec(name);
  return match ? { runId: match[2], offline: match[1] !== undefined } : undefined;
}

/**
 * Bytes fed in pieces, read from the front. Pieces are copied once on the
 * way in (the caller may reuse its buffer) and joined only when a read
 * spans two of them.
 */
class ByteQueue {
  private pieces: Uint8Array[] = [];
  private first = 0;
  private head = 0;
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // A copy, and a plain Uint8Array: a Node Buffer's slice() would share the caller's memory.
    this.pieces.push(new Uint8Array(bytes));
    this.length += bytes.length;
  }

  /** The first `count` bytes (at most `length`), in one array. */
  peek(count: number): Uint8Array {
    const piece = this.pieces[this.first];
    if (piece.length - this.head >= count) return piece.subarray(this.head, this.head + count);
    const out = new Uint8Array(count);
    let filled = 0;
    for (let i = this.first, start = this.head; filled < count; i++, start = 0) {
      const part = this.pieces[i].subarray(start, start + count - filled);
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  skip(count: number): void {
    this.length -= count;
    while (count > 0) {
      const rest = this.pieces[this.first].length - this.head;
      if (count < rest) {
        this.head += count;
        return;
      }
      count -= rest;
      this.first++;
      this.head = 0;
    }
    if (this.first > 64 && this.first * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.first);
      this.first = 0;
    }
  }
}

/**
 * Reads a `.wandb` transaction log. History rows become scalars (one tag per
 * key, nested keys joined with `.` as W&B names them) and `wandb.watch`
 * gradient histograms; keys starting with `_` (`_step`, `_runtime`,
 * `_timestamp`) are W&B's own bookkeeping, not series.
 *
 * Steps are assigned as W&B assigns them when it syncs the log
 * (core/internal/stream/historystep.go): a row's `_step` item if it has one,
 * else its `step` field, else the next step after the last row's; a row
 * whose `step` is behind is dropped, as W&B drops it.
 *
 * A chunk that fails its checksum is skipped with a warning; if the next
 * one fails too, or a chunk claims more bytes than its block holds, reading
 * resumes at the next block (as W&B's own reader recovers). Bytes after the
 * last complete chunk wait for the next push: the log of a live run grows.
 */
export const readWandb: ReaderFactory = (sink, file) => {
  const warn = (offset: number, message: string) => sink.warning({ file, offset, message });
  const queue = new ByteQueue();
  /** File offset of the queue's first byte. */
  let offset = 0;
  let headerRead = false;
  let notWandb = false;
  /** Bytes before this offset are dropped unread: block padding, or damage being skipped. */
  let skipUntil = 0;
  /** The last chunk failed its checksum, so this one's header may not be a header at all. */
  let recovering = false;
  /** A damaged record's remaining pieces may follow; they are skipped quietly. */
  let orphansExpected = false;
  let assembly: { offset: number; parts: Uint8Array[]; size: number } | undefined;
  let nextStep = 0;
  let historySeen = false;
  let lastEndWarning = '';

  const dropAssembly = () => {
    if (assembly) warn(assembly.offset, `record at offset ${assembly.offset} is missing its last piece; skipped`);
    assembly = undefined;
  };

  const readHeader = (header: Uint8Array) => {
    const ident = String.fromCharCode(header[0], header[1], header[2], header[3]);
    const magic = header[4] | (header[5] << 8);
    if (ident !== FILE_IDENT || magic !== FILE_MAGIC) {
      notWandb = true;
      warn(0, 'not a W&B transaction log: the file does not start with the ":W&B" header');
    } else if (header[6] !== KNOWN_VERSION) {
      warn(6, `W&B log format version ${header[6]}; GradLens knows version ${KNOWN_VERSION} and reads it the same way`);
    }
  };

  const stepOf = (record: Extract<WandbRecord, { type: 'history' }>, at: number): number | undefined => {
    for (const item of record.items) {
      if (item.path.length === 1 && item.path[0] === '_step' && INTEGER.test(item.valueJson)) {
        const step = Math.max(Number(item.valueJson), nextStep);
        nextStep = step + 1;
        return step;
      }
    }
    if (record.step !== undefined) {
      if (record.step < nextStep) {
        warn(at, `history row at offset ${at} is for step ${record.step}, behind step ${nextStep}; W&B ignores it, and so does GradLens`);
        return undefined;
      }
      nextStep = record.step + 1;
      return record.step;
    }
    return nextStep++;
  };

  const handleRecord = (bytes: Uint8Array, at: number) => {
    let record: WandbRecord;
    try {
      record = decodeRecord(bytes);
    } catch {
      warn(at, `record at offset ${at} (${bytes.length} bytes) is not a W&B record; skipped`);
      return;
    }
    if (record.type === 'run') {
      if (!historySeen) nextStep = record.startingStep;
    } else if (record.type === 'history') {
      historySeen = true;
      const step = stepOf(record, at);
      if (step !== undefined) emitRow(sink, historyLeaves(record.items), step, file, at);
    }
  };

  const handleChunk = (type: number, payload: Uint8Array, at: number) => {
    if (type === FULL || type === FIRST) {
      dropAssembly();
      orphansExpected = false;
      if (type === FULL) handleRecord(payload, at);
      else assembly = { offset: at, parts: [payload], size: payload.length };
    } else if (type === MIDDLE || type === LAST) {
      if (!assembly) {
        if (!orphansExpected) warn(at, `piece of a record at offset ${at} has no beginning; skipped`);
        return;
      }
      assembly.parts.push(payload);
      assembly.size += payload.length;
      if (assembly.size > MAX_RECORD_BYTES) {
        warn(assembly.offset, `record at offset ${assembly.offset} is over ${MAX_RECORD_BYTES / 1024 / 1024} MiB; skipped`);
        assembly = undefined;
        orphansExpected = true;
      } else if (type === LAST) {
        const whole = concatBytes(assembly.parts);
        const start = assembly.offset;
        assembly = undefined;
        handleRecord(whole, start);
      }
    } else {
      warn(at, `chunk at offset ${at} has unknown type ${type}; skipped`);
    }
  };

  /** Reads every complete chunk in the queue. */
  const read = () => {
    for (;;) {
      if (notWandb) {
        offset += queue.length;
        queue.skip(queue.length);
        return;
      }
      if (offset < skipUntil) {
        const count = Math.min(queue.length, skipUntil - offset);
        queue.skip(count);
        offset += count;
        if (offset < skipUntil) return;
      }
      if (!headerRead) {
        if (queue.length < FILE_HEADER_SIZE) return;
        readHeader(queue.peek(FILE_HEADER_SIZE));
        queue.skip(FILE_HEADER_SIZE);
        offset += FILE_HEADER_SIZE;
        headerRead = true;
        continue;
      }
      const blockEnd = offset - (offset % BLOCK_SIZE) + BLOCK_SIZE;
      if (blockEnd - offset < CHUNK_HEADER_SIZE) {
        skipUntil = blockEnd;
        continue;
      }
      if (queue.length < CHUNK_HEADER_SIZE) return;
      const header = queue.peek(CHUNK_HEADER_SIZE);
      const checksum = (header[0] | (header[1] << 8) | (header[2] << 16) | (header[3] << 24)) >>> 0;
      const length = header[4] | (header[5] << 8);
      const type = header[6];
      if (checksum === 0 && length === 0 && type === 0) {
        // A zero-filled block tail (a preallocated or mmap-written file): no chunk starts here.
        dropAssembly();
        skipUntil = blockEnd;
        continue;
      }
      if (offset + CHUNK_HEADER_SIZE + length > blockEnd) {
        warn(offset, `chunk at offset ${offset} claims ${length} bytes, past the end of its 32 KiB block; skipped to offset ${blockEnd}`);
        dropAssembly();
        recovering = true;
        orphansExpected = true;
        skipUntil = blockEnd;
        continue;
      }
      if (queue.length < CHUNK_HEADER_SIZE + length) return;
      const chunk = queue.peek(CHUNK_HEADER_SIZE + length);
      const at = offset;
      queue.skip(chunk.length);
      offset += chunk.length;
      // The checksum covers the type byte and the payload, as datastore.py computes it.
      if (crc32(chunk, CHUNK_HEADER_SIZE - 1) !== checksum) {
        if (recovering) {
          warn(at, `no valid chunk at offset ${at} after a damaged one; skipped to offset ${blockEnd}`);
          skipUntil = blockEnd;
        } else {
          warn(at, `chunk at offset ${at} fails its checksum; skipped`);
        }
        assembly = undefined;
        recovering = true;
        orphansExpected = true;
        continue;
      }
      recovering = false;
      handleChunk(type, chunk.subarray(CHUNK_HEADER_SIZE), at);
    }
  };

  return {
    push(bytes) {
      queue.push(bytes);
      read();
    },
    end() {
      if (notWandb) return;
      let message = '';
      if (!headerRead && queue.length > 0) message = `the file is ${queue.length} bytes long, shorter than the ${FILE_HEADER_SIZE}-byte W&B header`;
      else if (assembly || queue.length > 0) {
        const at = assembly?.offset ?? offset;
        message = `the file ends inside the record at offset ${at}; it is read once the rest is written`;
      }
      // end() may come again while a live run writes; say it once.
      if (message && message !== lastEndWarning) warn(assembly?.offset ?? offset, message);
      lastEndWarning = message;
    },
  };
};

/** One logged value at its key path, parsed. */
interface Leaf {
  path: string[];
  value: unknown;
}

/** Deeper than any logged dict; a hostile value must not exhaust the stack. */
const MAX_DEPTH = 32;

/**
 * The values of a history row. wandb-core writes each leaf of a nested dict
 * as its own item (a `nested_key` path); the older Python SDK wrote a dict
 * as one item whose JSON is the whole dict. Both end as the same leaves.
 */
function historyLeaves(items: HistoryItem[]): Leaf[] {
  const leaves: Leaf[] = [];
  for (const item of items) {
    const number = jsonNumber(item.valueJson);
    if (number !== undefined) {
      leaves.push({ path: item.path, value: number });
      continue;
    }
    let value: unknown;
    try {
      value = parsePythonJson(item.valueJson);
    } catch {
      continue;
    }
    addLeaves(leaves, item.path, value, 0);
  }
  return leaves;
}

/** The fast path for the usual value: a JSON number, or Python's NaN and Infinity. */
function jsonNumber(text: string): number | undefined {
  const first = text.charCodeAt(0);
  if ((first >= 0x30 && first <= 0x39) || first === 0x2d) {
    const number = Number(text);
    return Number.isNaN(number) ? undefined : number;
  }
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  return undefined;
}

function addLeaves(leaves: Leaf[], path: string[], value: unknown, depth: number): void {
  if (isPlainObject(value) && depth < MAX_DEPTH) {
    for (const [key, inner] of Object.entries(value)) addLeaves(leaves, [...path, key], inner, depth + 1);
  } else {
    leaves.push({ path, value });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Emits one row's leaves at `step`. Numbers (and booleans, as 1 and 0, like
 * the JSON-lines reader) are scalars; a dict with a `_type` is a W&B object
 * (image, table, histogram...), of which only histograms are data here.
 */
function emitRow(sink: LogSink, leaves: Leaf[], step: number, file: string, offset?: number): void {
  let typed: Map<string, string> | undefined;
  for (const leaf of leaves) {
    const path = leaf.path;
    if (path.length > 1 && path[path.length - 1] === '_type' && typeof leaf.value === 'string') {
      (typed ??= new Map()).set(path.slice(0, -1).join('.'), leaf.value);
    }
  }
  for (const leaf of leaves) {
    const head = leaf.path[0];
    if (head.length === 0 || head.startsWith('_')) continue;
    const value = typeof leaf.value === 'boolean' ? Number(leaf.value) : leaf.value;
    if (typeof value !== 'number') continue;
    if (leaf.path.length === 1) sink.scalar(head, step, value);
    else if (!typed || !insideObject(typed, leaf.path)) sink.scalar(leaf.path.join('.'), step, value);
  }
  if (typed) emitHistograms(sink, leaves, typed, step, file, offset);
}

/** Whether a leaf belongs to a W&B object: some dict on its path has a `_type`. */
function insideObject(typed: Map<string, string>, path: string[]): boolean {
  for (let i = 1; i < path.length; i++) if (typed.has(path.slice(0, i).join('.'))) return true;
  return false;
}

function emitHistograms(sink: LogSink, leaves: Leaf[], typed: Map<string, string>, step: number, file: string, offset?: number): void {
  const byKey = new Map(leaves.map((leaf) => [leaf.path.join('.'), leaf.value]));
  for (const [key, type] of typed) {
    if (type !== 'histogram' || key.startsWith('_')) continue;
    const histogram = wandbHistogram(byKey.get(`${key}.values`), byKey.get(`${key}.bins`));
    if (histogram) sink.histogram(key, step, histogram);
    else sink.warning({ file, ...(offset === undefined ? {} : { offset }), message: `histogram "${key}" at step ${step} has no matching "values" and "bins"; skipped` });
  }
}

/**
 * A `wandb.Histogram` (counts per bin, and the bin edges, one more) as
 * GradLens holds histograms. W&B keeps no sum or sum of squares, so they are
 * estimated from the bin centres.
 */
function wandbHistogram(values: unknown, bins: unknown): Histogram | undefined {
  if (!isFiniteArray(values) || !isFiniteArray(bins) || values.length === 0 || bins.length !== values.length + 1) return undefined;
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const centre = (bins[i] + bins[i + 1]) / 2;
    count += values[i];
    sum += values[i] * centre;
    sumSquares += values[i] * centre * centre;
  }
  return { min: bins[0], max: bins[bins.length - 1], count, sum, sumSquares, limits: bins.slice(1), counts: values.slice() };
}

function isFiniteArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'number' && Number.isFinite(n));
}

/** Larger than any real summary; a huge file is not held in memory to find that out. */
const MAX_SUMMARY_CHARS = 64 * 1024 * 1024;

/**
 * Reads `files/wandb-summary.json`: each key's latest value, emitted at the
 * summary's `_step` (0 when it has none). One point per series says little
 * about training, so the folder opener reads this file only when the run's
 * `.wandb` log is missing or holds no history (a log deleted after syncing,
 * a run copied without it): the final loss, or a NaN in it, still shows.
 */
export const readWandbSummary: ReaderFactory = (sink, file) => {
  let text = '';
  let tooLong = false;
  const lines = lineReader(
    file,
    (w) => sink.warning(w),
    (line) => {
      if (tooLong) return;
      text += `${line}\n`;
      if (text.length > MAX_SUMMARY_CHARS) {
        tooLong = true;
        text = '';
      }
    },
    () => {
      const content = text;
      text = '';
      if (tooLong) {
        tooLong = false;
        sink.warning({ file, message: `over ${MAX_SUMMARY_CHARS / 1024 / 1024} MiB: too large for a W&B summary; skipped` });
        return;
      }
      if (content.trim().length === 0) return;
      let summary: unknown;
      try {
        summary = parsePythonJson(content);
      } catch {
        sink.warning({ file, message: 'not a W&B summary: the file is not complete JSON (W&B may be writing it)', incomplete: true });
        return;
      }
      if (!isPlainObject(summary)) {
        sink.warning({ file, message: 'not a W&B summary: the file is not one JSON object' });
        return;
      }
      const stepValue = summary._step;
      const step = typeof stepValue === 'number' && Number.isInteger(stepValue) ? stepValue : 0;
      const leaves: Leaf[] = [];
      addLeaves(leaves, [], summary, 0);
      emitRow(sink, leaves, step, file);
    },
  );
  return lines;
};
