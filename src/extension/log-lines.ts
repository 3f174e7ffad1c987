/**
 * The line of a log file where a step is written, for "open the log at this
 * step". The file's own reader decides what a line's step is (a JSON key, a
 * CSV column, `Step 3:` or `Epoch [2][100/600]` in a console log), so the
 * line found is the one GradLens read the step from. The file is streamed in
 * chunks: constant memory, and the host's event loop gets a turn between
 * chunks. No vscode import.
 */
import { createReadStream } from 'node:fs';
import { READERS } from '../logs/open';
import { LineSplitter } from '../logs/lines';
import type { LogFormat } from '../logs/run';
import type { LogSink } from '../logs/sink';

/** Formats with one record per text line (trainer_state.json: one key per line, as the Trainer writes it). */
export const LINE_FORMATS: ReadonlySet<LogFormat> = new Set<LogFormat>(['jsonl', 'csv', 'text', 'hf-trainer-state']);

const CHUNK_BYTES = 256 * 1024;
const LF = new Uint8Array([10]);

/**
 * Calls `onLine` with each line of the file and its 1-based number, until
 * the file ends or `onLine` returns true.
 */
async function eachLine(file: string, onLine: (bytes: Uint8Array, start: number, end: number, lineNumber: number) => boolean): Promise<void> {
  let stop = false;
  const splitter = new LineSplitter({
    line: (bytes, start, end, lineNumber) => {
      stop ||= onLine(bytes, start, end, lineNumber);
    },
    overlong: () => {},
  });
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) {
      splitter.push(chunk as Buffer);
      if (stop) return;
    }
    splitter.end();
  } finally {
    stream.destroy();
  }
}

/**
 * The 0-based line at which `step` is written in a line-based log, or
 * undefined when it is not there (or the format has no lines). When training
 * restarted from a checkpoint and wrote the step again, the later line is the
 * one whose data GradLens shows, and that is the one returned.
 */
export async function findStepLine(file: string, format: LogFormat, step: number, stream?: string): Promise<number | undefined> {
  if (format === 'hf-trainer-state') return findTrainerStateLine(file, step);
  if (format !== 'jsonl' && format !== 'csv' && format !== 'text') return undefined;
  let found: number | undefined;
  let lineSteps: number[] = [];
  let restarted = false;
  let previous = -Infinity;
  const sink: LogSink = {
    scalar: (_tag, s, _value, from) => {
      if (from === stream) lineSteps.push(s);
    },
    histogram: () => {},
    purge: (s, from) => {
      if (from === stream && s <= step) restarted = true;
    },
    event: () => {},
    warning: () => {},
  };
  const reader = READERS[format](sink, file);
  await eachLine(file, (bytes, start, end, lineNumber) => {
    reader.push(bytes.subarray(start, end));
    reader.push(LF);
    if (lineSteps.length === 0) return false;
    const first = lineSteps[0];
    // A step before the previous line's: training went back, and what follows replaces what was read.
    if (restarted || (first < previous && first <= step)) found = undefined;
    if (found === undefined && lineSteps.includes(step)) found = lineNumber - 1;
    previous = first;
    lineSteps = [];
    restarted = false;
    return false;
  });
  return found;
}

/** trainer_state.json: the `"step": N` line of the step's log_history entry. */
async function findTrainerStateLine(file: string, step: number): Promise<number | undefined> {
  const pattern = new RegExp(String.raw`"step"\s*:\s*${step}(?![\d.])`);
  const decoder = new TextDecoder();
  let found: number | undefined;
  await eachLine(file, (bytes, start, end, lineNumber) => {
    if (pattern.test(decoder.decode(bytes.subarray(start, end)))) found = lineNumber - 1;
    return found !== undefined;
  });
  return found;
}
