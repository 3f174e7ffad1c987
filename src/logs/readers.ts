/** Which reader reads each format GradLens detects (an MLflow run's reader depends on its metric: see discovery.ts). */
import { readCsv } from './formats/csv';
import { readTrainerState } from './formats/hf-trainer-state';
import { readJsonLines } from './formats/jsonl';
import { readTextLog } from './formats/text';
import { readTfEvents } from './formats/tfevents';
import { readWandb } from './formats/wandb';
import type { LogFormat } from './run';
import type { ReaderFactory } from './sink';

export const READERS: Record<Exclude<LogFormat, 'mlflow'>, ReaderFactory> = {
  jsonl: readJsonLines,
  csv: readCsv,
  'hf-trainer-state': readTrainerState,
  tfevents: readTfEvents,
  text: readTextLog,
  wandb: readWandb,
};

/** Formats whose file is rewritten whole rather than appended to. */
export const REWRITTEN_FORMATS: ReadonlySet<string> = new Set(['hf-trainer-state']);

