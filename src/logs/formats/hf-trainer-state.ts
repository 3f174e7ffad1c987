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

/**
 * The largest trainer_state.json read: it is parsed whole, and past this its
 * text nears V8's string limit (2^29 characters) and its objects the heap's.
 * A million logged steps take about 150 MB.
 */
export const MAX_TRAINER_STATE_BYTES = 256 * 1024 * 1024;

/**
 * Hugging Face Trainer's `trainer_state.json`. The Trainer rewrites the whole
 * file at each save, so it is read at end(): a half-written file gives a
 * warning, and a later complete read replaces it.
 */
export const readTrainerState: ReaderFactory = (sink, file) => {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    push: (bytes) => {
      size += bytes.length;
      if (size <= MAX_TRAINER_STATE_BYTES) chunks.push(bytes.slice());
      else chunks.length = 0;
    },
    end: () => {
      if (size > MAX_TRAINER_STATE_BYTES) {
        sink.warning({ file, message: `${Math.round(size / 2 ** 20)} MiB: over the ${MAX_TRAINER_STATE_BYTES / 2 ** 20} MiB GradLens reads of a trainer_state.json; not read`, unreadable: true });
        size = 0;
        return;
      }
      const text = new TextDecoder().decode(concatBytes(chunks));
      chunks.length = 0;
      size = 0;
      let state: unknown;
      try {
        state = parsePythonJson(text.replace(/^\uFEFF/, ''));
      } catch (error) {
        sink.warning({ file, message: `not complete JSON (${errorMessage(error)}); the Trainer may be writing it`, incomplete: true });
        return;
      }
      if (!isRecord(state) || !Array.isArray(state.log_history)) {
        sink.warning({ file, message: 'no "log_history" list: not a Hugging Face trainer_state.json' });
        return;
      }
      state.log_history.forEach((entry: unknown, index: number) => {
        if (!isRecord(entry) || typeof entry.step !== 'number' || !Number.isFinite(entry.step)) {
          sink.warning({ file, message: `log_history[${index}] has no step; skipped` });
          return;
        }
        emitTrainerEntry(sink, entry, entry.step);
      });
    },
  };
};
