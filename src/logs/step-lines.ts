/**
 * Where steps sit in a line-based log, found by streaming the file once
 * through GradLens's own reader: the line a diagnostic goes on is the line
 * the reader took the step from. Constant memory whatever the file's size
 * (only the wanted steps are kept), and the event loop gets a turn between
 * chunks. The language server puts diagnostics there; the dashboard opens
 * the log there.
 */
import { LineSplitter } from './lines';
import { openRegularFile } from './files';
import { READERS } from './readers';
import type { LogFormat } from './run';
import type { LogSink } from './sink';

/** Formats with one record per text line (trainer_state.json: one key per line, as the Trainer writes it). */
export const LINE_FORMATS: ReadonlySet<LogFormat> = new Set<LogFormat>(['jsonl', 'csv', 'text', 'hf-trainer-state']);

/** A step's line: 0-based, with its length in UTF-16 units so a diagnostic can cover exactly that line. */
export interface StepLine {
  line: number;
  length: number;
}

const CHUNK_BYTES = 256 * 1024;
const LF = new Uint8Array([10]);
const decoder = new TextDecoder();

/** Calls `onLine` with each line and its 0-based number until the file ends or `onLine` returns true. */
async function eachLine(file: string, onLine: (bytes: Uint8Array, start: number, end: number, line: number) => boolean): Promise<void> {
  let stop = false;
  const splitter = new LineSplitter({
    line: (bytes, start, end, lineNumber) => {
      stop ||= onLine(bytes, start, end, lineNumber - 1);
    },
    overlong: () => {},
  });
  const stream = (await openRegularFile(file)).handle.createReadStream({ highWaterMark: CHUNK_BYTES });
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
 * Feeds the file line by line to its reader and reports, for each line, the
 * steps the reader took from it, and the step from which training went back
 * (a restart from a checkpoint) when it did: a tag written again at or
 * before its last step, as the run's series read it, or a purge.
 */
async function eachStepLine(
  file: string,
  format: 'jsonl' | 'csv' | 'text',
  stream: string | undefined,
  onLine: (steps: number[], restartFrom: number | undefined, bytes: Uint8Array, start: number, end: number, line: number) => boolean,
): Promise<void> {
  let lineSteps: number[] = [];
  let restartFrom: number | undefined;
  const lastStepOfTag = new Map<string, number>();
  const sink: LogSink = {
    scalar: (tag, step, _value, from, late) => {
      if (from !== stream || late) return;
      lineSteps.push(step);
      const last = lastStepOfTag.get(tag);
      if (last !== undefined && step <= last) restartFrom = Math.min(step, restartFrom ?? Infinity);
      lastStepOfTag.set(tag, step);
    },
    histogram: () => {},
    purge: (step, from) => {
      if (from === stream) restartFrom = Math.min(step, restartFrom ?? Infinity);
    },
    event: () => {},
    warning: () => {},
    stepHeader: (step, from) => {
      if (from === stream) lineSteps.push(step);
    },
  };
  const reader = READERS[format](sink, file);
  await eachLine(file, (bytes, start, end, line) => {
    reader.push(bytes.subarray(start, end));
    reader.push(LF);
    const steps = lineSteps;
    const from = restartFrom;
    lineSteps = [];
    restartFrom = undefined;
    return onLine(steps, from, bytes, start, end, line);
  });
}

function lineOf(bytes: Uint8Array, start: number, end: number, line: number): StepLine {
  return { line, length: decoder.decode(bytes.subarray(start, end)).length };
}

/** trainer_state.json writes one key per line; a log_history entry's step is its `"step": N` line. */
const TRAINER_STATE_STEP = /"step"\s*:\s*(\d+)(?![\d.])/;

/**
 * The lines of `wanted` steps of the run `stream` (undefined for a file
 * with one) in a line-based log. When training restarted from a checkpoint
 * and wrote a step again, the later line is the one whose data GradLens
 * shows, and that is the one returned.
 */
export async function findStepLines(file: string, format: LogFormat, wanted: ReadonlySet<number>, stream?: string): Promise<Map<number, StepLine>> {
  const found = new Map<number, StepLine>();
  if (wanted.size === 0) return found;
  if (format === 'hf-trainer-state') {
    await eachLine(file, (bytes, start, end, line) => {
      const match = TRAINER_STATE_STEP.exec(decoder.decode(bytes.subarray(start, end)));
      const step = match ? Number(match[1]) : NaN;
      if (wanted.has(step) && !found.has(step)) found.set(step, lineOf(bytes, start, end, line));
      return false;
    });
    return found;
  }
  if (format !== 'jsonl' && format !== 'csv' && format !== 'text') return found;
  await eachStepLine(file, format, stream, (steps, restartFrom, bytes, start, end, line) => {
    if (restartFrom !== undefined) for (const step of found.keys()) if (step >= restartFrom) found.delete(step);
    for (const step of steps) if (wanted.has(step) && !found.has(step)) found.set(step, lineOf(bytes, start, end, line));
    return false;
  });
  return found;
}

/** The 0-based line of one step, or undefined when it is not there (or the format has no lines). */
export async function findStepLine(file: string, format: LogFormat, step: number, stream?: string): Promise<number | undefined> {
  return (await findStepLines(file, format, new Set([step]), stream)).get(step)?.line;
}

/**
 * The step written at a 0-based line, or undefined. In trainer_state.json
 * any line of a log_history entry belongs to the entry's step, which the
 * Trainer writes last (its keys are sorted).
 */
export async function stepAtLine(file: string, format: LogFormat, target: number, stream?: string): Promise<number | undefined> {
  let step: number | undefined;
  if (format === 'hf-trainer-state') {
    await eachLine(file, (bytes, start, end, line) => {
      if (line < target) return false;
      const text = decoder.decode(bytes.subarray(start, end));
      const match = TRAINER_STATE_STEP.exec(text);
      if (match) step = Number(match[1]);
      return match !== null || text.replace(/"(?:[^"\\]|\\.)*"/g, '').includes('}');
    });
    return step;
  }
  if (format !== 'jsonl' && format !== 'csv' && format !== 'text') return undefined;
  await eachStepLine(file, format, stream, (steps, _restartFrom, _bytes, _start, _end, line) => {
    if (line === target && steps.length > 0) step = steps[0];
    return line >= target;
  });
  return step;
}
