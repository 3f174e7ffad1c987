/**
 * Builds TensorBoard event files for tests and benchmarks: Event protobufs
 * (event.proto, summary.proto, tensor.proto) encoded with pbf's writer and
 * framed as TFRecords, byte for byte as TensorFlow's writers lay them out.
 */
import { PbfWriter } from 'pbf';
import { concatBytes } from '../../src/logs/bytes';
import type { Histogram } from '../../src/logs/sink';
import { maskedCrc32c } from '../../src/logs/formats/crc';

export { concatBytes };
import { DataType } from '../../src/logs/formats/tensorboard-proto';

export { DataType };

export const SessionStatus = { UNSPECIFIED: 0, START: 1, STOP: 2, CHECKPOINT: 3 } as const;

/** A TF1 histogram as HistogramProto holds it: the shape readers give back. */
export type HistogramSpec = Histogram;

export interface TensorSpec {
  dtype: number;
  shape: number[];
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  int64Val?: number[];
  /** fp16 or bfloat16 bits, one per element. */
  halfVal?: number[];
  stringVal?: string[];
  /** Raw little-endian element bytes; see `tensorContent`. */
  content?: Uint8Array;
}

export interface ValueSpec {
  tag: string;
  /** Summary.Value.node_name, which TF1 graphs set alongside (or instead of) the tag. */
  nodeName?: string;
  /** SummaryMetadata.plugin_data.plugin_name. */
  plugin?: string;
  /** SummaryMetadata.data_class (1 scalar, 2 tensor, 3 blob sequence). */
  dataClass?: number;
  simpleValue?: number;
  histo?: HistogramSpec;
  tensor?: TensorSpec;
}

export interface EventSpec {
  /** Seconds since the epoch; null leaves the field out. */
  wallTime?: number | null;
  step?: number;
  fileVersion?: string;
  values?: ValueSpec[];
  sessionStatus?: number;
  logMessage?: string;
}

/** The serialized Event message (no framing). */
export function encodeEvent(event: EventSpec): Uint8Array {
  const pbf = new PbfWriter();
  if (event.wallTime !== null) pbf.writeDoubleField(1, event.wallTime ?? 1_700_000_000);
  // proto3 leaves a zero step out, as TensorFlow does.
  if (event.step) pbf.writeVarintField(2, event.step);
  if (event.fileVersion !== undefined) pbf.writeStringField(3, event.fileVersion);
  if (event.values) pbf.writeMessage(5, writeSummary, event.values);
  if (event.logMessage !== undefined) pbf.writeMessage(6, (message: string, w) => w.writeStringField(2, message), event.logMessage);
  if (event.sessionStatus !== undefined) pbf.writeMessage(7, (status: number, w) => w.writeVarintField(1, status), event.sessionStatus);
  return pbf.finish().slice();
}

/** One TFRecord: length, masked CRC-32C of the length, data, masked CRC-32C of the data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(data.length + 16);
  record.set(recordHeader(data.length));
  record.set(data, 12);
  new DataView(record.buffer).setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}

/** A TFRecord header alone (uint64 length and its masked CRC-32C), for records that claim any length. */
export function recordHeader(length: number): Uint8Array {
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(header, 0, 8), true);
  return header;
}

/** A whole event file: the `brain.Event:2` version record every writer starts with, then the events. */
export function eventFile(events: EventSpec[]): Uint8Array {
  return concatBytes([{ fileVersion: 'brain.Event:2' }, ...events].map((event) => frameRecord(encodeEvent(event))));
}

/** A TF1-style scalar, as torch.utils.tensorboard's add_scalar writes it. */
export function scalarEvent(step: number, tag: string, value: number): EventSpec {
  return { step, values: [{ tag, simpleValue: value }] };
}

/** Element bytes for TensorProto.tensor_content. */
export function tensorContent(dtype: number, values: number[]): Uint8Array {
  const size = dtype === DataType.DOUBLE || dtype === DataType.INT64 ? 8 : dtype === DataType.FLOAT || dtype === DataType.INT32 ? 4 : 2;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    if (dtype === DataType.DOUBLE) view.setFloat64(i * 8, value, true);
    else if (dtype === DataType.FLOAT) view.setFloat32(i * 4, value, true);
    else if (dtype === DataType.INT32) view.setInt32(i * 4, value, true);
    else if (dtype === DataType.INT64) view.setBigInt64(i * 8, BigInt(value), true);
    else view.setUint16(i * 2, value, true);
  });
  return bytes;
}

