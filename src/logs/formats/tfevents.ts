/**
 * TensorBoard event files (`events.out.tfevents.*`), as written by
 * TensorFlow, torch.utils.tensorboard, Lightning's TensorBoardLogger and
 * Hugging Face's TensorBoard callback: TFRecord framing around Event protobufs.
 */
import { PbfReader } from 'pbf';
import type { LogSink, ReaderFactory, ScalarColumn } from '../sink';
import { DecodedEvent, EventDecoder } from './tensorboard-proto';
import { frameScanner, type CrcKind, type FrameScanner, type RecordShapes } from './tfrecord';

/** uint64 length + masked CRC-32C of those 8 bytes. */
const HEADER_BYTES = 12;
/** Masked CRC-32C of the data. */
const FOOTER_BYTES = 4;
/**
 * Events GradLens uses are small; a record over this (a big graph or image)
 * is stepped over, not buffered.
 */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;
/** Protobuf messages stop at 2 GiB: a checksummed length beyond it is still corrupt. */
const MAX_PROTOBUF_BYTES = 2 ** 31;

/** A scalar record shape the frame scanner matches: where its tag's values go, and their width in the record. */
interface ScalarShape {
  column: ScalarColumn;
  width: 4 | 8;
}

/**
 * Reads records straight from each pushed chunk; only a record cut by a chunk
 * boundary is copied, into a buffer that grows with the bytes that actually
 * arrive, never with the length a header claims.
 */
class TfEventsReader {
  private readonly decoder = new EventDecoder();
  /** Frames of records read in place (WebAssembly when available), and of the pending record's buffer. */
  private readonly scanner: FrameScanner;
  private readonly pendingScanner = frameScanner('js');
  private readonly event = new DecodedEvent();
  /** The file's scalar shapes, matched by the scanner (none without WebAssembly), by id. */
  private readonly shapes: RecordShapes | null;
  private readonly scalarShapes: ScalarShape[] = [];
  /** File offset of the first byte of the chunk being read. */
  private chunkOffset = 0;
  /** Start of a record cut by a chunk boundary; its bytes so far. */
  private pending = new Uint8Array(0);
  private pendingLength = 0;
  private pendingOffset = 0;
  /** Data length of the pending record once its header has been checked, else -1. */
  private pendingDataLength = -1;
  /** Bytes of an oversized record still to step over. */
  private skipBytes = 0;
  /** After a corrupt header nothing later in the file can be trusted to be a record. */
  private stopped = false;
  private badChecksums = 0;
  /** The offset whose truncation end() already reported, so tailing does not repeat it. */
  private reportedTruncation = -1;

  constructor(
    private readonly sink: LogSink,
    private readonly file: string,
    crc?: CrcKind,
  ) {
    this.scanner = frameScanner(crc);
    this.shapes = this.scanner.newShapes();
  }

  push(chunk: Uint8Array): void {
    const chunkOffset = this.chunkOffset;
    this.chunkOffset += chunk.length;
    if (this.stopped) return;
    let pos = 0;
    if (this.skipBytes > 0) {
      pos = Math.min(this.skipBytes, chunk.length);
      this.skipBytes -= pos;
    }
    if (this.pendingLength > 0) pos = this.continuePending(chunk, pos);
    if (pos >= chunk.length) return;
    const scanner = this.scanner;
    scanner.load(chunk, this.shapes ?? undefined);
    let reader = new PbfReader(chunk);
    while (!this.stopped && this.pendingLength === 0 && this.skipBytes === 0 && pos < chunk.length) {
      // Whole records with sound headers, checked in one pass; the one that stops the pass is handled below.
      const count = scanner.scan(pos, MAX_EVENT_BYTES);
      for (let k = 0; k < count; k++) {
        const dataLength = scanner.dataLength(k);
        const shape = scanner.shape(k);
        if (shape >= 0) this.addScalar(reader, pos + HEADER_BYTES, pos + HEADER_BYTES + dataLength, this.scalarShapes[shape]);
        else if (!this.decode(reader, pos, dataLength, chunkOffset + pos, scanner.checksumHolds(k))) reader = new PbfReader(chunk);
        pos += HEADER_BYTES + dataLength + FOOTER_BYTES;
      }
      if (scanner.stoppedToLearn || pos >= chunk.length) continue;
      const offset = chunkOffset + pos;
      if (chunk.length - pos < HEADER_BYTES) {
        this.startPending(chunk, pos, offset, -1);
        break;
      }
      const dataLength = this.checkHeader(reader, scanner, pos, offset);
      if (dataLength < 0) break;
      const recordEnd = pos + HEADER_BYTES + dataLength + FOOTER_BYTES;
      if (dataLength > MAX_EVENT_BYTES) {
        this.skipOversized(dataLength, offset);
        this.skipBytes = Math.max(0, recordEnd - chunk.length);
        pos = Math.min(recordEnd, chunk.length);
      } else if (recordEnd > chunk.length) {
        this.startPending(chunk, pos, offset, dataLength);
        break;
      } else {
        // After a record that failed to decode, the reader may be left mid-field: the next record gets a fresh one.
        if (!this.record(reader, scanner, pos, dataLength, offset)) reader = new PbfReader(chunk);
        pos = recordEnd;
      }
    }
  }

