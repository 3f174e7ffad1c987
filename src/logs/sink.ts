/**
 * What every reader produces, as it reads: scalar points, histograms, restarts
 * and warnings. A reader never builds a Run itself; a RunBuilder (run.ts)
 * collects what it emits, so a chunked read and a whole read meet in one place.
 */

import type { Writer } from './settings';

/** A gradient histogram as TensorBoard stores it: bucket i counts values in (limits[i-1], limits[i]]. */
export interface Histogram {
  min: number;
  max: number;
  count: number;
  sum: number;
  sumSquares: number;
  limits: number[];
  counts: number[];
}

/** A line or record a reader could not use. Never fatal: the rest of the file is still read. */
export interface ReadWarning {
  /** The file the problem is in (as given to the reader). */
  file: string;
  /** 1-based line for text formats; absent for binary ones. */
  line?: number;
  /** Byte offset for binary formats. */
  offset?: number;
  message: string;
  /** The file, or the rest of it, could not be read at all (a permission, an I/O error): the run is incomplete. */
  unreadable?: true;
  /** The content ends before it is complete (a file caught while being written): a later read may succeed. */
  incomplete?: true;
}

/**
 * A note about the run that is not a number: an fp16 loss-scaler skip, for
 * instance, which diagnosis must not take for an explosion.
 */
export interface RunEvent {
  kind: 'overflow-skip';
  step: number;
  text: string;
}

/** One tag's values in a sink: see `LogSink.column`. */
export interface ScalarColumn {
  add(step: number, value: number): void;
}

export interface LogSink {
  /**
   * One value of one tag at one step. `stream` separates data that one file
   * holds for several processes (ranks of a distributed launch): each stream
   * becomes its own run. `late`: the value belongs to `step`, but the line
   * it is on is not that step's (a record without a step, put at the latest
   * step), which finding a step's line must know.
   */
  scalar(tag: string, step: number, value: number, stream?: string, late?: boolean): void;
  /**
   * Where `scalar` puts one tag's values, for a reader that meets the tag at
   * every step: adding to it is `scalar(tag, step, value, stream)` without
   * looking the tag up.
   */
  column?(tag: string, stream?: string): ScalarColumn;
  histogram(tag: string, step: number, histogram: Histogram, stream?: string): void;
  /** Training restarted: data at `step` and later is replaced by what follows. */
  purge(step: number, stream?: string): void;
  event(event: RunEvent, stream?: string): void;
  warning(warning: ReadWarning): void;
  /** A summary the reader knows of but does not read (TensorBoard text, images, hparams): named when the run has nothing else. */
  leftOut?(tag: string, kind: string): void;
  /** The reader knows the tool that wrote the log from how its lines look (Keras's progress bar), which its tags alone do not say. */
  writtenBy?(writer: Writer, stream?: string): void;
  /** A line that says which step the values after it are (OLMo's and Composer's block headers) holds none itself: it is still that step's line. */
  stepHeader?(step: number, stream?: string): void;
}

/**
 * An incremental reader. Fed a file's bytes in any chunks, it emits exactly
 * what one whole read emits; an incomplete last line or record waits for the
 * next push, and is only read (or reported) at end().
 */
export interface LogReader {
  push(bytes: Uint8Array): void;
  /** No more bytes will come for now: read what is pending if it is complete on its own. */
  end(): void;
}

export type ReaderFactory = (sink: LogSink, file: string) => LogReader;
