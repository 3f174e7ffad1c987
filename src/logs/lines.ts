/**
 * Splits a file fed in arbitrary byte chunks into lines, with 1-based
 * numbers, without decoding it: the newline scan is a native indexOf on the
 * bytes, and a reader that can work on bytes (JSON lines) never makes
 * strings of its numbers. A leading BOM and a CR before the LF are dropped;
 * a carriage return inside a line is left to the caller, since progress bars
 * use it to redraw. Lines longer than `maxLineLength` bytes are skipped and
 * reported instead of being buffered without bound.
 */
export const MAX_LINE_LENGTH = 8 * 1024 * 1024;

export interface ByteLineHandler {
  /**
   * bytes[start, end) is the line; the bytes are only valid during the call.
   * `cut`: the bytes ended before the line's newline (at end(): a file still being written, or cut short).
   */
  line(bytes: Uint8Array, start: number, end: number, lineNumber: number, cut: boolean): void;
  /** A line over the length limit was skipped. */
  overlong(lineNumber: number, length: number): void;
}

const LF = 10;
const CR = 13;

export class LineSplitter {
  /** The start of a line whose end has not come yet (a copy: callers may reuse their buffers). */
  private pending = new Uint8Array(0);
  /** The pending line is already known to be too long; only its length is kept. */
  private skipping = false;
  private skippedLength = 0;
  private lineNumber = 0;
  private atStart = true;

  constructor(
    private readonly handler: ByteLineHandler,
    private readonly maxLineLength = MAX_LINE_LENGTH,
  ) {}

  push(bytes: Uint8Array): void {
    let start = 0;
    if (this.pending.length > 0 || this.skipping) {
      const newline = bytes.indexOf(LF);
      if (newline < 0) {
        this.keep(bytes, 0);
        return;
      }
      if (this.skipping) this.finishSkipped(this.skippedLength + newline);
      else {
        const line = new Uint8Array(this.pending.length + newline);
        line.set(this.pending);
        line.set(bytes.subarray(0, newline), this.pending.length);
        this.pending = new Uint8Array(0);
        this.emit(line, 0, line.length);
      }
      start = newline + 1;
    }
    for (let newline = bytes.indexOf(LF, start); newline >= 0; newline = bytes.indexOf(LF, start)) {
      this.emit(bytes, start, newline);
      start = newline + 1;
    }
    this.keep(bytes, start);
  }

  end(): void {
    if (this.skipping) this.finishSkipped(this.skippedLength);
    else if (this.pending.length > 0) this.emit(this.pending, 0, this.pending.length, true);
    this.pending = new Uint8Array(0);
  }

  private keep(bytes: Uint8Array, from: number): void {
    const rest = bytes.length - from;
    if (rest === 0) return;
    if (this.skipping) {
      this.skippedLength += rest;
    } else if (this.pending.length + rest > this.maxLineLength) {
      this.skipping = true;
      this.skippedLength = this.pending.length + rest;
      this.pending = new Uint8Array(0);
    } else {
      const pending = new Uint8Array(this.pending.length + rest);
      pending.set(this.pending);
      pending.set(bytes.subarray(from), this.pending.length);
      this.pending = pending;
    }
  }

  private finishSkipped(length: number): void {
    this.lineNumber++;
    this.atStart = false;
    this.handler.overlong(this.lineNumber, length);
    this.skipping = false;
    this.skippedLength = 0;
  }

  private emit(bytes: Uint8Array, start: number, end: number, cut = false): void {
    this.lineNumber++;
    if (this.atStart) {
      this.atStart = false;
      if (end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) start += 3;
    }
    if (end > start && bytes[end - 1] === CR) end--;
    if (end - start > this.maxLineLength) this.handler.overlong(this.lineNumber, end - start);
    else this.handler.line(bytes, start, end, this.lineNumber, cut);
  }
}

export function overlongWarning(file: string, line: number, length: number): { file: string; line: number; message: string } {
  return { file, line, message: `line is ${length} bytes long, over the ${MAX_LINE_LENGTH} limit; skipped` };
}

/** Adapts a per-line text parser to the LogReader interface: each line is decoded as UTF-8. */
export function lineReader(
  file: string,
  warn: (w: { file: string; line: number; message: string }) => void,
  onLine: (text: string, lineNumber: number) => void,
  onEnd: () => void = () => {},
): { push(bytes: Uint8Array): void; end(): void } {
  const decoder = new TextDecoder('utf-8');
  const splitter = new LineSplitter({
    line: (bytes, start, end, lineNumber) => onLine(decoder.decode(bytes.subarray(start, end)), lineNumber),
    overlong: (line, length) => warn(overlongWarning(file, line, length)),
  });
  return {
    push: (bytes) => splitter.push(bytes),
    end: () => {
      splitter.end();
      onEnd();
    },
  };
}