  end(): void {
    for (const [tag, plugin] of this.decoder.leftOut) this.sink.leftOut?.(tag, plugin);
    if (this.stopped || this.pendingLength === 0 || this.reportedTruncation === this.pendingOffset) return;
    this.reportedTruncation = this.pendingOffset;
    const expected = this.pendingDataLength >= 0 ? ` of ${HEADER_BYTES + this.pendingDataLength + FOOTER_BYTES}` : '';
    this.warn(this.pendingOffset, `last record is incomplete (${this.pendingLength}${expected} bytes); it is read once the rest is written`);
  }

  /** The record's data length, or -1 when the header is corrupt (reading then stops). */
  private checkHeader(pbf: PbfReader, scanner: FrameScanner, at: number, offset: number): number {
    const view = pbf.dataView;
    const length = view.getUint32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
    if (scanner.masked(at, at + 8) !== view.getUint32(at + 8, true)) {
      this.stop(offset, 'its length fails its checksum');
      return -1;
    }
    if (length >= MAX_PROTOBUF_BYTES) {
      // Printed from the 64-bit integer itself: a Number above 2^53 prints rounded (2^60 as 1152921504606847000).
      this.stop(offset, `it claims ${view.getBigUint64(at, true)} bytes`);
      return -1;
    }
    return length;
  }

  private stop(offset: number, why: string): void {
    this.stopped = true;
    this.pendingLength = 0;
    this.warn(offset, `corrupt record header (${why}); the rest of the file is not read`);
  }

  private skipOversized(dataLength: number, offset: number): void {
    this.warn(offset, `record of ${dataLength} bytes is over the ${MAX_EVENT_BYTES / 1024 / 1024} MiB GradLens reads; skipped`);
  }

  private startPending(chunk: Uint8Array, pos: number, offset: number, dataLength: number): void {
    this.pendingLength = 0;
    this.pendingOffset = offset;
    this.pendingDataLength = dataLength;
    this.appendPending(chunk, pos, chunk.length);
  }

  /** Feeds the pending record from the chunk; returns where the chunk's own records start. */
  private continuePending(chunk: Uint8Array, pos: number): number {
    if (this.pendingDataLength < 0) {
      const take = Math.min(HEADER_BYTES - this.pendingLength, chunk.length - pos);
      this.appendPending(chunk, pos, pos + take);
      pos += take;
      if (this.pendingLength < HEADER_BYTES) return pos;
      this.pendingScanner.load(this.pending);
      const dataLength = this.checkHeader(new PbfReader(this.pending), this.pendingScanner, 0, this.pendingOffset);
      if (dataLength < 0) return chunk.length;
      if (dataLength > MAX_EVENT_BYTES) {
        this.skipOversized(dataLength, this.pendingOffset);
        this.pendingLength = 0;
        const skip = Math.min(dataLength + FOOTER_BYTES, chunk.length - pos);
        this.skipBytes = dataLength + FOOTER_BYTES - skip;
        return pos + skip;
      }
      this.pendingDataLength = dataLength;
    }
    const recordLength = HEADER_BYTES + this.pendingDataLength + FOOTER_BYTES;
    const take = Math.min(recordLength - this.pendingLength, chunk.length - pos);
    this.appendPending(chunk, pos, pos + take);
    pos += take;
    if (this.pendingLength === recordLength) {
      this.pendingLength = 0;
      const record = this.pending.subarray(0, recordLength);
      this.pendingScanner.load(record);
      this.record(new PbfReader(record), this.pendingScanner, 0, this.pendingDataLength, this.pendingOffset);
      // A buffer grown for one big record is not kept for the small ones after it.
      if (this.pending.length > 1024 * 1024) this.pending = new Uint8Array(0);
    }
    return pos;
  }