/** A TF2 histogram tensor: [k, 3] doubles of (left edge, right edge, count), as tf.summary.histogram writes it. */
export function histogramTensor(buckets: [number, number, number][]): TensorSpec {
  return { dtype: DataType.DOUBLE, shape: [buckets.length, 3], content: tensorContent(DataType.DOUBLE, buckets.flat()) };
}

function writeSummary(values: ValueSpec[], pbf: PbfWriter): void {
  for (const value of values) pbf.writeMessage(1, writeValue, value);
}

function writeValue(value: ValueSpec, pbf: PbfWriter): void {
  pbf.writeStringField(1, value.tag);
  if (value.simpleValue !== undefined) pbf.writeFloatField(2, value.simpleValue);
  if (value.histo) pbf.writeMessage(5, writeHistogram, value.histo);
  if (value.nodeName !== undefined) pbf.writeStringField(7, value.nodeName);
  if (value.tensor) pbf.writeMessage(8, writeTensor, value.tensor);
  if (value.plugin !== undefined || value.dataClass !== undefined) pbf.writeMessage(9, writeMetadata, value);
}

function writeMetadata(value: ValueSpec, pbf: PbfWriter): void {
  if (value.plugin !== undefined) pbf.writeMessage(1, (name: string, w) => w.writeStringField(1, name), value.plugin);
  if (value.dataClass !== undefined) pbf.writeVarintField(4, value.dataClass);
}

function writeHistogram(histo: HistogramSpec, pbf: PbfWriter): void {
  pbf.writeDoubleField(1, histo.min);
  pbf.writeDoubleField(2, histo.max);
  pbf.writeDoubleField(3, histo.count);
  pbf.writeDoubleField(4, histo.sum);
  pbf.writeDoubleField(5, histo.sumSquares);
  pbf.writePackedDouble(6, histo.limits);
  pbf.writePackedDouble(7, histo.counts);
}

function writeTensor(tensor: TensorSpec, pbf: PbfWriter): void {
  pbf.writeVarintField(1, tensor.dtype);
  pbf.writeMessage(2, writeShape, tensor.shape);
  if (tensor.content) pbf.writeBytesField(4, tensor.content);
  if (tensor.floatVal) pbf.writePackedFloat(5, tensor.floatVal);
  if (tensor.doubleVal) pbf.writePackedDouble(6, tensor.doubleVal);
  if (tensor.intVal) pbf.writePackedVarint(7, tensor.intVal);
  for (const text of tensor.stringVal ?? []) pbf.writeBytesField(8, new TextEncoder().encode(text));
  if (tensor.int64Val) pbf.writePackedVarint(10, tensor.int64Val);
  if (tensor.halfVal) pbf.writePackedVarint(13, tensor.halfVal);
}

function writeShape(shape: number[], pbf: PbfWriter): void {
  for (const size of shape) pbf.writeMessage(2, (dim: number, w) => w.writeVarintField(1, dim), size);
}

/** TensorFlow's default bucket edges, which torch.utils.tensorboard's add_histogram uses: ±1e-12·1.1^k up to 1e20, and 0. */
export const TF_EDGES = (() => {
  const positive: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
  return [...positive.map((v) => -v).reverse(), 0, ...positive, Number.MAX_VALUE];
})();

/** Bucket i of `limits` counts the values in (limits[i-1], limits[i]]. */
export function bucketOf(limits: readonly number[], value: number): number {
  let lo = 0;
  let hi = limits.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (limits[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A histogram of `values` as torch writes one: counted over the edges, then trimmed to the buckets from the first to the last non-empty one. */
export function torchHistogram(values: readonly number[], edges: readonly number[] = TF_EDGES): Histogram {
  const counts = new Array<number>(edges.length).fill(0);
  for (const v of values) counts[bucketOf(edges, v)]++;
  const first = counts.findIndex((c) => c > 0);
  const last = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    sumSquares: values.reduce((a, b) => a + b * b, 0),
    limits: edges.slice(first, last + 1),
    counts: counts.slice(first, last + 1),
  };
}
