/**
 * Decodes TensorBoard's Event protobuf (tensorflow/core/util/event.proto,
 * summary.proto, tensor.proto), keeping only what GradLens uses: the step,
 * SessionLog START, and per summary value a scalar or a histogram.
 *
 * The wire format is read with `pbf`: a small, fast, maintained protobuf
 * reader with no code generation, so these few hand-picked fields need no
 * .proto build step and unknown fields are skipped for free.
 */
import type { PbfReader } from 'pbf';
import type { Histogram } from '../sink';

/** TensorFlow's DataType enum (types.proto), the numeric ones a scalar or histogram can hold. */
export const DataType = { FLOAT: 1, DOUBLE: 2, INT32: 3, INT64: 9, BFLOAT16: 14, HALF: 19 } as const;

/** SessionLog.SessionStatus.START: the run (re)started at the event's step. */
const SESSION_START = 1;
/** SummaryMetadata.data_class SCALAR: TensorBoard's own mark for a scalar, whatever the plugin. */
const DATA_CLASS_SCALAR = 1;
/** Field keys (field number << 3 | wire type) of a scalar event's top-level fields, in the order writers put them; the frame scanner's shapes start after the first two. */
export const WALL_TIME_KEY = 0x09;
export const STEP_KEY = 0x10;
const SUMMARY_KEY = 0x2a;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

type SummaryKind = 'scalar' | 'histogram' | 'other';

/** What one Event record holds for GradLens. Refilled for every record, so decoding allocates little. */
export class DecodedEvent {
  step = 0;
  /** SessionLog START: data from `step` on is replaced by what follows. */
  restart = false;
  scalarCount = 0;
  readonly scalarTags: string[] = [];
  readonly scalarValues: number[] = [];
  readonly histogramTags: string[] = [];
  readonly histograms: Histogram[] = [];
  /** Summary values that were skipped, and why. */
  readonly problems: string[] = [];
  /**
   * Where the record's scalar shape starts, and its value's width (0 when the
   * record has no shape to learn): see `EventDecoder`.
   */
  shapeAt = 0;
  shapeWidth: 0 | 4 | 8 = 0;

  clear(): void {
    this.step = 0;
    this.restart = false;
    this.scalarCount = 0;
    this.shapeWidth = 0;
    empty(this.histogramTags);
    empty(this.histograms);
    empty(this.problems);
  }

  addScalar(tag: string, value: number): void {
    this.scalarTags[this.scalarCount] = tag;
    this.scalarValues[this.scalarCount] = value;
    this.scalarCount++;
  }
}

/** Setting an array's length is a slow runtime call in V8, and most records have nothing to clear. */
function empty(array: unknown[]): void {
  if (array.length > 0) array.length = 0;
}

/** Thrown on a message that claims more bytes than its parent has; caught by `EventDecoder.decode`. */
class MalformedEvent extends Error {}

/**
 * A table from byte sequences to what they stand for (a tag's text). Logs repeat the same few sequences in the same order every
 * step, so the sequence that followed the last one found is tried first; then
 * a hash, both hash and compare a word at a time. Open addressing in plain
 * arrays: a Map lookup alone costs more than the rest.
 */
class BytesTable<T> {
  private static readonly BITS = 10;
  private static readonly SLOTS = 1 << BytesTable.BITS;
  private static readonly PROBES = 8;
  /** Past half full, new sequences are not kept. */
  private static readonly MAX_ENTRIES = BytesTable.SLOTS / 2;
  private readonly keys: (DataView | undefined)[] = new Array<DataView | undefined>(BytesTable.SLOTS).fill(undefined);
  private readonly values: (T | undefined)[] = new Array<T | undefined>(BytesTable.SLOTS).fill(undefined);
  private entries = 0;
  /** The longest sequence kept: a longer one is not hashed at all. */
  private longest = 0;
  /** For each slot, the slot found after it last time; and the slot found last. */
  private readonly next = new Int32Array(BytesTable.SLOTS);
  private last = 0;

  /** What `view`'s bytes [start, end) stand for, if they were added before. */
  find(view: DataView, start: number, end: number): T | undefined {
    if (end - start > this.longest) return undefined;
    const predicted = this.next[this.last];
    const predictedKey = this.keys[predicted];
    if (predictedKey !== undefined && sameBytes(predictedKey, view, start, end)) {
      this.last = predicted;
      return this.values[predicted];
    }
    let slot = slotOf(view, start, end, BytesTable.BITS);
    for (let probe = 0; probe < BytesTable.PROBES; probe++, slot = (slot + 1) & (BytesTable.SLOTS - 1)) {
      const kept = this.keys[slot];
      if (kept === undefined) return undefined;
      if (sameBytes(kept, view, start, end)) return this.found(slot);
    }
    return undefined;
  }

