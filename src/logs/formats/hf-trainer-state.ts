import { concatBytes } from '../bytes';
import type { LogSink, ReaderFactory } from '../sink';
import { parsePythonJson } from './python-json';
import { errorMessage } from '../../shared/errors';

/** Keys only the Trainer's end-of-training summary entry has. */
const SUMMARY_KEYS = ['train_runtime', 'train_samples_per_second', 'total_flos'];

/**
 * The prefix for a Trainer log entry's keys, in trainer_state.json or printed
 * to the console: `summary/` for the end-of-training summary, whose
 * `train_loss` is a mean over the run, not a step's loss; none otherwise.
 */
export function trainerEntryPrefix(keys: readonly string[]): string {
  return SUMMARY_KEYS.some((key) => keys.includes(key)) ? 'summary/' : '';
}

/**
 * Emits one `log_history` entry. Train, eval and summary entries share the
 * list and are told apart by their keys: eval keys carry their `eval_`
 * prefix already; the summary's averages are prefixed `summary/`, so its
 * `train_loss` (a mean over the whole run) is not read as the last step's loss.
 */
export function emitTrainerEntry(sink: LogSink, entry: Record<string, unknown>, step: number): void {
  const prefix = trainerEntryPrefix(Object.keys(entry));
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'step') continue;
    const number = typeof value === 'number' ? value : undefined;
    if (number !== undefined) sink.scalar(prefix + key, step, number);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A log_history entry larger than this is no Trainer log entry: it is skipped, not held. */
const MAX_ENTRY_BYTES = 1 << 20;
const KEY = new TextEncoder().encode('log_history');
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, QUOTE, BACKSLASH, COLON, COMMA] = [...'{}[]"\\:,'].map((c) => c.charCodeAt(0));
const decoder = new TextDecoder();
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Hugging Face Trainer's `trainer_state.json`, read as it streams: the
 * structure is followed byte by byte, and only the `log_history` entry being
 * read is held (a file of millions of steps costs what its run keeps, with
 * no limit on its size). The Trainer rewrites the whole file at each save:
 * one that ends before its last brace gives the entries before the cut and
 * an `incomplete` warning, and a follower keeps its last complete read.
 */
export const readTrainerState: ReaderFactory = (sink, file) => {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  /** Bytes of the string being read at depth 1, to find the `log_history` key: only its first bytes matter. */
  const key = new Uint8Array(KEY.length + 1);
  let keyLength = 0;
  let lastKeyIsHistory = false;
  let phase: 'seeking' | 'history' | 'after' = 'seeking';
  let index = 0;
  /** The entry being read: its chunks, or undefined between entries. */
  let entry: Uint8Array[] | undefined;
  let entryBytes = 0;
  let elementSeen = false;
  let bom = 0;

  const skipped = () => sink.warning({ file, message: `log_history[${index}] has no step; skipped` });
  const emit = (bytes: Uint8Array) => {
    let value: unknown;
    try {
      value = parsePythonJson(decoder.decode(bytes));
    } catch (error) {
      sink.warning({ file, message: `log_history[${index}] is not valid JSON (${errorMessage(error)}); skipped` });
      return;
    }
    if (!isRecord(value) || typeof value.step !== 'number' || !Number.isFinite(value.step)) skipped();
    else emitTrainerEntry(sink, value, value.step);
  };

  const push = (bytes: Uint8Array) => {
    let from = 0;
    // A BOM opens the file, at most: its three bytes may come in separate chunks.
    while (bom < 3 && from < bytes.length && !started && bytes[from] === [0xef, 0xbb, 0xbf][bom]) [bom, from] = [bom + 1, from + 1];
    let entryFrom = entry ? from : -1;
    for (let i = from; i < bytes.length; i++) {
      const byte = bytes[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          if (depth === 1 && phase === 'seeking') lastKeyIsHistory = keyLength === KEY.length && KEY.every((b, k) => key[k] === b);
        } else if (depth === 1 && phase === 'seeking' && keyLength <= KEY.length) key[keyLength++] = byte;
        continue;
      }
      if (isSpace(byte)) continue;
      started = true;
      if (byte === QUOTE) {
        inString = true;
        keyLength = 0;
        if (depth === 2 && phase === 'history') elementSeen = true;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (depth === 2 && phase === 'history' && byte === OPEN_BRACE) {
          entry = [];
          entryBytes = 0;
          entryFrom = i;
        } else if (depth === 2 && phase === 'history') elementSeen = true;
        if (depth === 1 && phase === 'seeking' && byte === OPEN_BRACKET && lastKeyIsHistory) phase = 'history';
        depth++;
        continue;
      }
      if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 2 && phase === 'history' && entry && byte === CLOSE_BRACE) {
          entry.push(bytes.subarray(entryFrom, i + 1));
          entryBytes += i + 1 - entryFrom;
          if (entryBytes <= MAX_ENTRY_BYTES) emit(concatBytes(entry));
          else sink.warning({ file, message: `log_history[${index}] is ${Math.round(entryBytes / 2 ** 20)} MiB: not a Trainer log entry; skipped` });
          entry = undefined;
          entryFrom = -1;
          elementSeen = false;
          index++;
        } else if (depth === 1 && phase === 'history') {
          if (elementSeen) skipped();
          phase = 'after';
        }
        continue;
      }
      if (depth === 1 && phase === 'seeking' && byte !== COLON) lastKeyIsHistory = false;
      if (depth === 2 && phase === 'history') {
        if (byte !== COMMA) elementSeen = true;
        else if (elementSeen) {
          skipped();
          elementSeen = false;
          index++;
        }
      }
    }
    if (entry && entryFrom >= 0) {
      // The entry goes on in the next chunk: keep its part of this one (a copy, since the chunk is the caller's).
      entryBytes += bytes.length - entryFrom;
      if (entryBytes <= MAX_ENTRY_BYTES) entry.push(bytes.slice(entryFrom));
    }
  };

  const end = () => {
    if (!started || depth !== 0 || inString) {
      const where = phase === 'history' ? `ends inside log_history, after ${index} entries` : 'ends before its last brace';
      sink.warning({ file, message: `not complete JSON (${started ? where : 'empty'}); the Trainer may be writing it`, incomplete: true });
    } else if (phase === 'seeking') sink.warning({ file, message: 'no "log_history" list: not a Hugging Face trainer_state.json' });
    depth = 0;
    inString = escaped = started = lastKeyIsHistory = elementSeen = false;
    keyLength = index = entryBytes = bom = 0;
    phase = 'seeking';
    entry = undefined;
  };

  return { push, end };
};