  private appendPending(chunk: Uint8Array, start: number, end: number): void {
    const needed = this.pendingLength + end - start;
    if (needed > this.pending.length) {
      const grown = new Uint8Array(Math.max(needed, Math.min(this.pending.length * 2, MAX_EVENT_BYTES + HEADER_BYTES + FOOTER_BYTES), 256));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(start, end), this.pendingLength);
    this.pendingLength = needed;
  }

  /** Checks and decodes the record whose header starts at `at` in the reader's bytes. False if it did not decode. */
  private record(pbf: PbfReader, scanner: FrameScanner, at: number, dataLength: number, offset: number): boolean {
    const dataEnd = at + HEADER_BYTES + dataLength;
    return this.decode(pbf, at, dataLength, offset, scanner.masked(at + HEADER_BYTES, dataEnd) === pbf.dataView.getUint32(dataEnd, true));
  }

  /** The step and value of a record the scanner matched to a shape: all that differs from the record the shape was learnt from. */
  private addScalar(pbf: PbfReader, dataStart: number, dataEnd: number, shape: ScalarShape): void {
    const step = this.decoder.stepOf(pbf, dataStart);
    shape.column.add(step, shape.width === 4 ? pbf.dataView.getFloat32(dataEnd - 4, true) : pbf.dataView.getFloat64(dataEnd - 8, true));
  }

  /** Decodes the record whose header starts at `at`, or warns that its data failed its checksum. False if it did not decode. */
  private decode(pbf: PbfReader, at: number, dataLength: number, offset: number, checksumHolds: boolean): boolean {
    const dataStart = at + HEADER_BYTES;
    const dataEnd = dataStart + dataLength;
    if (!checksumHolds) {
      this.badChecksums++;
      const count = this.badChecksums === 1 ? '' : ` (${this.badChecksums} records so far)`;
      this.warn(offset, `record fails its data checksum; skipped${count}`);
      return true;
    }
    const event = this.event;
    if (!this.decoder.decode(pbf, dataStart, dataEnd, event)) {
      this.warn(offset, 'record is not a TensorBoard event; skipped');
      return false;
    }
    this.learn(pbf.buf, event, dataEnd);
    const sink = this.sink;
    const step = event.step;
    if (event.restart) sink.purge(step);
    for (let i = 0; i < event.scalarCount; i++) sink.scalar(event.scalarTags[i], step, event.scalarValues[i]);
    for (let i = 0; i < event.histograms.length; i++) sink.histogram(event.histogramTags[i], step, event.histograms[i]);
    for (const problem of event.problems) this.warn(offset, problem);
    return true;
  }

  /** Gives the scanner the shape of a record just decoded, if it has one, so that the file's next records of it are matched. */
  private learn(bytes: Uint8Array, event: DecodedEvent, dataEnd: number): void {
    const width = event.shapeWidth;
    const id = this.scalarShapes.length;
    if (width === 0 || this.shapes?.learn(bytes, event.shapeAt, dataEnd - width, width, id) !== id) return;
    const tag = event.scalarTags[0];
    const sink = this.sink;
    this.scalarShapes.push({ column: sink.column?.(tag) ?? { add: (step, value) => sink.scalar(tag, step, value) }, width });
  }

  private warn(offset: number, message: string): void {
    this.sink.warning({ file: this.file, offset, message });
  }
}

/**
 * Scalars (TF1 `simple_value` and TF2 scalar tensors), gradient histograms,
 * and SessionLog START restarts. Other summaries (text, images, hparams) are
 * left out. A record failing its data checksum is skipped with a warning; a
 * corrupt header ends the file's reading, since nothing after it can be
 * found reliably.
 */
export const readTfEvents: ReaderFactory = (sink, file) => new TfEventsReader(sink, file);

/** The same reader with its in-chunk checksums done by the CRC-32C asked for (benchmarks and tests compare the two). */
export const tfEventsReaderWith = (crc: CrcKind): ReaderFactory => (sink, file) => new TfEventsReader(sink, file, crc);