  /** Adds bytes [start, end) of `buf` (which `view` covers) that `find` did not know. */
  add(buf: Uint8Array, view: DataView, start: number, end: number, value: T): void {
    if (this.entries === BytesTable.MAX_ENTRIES) return;
    let slot = slotOf(view, start, end, BytesTable.BITS);
    for (let probe = 0; probe < BytesTable.PROBES; probe++, slot = (slot + 1) & (BytesTable.SLOTS - 1)) {
      if (this.keys[slot] !== undefined) continue;
      // A copy, not `buf.slice`: on a Node Buffer that is a view that would pin the whole chunk.
      const bytes = new Uint8Array(end - start);
      bytes.set(buf.subarray(start, end));
      this.keys[slot] = new DataView(bytes.buffer);
      this.values[slot] = value;
      this.entries++;
      this.longest = Math.max(this.longest, end - start);
      this.found(slot);
      return;
    }
  }

  private found(slot: number): T | undefined {
    this.next[this.last] = slot;
    this.last = slot;
    return this.values[slot];
  }
}

/** Tags and plugin names: each distinct byte sequence is decoded once, and the sink gets the same string object every time. */
class StringCache {
  private readonly table = new BytesTable<string>();
  private readonly decoder = new TextDecoder('utf-8');

  read(buf: Uint8Array, view: DataView, start: number, end: number): string {
    const known = this.table.find(view, start, end);
    if (known !== undefined) return known;
    const text = this.decoder.decode(buf.subarray(start, end));
    this.table.add(buf, view, start, end, text);
    return text;
  }
}

function slotOf(view: DataView, start: number, end: number, bits: number): number {
  let hash = end - start;
  let i = start;
  for (; i + 4 <= end; i += 4) hash = Math.imul(hash ^ view.getUint32(i, true), 0x9e3779b1);
  for (; i < end; i++) hash = Math.imul(hash ^ view.getUint8(i), 0x9e3779b1);
  return hash >>> (32 - bits);
}

function sameBytes(kept: DataView, view: DataView, start: number, end: number): boolean {
  const length = end - start;
  if (kept.byteLength !== length) return false;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (kept.getUint32(i, true) !== view.getUint32(start + i, true)) return false;
  for (; i < length; i++) if (kept.getUint8(i) !== view.getUint8(start + i)) return false;
  return true;
}

/** The fields of one TensorProto that give its numbers; refilled per tensor. */
class TensorFields {
  dtype = 0;
  /** Dimensions in `dims[0, rank)`; counts, not array lengths, so clearing costs nothing. */
  readonly dims: number[] = [];
  rank = 0;
  /** Numbers from float_val, double_val, int_val, int64_val, or raw half_val bits, in `values[0, valueCount)`. */
  values: number[] = [];
  valueCount = 0;
  valuesAreHalfBits = false;
  /** Where the first of `values` was read, and its width if it was a float32 (4) or float64 (8), else 0. */
  firstValueAt = -1;
  firstValueWidth = 0;
  contentStart = -1;
  contentEnd = -1;

  clear(): void {
    this.dtype = 0;
    this.rank = 0;
    // Keep the scratch array for the next tensor unless one huge tensor grew it.
    if (this.values.length > 65536) this.values = [];
    this.valueCount = 0;
    this.valuesAreHalfBits = false;
    this.contentStart = -1;
    this.contentEnd = -1;
  }

  addValue(value: number): void {
    this.values[this.valueCount++] = value;
  }

  elementCount(): number {
    let count = 1;
    for (let i = 0; i < this.rank; i++) count *= this.dims[i];
    return count;
  }

  /** Where the first number lies in the record, and 4 or 8 if it is a float32 or float64 there, else 0. */
  firstNumberWidth(): number {
    if (this.contentStart < 0) return this.valuesAreHalfBits ? 0 : this.firstValueWidth;
    return this.dtype === DataType.FLOAT ? 4 : this.dtype === DataType.DOUBLE ? 8 : 0;
  }

