import { LineSplitter, overlongWarning } from '../lines';
import type { ReaderFactory } from '../sink';
import { JsonObjectScanner, newScannedRecord, type ScannedRecord } from './json-scan';

/**
 * Keys that hold the step, most specific first. Loggers disagree: the native
 * format and most loops write `step`, W&B exports `_step`, Lightning
 * `trainer/global_step`, Megatron-style dumps and detectron2's metrics.json
 * `iteration`, LLaMA-Factory's trainer_log.jsonl `current_steps` (next to an
 * `epoch` rounded to two decimals). An epoch is the step only when nothing
 * else counts.
 */
export const STEP_KEYS = ['step', 'global_step', '_step', 'trainer/global_step', 'train/global_step', 'iteration', 'iter', 'it', 'current_steps', 'epoch'] as const;

const STEP_RANK = new Map<string, number>(STEP_KEYS.map((key, rank) => [key, rank]));

/** Index of the step key in a scanned record, or -1. */
export function stepKeyIndex(record: ScannedRecord): number {
  let best = -1;
  let bestRank: number = STEP_KEYS.length;
  for (let i = 0; i < record.length; i++) {
    const rank = STEP_RANK.get(record.keys[i]);
    if (rank !== undefined && rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * JSON lines: GradLens's native format (nested `layers`, `weight_norms`), flat
 * keys (`grad_norm/<param>`), and any object per line with a step and numbers.
 * An object without a step key is numbered by its position among records,
 * unless records before it had one: then it belongs to the latest step (an
 * end-of-training summary, an evaluation record), rather than sending the
 * steps back. Its keys that the latest step already has (a summary's
 * average `loss`) are not written over the step's own values: the line is
 * reported instead. Blank lines are skipped; lines that are not a JSON
 * object are reported with their number and skipped.
 */
export const readJsonLines: ReaderFactory = (sink, file) => {
  const scanner = new JsonObjectScanner();
  const record = newScannedRecord();
  const decoder = new TextDecoder('utf-8');
  let ordinal = 0;
  /** The step of the last record with a step key: where a record without one belongs. */
  let latestStep: number | undefined;
  /** The step of the last record read, and the keys written at it. */
  let currentStep: number | undefined;
  const atCurrent = new Set<string>();
  const splitter = new LineSplitter({
    overlong: (line, length) => sink.warning(overlongWarning(file, line, length)),
    line: (bytes, start, end, lineNumber, cut) => {
      if (!scanner.scan(bytes, start, end, record)) {
        const text = decoder.decode(bytes.subarray(start, end));
        if (text.trim().length === 0) return;
        if (cut && text.trimStart().startsWith('{')) sink.warning({ file, line: lineNumber, message: `incomplete last line (the file ends inside it; it may still be being written): ${preview(text)}`, incomplete: true });
        else sink.warning({ file, line: lineNumber, message: `not a JSON object: ${preview(text)}` });
        return;
      }
      const stepIndex = stepKeyIndex(record);
      const step = stepIndex >= 0 ? record.values[stepIndex] : (latestStep ?? ordinal);
      const late = stepIndex < 0 && latestStep !== undefined;
      ordinal++;
      if (!Number.isFinite(step)) {
        sink.warning({ file, line: lineNumber, message: `step is ${step}; line skipped` });
        return;
      }
      if (stepIndex >= 0) latestStep = step;
      if (step !== currentStep) {
        currentStep = step;
        atCurrent.clear();
      }
      const kept: string[] = [];
      for (let i = 0; i < record.length; i++) {
        if (i === stepIndex) continue;
        const key = record.keys[i];
        if (late && atCurrent.has(key)) kept.push(key);
        else sink.scalar(key, step, record.values[i], undefined, late);
        atCurrent.add(key);
      }
      if (kept.length > 0) {
        sink.warning({ file, line: lineNumber, message: `no step, where earlier lines have one (a summary line?): put at step ${step}, whose own ${kept.join(', ')} ${kept.length === 1 ? 'is' : 'are'} kept: ${preview(decoder.decode(bytes.subarray(start, end)))}` });
      }
    },
  });
  return { push: (bytes) => splitter.push(bytes), end: () => splitter.end() };
};

/** The start of a bad line, for a warning a person can match to the file. */
export function preview(line: string): string {
  const trimmed = line.trim();
  return JSON.stringify(trimmed.length > 60 ? `${trimmed.slice(0, 60)}…` : trimmed);
}