  firstNumberAt(): number {
    return this.contentStart >= 0 ? this.contentStart : this.firstValueAt;
  }

  /** How many numbers the tensor stores, or 0 when its dtype is not one GradLens reads. */
  storedCount(): number {
    const size = elementSize(this.dtype);
    if (size === 0) return 0;
    return this.contentStart >= 0 ? Math.floor((this.contentEnd - this.contentStart) / size) : this.valueCount;
  }

  value(index: number, view: DataView): number {
    if (this.contentStart >= 0) {
      const at = this.contentStart + index * elementSize(this.dtype);
      switch (this.dtype) {
        case DataType.FLOAT:
          return view.getFloat32(at, true);
        case DataType.DOUBLE:
          return view.getFloat64(at, true);
        case DataType.INT32:
          return view.getInt32(at, true);
        case DataType.INT64:
          return Number(view.getBigInt64(at, true));
        case DataType.HALF:
          return halfToNumber(view.getUint16(at, true));
        default:
          return bfloat16ToNumber(view.getUint16(at, true));
      }
    }
    const stored = this.values[index];
    if (!this.valuesAreHalfBits) return stored;
    return this.dtype === DataType.BFLOAT16 ? bfloat16ToNumber(stored) : halfToNumber(stored);
  }
}

function elementSize(dtype: number): number {
  switch (dtype) {
    case DataType.FLOAT:
    case DataType.INT32:
      return 4;
    case DataType.DOUBLE:
    case DataType.INT64:
      return 8;
    case DataType.HALF:
    case DataType.BFLOAT16:
      return 2;
    default:
      return 0;
  }
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));
function bfloat16ToNumber(bits: number): number {
  bfloat16Scratch.setUint32(0, (bits & 0xffff) << 16);
  return bfloat16Scratch.getFloat32(0);
}

/** One Summary.Value while it is read. */
class ValueFields {
  tag = '';
  nodeNameStart = -1;
  nodeNameEnd = -1;
  plugin = '';
  dataClass = 0;
  hasMetadata = false;
  hasSimpleValue = false;
  simpleValue = 0;
  simpleValueAt = -1;
  histogram: Histogram | undefined;
  hasTensor = false;
  readonly tensor = new TensorFields();

  clear(): void {
    this.tag = '';
    this.nodeNameStart = -1;
    this.plugin = '';
    this.dataClass = 0;
    this.hasMetadata = false;
    this.hasSimpleValue = false;
    this.histogram = undefined;
    if (this.hasTensor) this.tensor.clear();
    this.hasTensor = false;
  }
}

/** The end of the length-delimited field at the reader's position, checked against its parent's end. */
function fieldEnd(pbf: PbfReader, limit: number): number {
  const end = pbf.readVarint() + pbf.pos;
  if (end > limit) throw new MalformedEvent();
  return end;
}

/** A nested message must end exactly where its length said; reading past it means the bytes lie. */
function endOfField(pbf: PbfReader, end: number): void {
  if (pbf.pos !== end) throw new MalformedEvent();
}

/**
 * Decodes Event records one at a time. One decoder serves one file: it
 * remembers each tag's plugin, since TensorFlow's writers put a tag's
 * SummaryMetadata on its first value only.
 *
 * Most records are one scalar, and a tag's records differ only in wall time,
 * step and value. Once pbf has decoded such a record, it says where its
 * bytes between the step and the value lie (`shapeAt`, `shapeWidth`): a
 * later record with the same bytes there holds the same tag, so the reader
 * has its frame scanner match them (tfrecord.ts) and reads only the step
 * (`stepOf`) and the value.
 */
export class EventDecoder {
  private readonly strings = new StringCache();
  private readonly kinds = new Map<string, SummaryKind>();
  /** The plugin of each tag GradLens leaves out (text, images, hparams...), to say what a file holds when nothing else. */
  readonly leftOut = new Map<string, string>();
  private readonly value = new ValueFields();
  /** Of the record being decoded: its Summary.Value count, and where its (last) scalar lies. */
  private valueCount = 0;
  private scalarAt = -1;
  private scalarWidth = 0;
  /** The scalar does not depend on a plugin that a later record could still declare. */
  private scalarSettled = false;

  /**
   * Reads the Event in `pbf.buf[start, end)` into `out`. False when the bytes
   * are not a well-formed Event; `out` is then to be ignored.
   */
  decode(pbf: PbfReader, start: number, end: number, out: DecodedEvent): boolean {
    try {
      out.clear();
      this.valueCount = 0;
      this.scalarWidth = 0;
      pbf.pos = start;
      for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
        if (field === 2 && pbf.type === WIRE_VARINT) out.step = pbf.readVarint(true);
        else if ((field === 5 || field === 7) && pbf.type === WIRE_BYTES) {
          const fieldLimit = fieldEnd(pbf, end);
          if (field === 5) this.readSummary(pbf, fieldLimit, out);
          else this.readSessionLog(pbf, fieldLimit, out);
          endOfField(pbf, fieldLimit);
        }
      }
      // A field that ran past the record means the record is not what it claims.
      if (pbf.pos !== end) return false;
      this.markShape(pbf, start, end, out);
      return true;
    } catch {
      return false;
    }
  }

  /** The step of a record that starts with wall_time (0 if it has none), as `decode` reads it. */
  stepOf(pbf: PbfReader, start: number): number {
    if (pbf.buf[start + 9] !== STEP_KEY) return 0;
    pbf.pos = start + 10;
    return pbf.readVarint(true);
  }

  /** Where the bytes after wall_time and an optional step start, or -1 if the record does not start with wall_time. */
  private afterStep(pbf: PbfReader, start: number, end: number): number {
    if (end - start < 10 || pbf.buf[start] !== WALL_TIME_KEY) return -1;
    if (pbf.buf[start + 9] !== STEP_KEY) return start + 9;
    this.stepOf(pbf, start);
    return pbf.pos;
  }

  /**
   * Says where the shape of a record just decoded lies (`shapeAt`,
   * `shapeWidth`) if it is wall_time, step, and a summary of one value whose
   * scalar is the record's last 4 or 8 bytes.
   */
  private markShape(pbf: PbfReader, start: number, end: number, out: DecodedEvent): void {
    const width = this.scalarWidth;
    if (out.scalarCount !== 1 || this.valueCount !== 1 || (width !== 4 && width !== 8) || this.scalarAt !== end - width || !this.scalarSettled) return;
    if (out.restart || out.histograms.length > 0 || out.problems.length > 0) return;
    const at = this.afterStep(pbf, start, end);
    // The summary must run to the record's end, so that no other field rides along in the shape.
    if (at < 0 || pbf.buf[at] !== SUMMARY_KEY) return;
    pbf.pos = at + 1;
    if (pbf.readVarint() + pbf.pos !== end) return;
    out.shapeAt = at;
    out.shapeWidth = width;
  }

  private readSessionLog(pbf: PbfReader, end: number, out: DecodedEvent): void {
    for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
      if (field === 1 && pbf.type === WIRE_VARINT) out.restart = pbf.readVarint() === SESSION_START;
    }
  }

  private readSummary(pbf: PbfReader, end: number, out: DecodedEvent): void {
    for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
      if (field === 1 && pbf.type === WIRE_BYTES) {
        const valueEnd = fieldEnd(pbf, end);
        this.valueCount++;
        this.readValue(pbf, valueEnd);
        endOfField(pbf, valueEnd);
        this.useValue(pbf, out);
      }
    }
  }

  private readValue(pbf: PbfReader, end: number): void {
    const value = this.value;
    value.clear();
    for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
      if (field === 2 && pbf.type === WIRE_FIXED32) {
        value.hasSimpleValue = true;
        value.simpleValueAt = pbf.pos;
        value.simpleValue = pbf.readFloat();
        continue;
      }
      // Other fields (images, audio, old-style histograms) are left for nextField to skip.
      if (pbf.type !== WIRE_BYTES || !(field === 1 || field === 5 || field === 7 || field === 8 || field === 9)) continue;
      const valueEnd = fieldEnd(pbf, end);
      if (field === 1) {
        value.tag = this.strings.read(pbf.buf, pbf.dataView, pbf.pos, valueEnd);
        pbf.pos = valueEnd;
      } else if (field === 7) {
        value.nodeNameStart = pbf.pos;
        value.nodeNameEnd = valueEnd;
        pbf.pos = valueEnd;
      } else if (field === 5) {
        value.histogram = readHistogram(pbf, valueEnd);
      } else if (field === 8) {
        value.hasTensor = true;
        readTensor(pbf, valueEnd, value.tensor);
      } else {
        this.readMetadata(pbf, valueEnd, value);
      }
      endOfField(pbf, valueEnd);
    }
  }

  private readMetadata(pbf: PbfReader, end: number, value: ValueFields): void {
    value.hasMetadata = true;
    for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
      if (field === 1 && pbf.type === WIRE_BYTES) {
        const pluginEnd = fieldEnd(pbf, end);
        for (let inner = pbf.nextField(pluginEnd); inner !== 0; inner = pbf.nextField(pluginEnd)) {
          if (inner === 1 && pbf.type === WIRE_BYTES) {
            const nameEnd = fieldEnd(pbf, pluginEnd);
            value.plugin = this.strings.read(pbf.buf, pbf.dataView, pbf.pos, nameEnd);
            pbf.pos = nameEnd;
          }
        }
        endOfField(pbf, pluginEnd);
      } else if (field === 4 && pbf.type === WIRE_VARINT) {
        value.dataClass = pbf.readVarint();
      }
    }
  }

  /** Turns the value just read into a scalar or a histogram of `out`, by what TensorBoard would show it as. */
  private useValue(pbf: PbfReader, out: DecodedEvent): void {
    const value = this.value;
    let tag = value.tag;
    if (tag === '' && value.nodeNameStart >= 0) tag = this.strings.read(pbf.buf, pbf.dataView, value.nodeNameStart, value.nodeNameEnd);
    if (tag === '') return;
    if (value.hasMetadata && !this.kinds.has(tag)) {
      const kind: SummaryKind =
        value.plugin === 'scalars' || value.dataClass === DATA_CLASS_SCALAR ? 'scalar' : value.plugin === 'histograms' ? 'histogram' : 'other';
      this.kinds.set(tag, kind);
      if (kind === 'other') this.leftOut.set(tag, value.plugin || 'no plugin');
    }
    if (value.hasSimpleValue) {
      out.addScalar(tag, value.simpleValue);
      this.scalarAt = value.simpleValueAt;
      this.scalarWidth = 4;
      this.scalarSettled = true;
    } else if (value.histogram) {
      if (value.histogram.limits.length === value.histogram.counts.length) {
        out.histogramTags.push(tag);
        out.histograms.push(value.histogram);
      } else {
        out.problems.push(`histogram "${tag}" has ${value.histogram.limits.length} bucket limits but ${value.histogram.counts.length} counts; skipped`);
      }
    } else if (value.hasTensor) {
      this.useTensor(tag, pbf.dataView, out);
    }
  }

  private useTensor(tag: string, view: DataView, out: DecodedEvent): void {
    const tensor = this.value.tensor;
    const kind = this.kinds.get(tag);
    const stored = tensor.storedCount();
    if (kind === 'histogram') {
      const buckets = tensor.rank === 2 && tensor.dims[1] === 3 ? tensor.dims[0] : -1;
      if (buckets >= 0 && stored === buckets * 3) {
        out.histogramTags.push(tag);
        out.histograms.push(histogramFromBuckets(tensor, buckets, view));
      } else {
        out.problems.push(`histogram "${tag}" is not a [k, 3] tensor of bucket edges and counts; skipped`);
      }
      return;
    }
    if (kind === 'other') return;
    // A scalar, or a tensor whose tag never had metadata in this file: one number is taken as a scalar.
    if (tensor.elementCount() === 1 && stored >= 1) {
      out.addScalar(tag, tensor.value(0, view));
      this.scalarAt = tensor.firstNumberAt();
      this.scalarWidth = tensor.firstNumberWidth();
      this.scalarSettled = kind !== undefined;
    } else if (kind === 'scalar') out.problems.push(`scalar "${tag}" does not hold exactly one number; skipped`);
  }
}

function readHistogram(pbf: PbfReader, end: number): Histogram {
  const histogram: Histogram = { min: 0, max: 0, count: 0, sum: 0, sumSquares: 0, limits: [], counts: [] };
  for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
    if (field >= 1 && field <= 5 && pbf.type === WIRE_FIXED64) {
      const number = pbf.readDouble();
      if (field === 1) histogram.min = number;
      else if (field === 2) histogram.max = number;
      else if (field === 3) histogram.count = number;
      else if (field === 4) histogram.sum = number;
      else histogram.sumSquares = number;
    } else if (field === 6 || field === 7) {
      readRepeatedDouble(pbf, end, field === 6 ? histogram.limits : histogram.counts);
    }
  }
  return histogram;
}

function readRepeatedDouble(pbf: PbfReader, limit: number, into: number[]): void {
  if (pbf.type === WIRE_BYTES) {
    const end = fieldEnd(pbf, limit);
    while (pbf.pos < end) into.push(pbf.readDouble());
  } else if (pbf.type === WIRE_FIXED64) {
    into.push(pbf.readDouble());
  }
}

function readTensor(pbf: PbfReader, end: number, tensor: TensorFields): void {
  for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
    switch (field) {
      case 1:
        if (pbf.type === WIRE_VARINT) tensor.dtype = pbf.readVarint();
        break;
      case 2:
        if (pbf.type === WIRE_BYTES) {
          const shapeEnd = fieldEnd(pbf, end);
          readShape(pbf, shapeEnd, tensor);
          endOfField(pbf, shapeEnd);
        }
        break;
      case 4:
        if (pbf.type === WIRE_BYTES) {
          tensor.contentEnd = fieldEnd(pbf, end);
          tensor.contentStart = pbf.pos;
          pbf.pos = tensor.contentEnd;
        }
        break;
      case 5: // float_val
      case 6: // double_val
      case 7: // int_val
      case 10: // int64_val
      case 13: // half_val: fp16 or bfloat16 bits, by dtype
        tensor.valuesAreHalfBits = field === 13;
        readRepeatedNumbers(pbf, end, field, tensor);
        break;
    }
  }
}

/** A repeated number field of TensorProto, packed (one length-delimited run) or not (one field per element). */
function readRepeatedNumbers(pbf: PbfReader, limit: number, field: number, tensor: TensorFields): void {
  const wire = field === 5 ? WIRE_FIXED32 : field === 6 ? WIRE_FIXED64 : WIRE_VARINT;
  if (pbf.type === WIRE_BYTES) {
    const end = fieldEnd(pbf, limit);
    while (pbf.pos < end) addNumber(pbf, wire, field, tensor);
  } else if (pbf.type === wire) {
    addNumber(pbf, wire, field, tensor);
  }
}

function addNumber(pbf: PbfReader, wire: number, field: number, tensor: TensorFields): void {
  if (tensor.valueCount === 0) {
    tensor.firstValueAt = pbf.pos;
    tensor.firstValueWidth = wire === WIRE_FIXED32 ? 4 : wire === WIRE_FIXED64 ? 8 : 0;
  }
  tensor.addValue(readNumber(pbf, wire, field));
}

function readNumber(pbf: PbfReader, wire: number, field: number): number {
  if (wire === WIRE_FIXED32) return pbf.readFloat();
  if (wire === WIRE_FIXED64) return pbf.readDouble();
  // int_val and int64_val are signed; half_val holds 16 unsigned bits.
  return pbf.readVarint(field !== 13);
}

function readShape(pbf: PbfReader, end: number, tensor: TensorFields): void {
  for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
    if (field === 2 && pbf.type === WIRE_BYTES) tensor.dims[tensor.rank++] = readDimension(pbf, fieldEnd(pbf, end));
  }
}

function readDimension(pbf: PbfReader, end: number): number {
  let size = 0;
  for (let field = pbf.nextField(end); field !== 0; field = pbf.nextField(end)) {
    if (field === 1 && pbf.type === WIRE_VARINT) size = pbf.readVarint(true);
  }
  endOfField(pbf, end);
  return size;
}

/**
 * TF2 histograms are [k, 3] tensors of (left edge, right edge, count). They
 * keep no sum or sum of squares, so those are estimated from bucket centres.
 */
function histogramFromBuckets(tensor: TensorFields, buckets: number, view: DataView): Histogram {
  const limits: number[] = [];
  const counts: number[] = [];
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  let min = buckets > 0 ? tensor.value(0, view) : 0;
  let max = buckets > 0 ? tensor.value(buckets * 3 - 2, view) : 0;
  let seen = false;
  for (let i = 0; i < buckets; i++) {
    const left = tensor.value(i * 3, view);
    const right = tensor.value(i * 3 + 1, view);
    const n = tensor.value(i * 3 + 2, view);
    limits.push(right);
    counts.push(n);
    if (n === 0) continue;
    if (!seen) min = left;
    seen = true;
    max = right;
    const centre = (left + right) / 2;
    count += n;
    sum += n * centre;
    sumSquares += n * centre * centre;
  }
  return { min, max, count, sum, sumSquares, limits, counts };
}
