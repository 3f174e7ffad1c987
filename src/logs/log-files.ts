/**
 * The one list of what counts as a training log by its name: the CLI's
 * folder search, the extension's default `gradlens.logGlobs` (package.json
 * holds a copy, which a test keeps equal) and the language server's log
 * documents all use it. A file given by name is read whatever its name.
 */
import { compileTagPattern } from './tag-pattern';

export const LOG_FILE_NAMES: readonly string[] = [
  '*.jsonl',
  '*.ndjson',
  '*.csv',
  '*.log',
  '*.out',
  '*.err',
  '*.txt',
  'trainer_state.json',
  // JSON lines under a .json name: detectron2's JSONWriter, mmengine's LocalVisBackend. (mmcv's `*.log.json`
  // counts iterations within each epoch without the epoch's length; its `*.log` beside it has the global step.)
  'metrics.json',
  'scalars.json',
  '*tfevents*',
  '*.wandb',
];

/** The list as workspace globs, with MLflow's metric files (which have no extension) by their place. */
export const LOG_FILE_GLOBS: readonly string[] = [...LOG_FILE_NAMES.map((name) => `**/${name}`), '**/mlruns/**/metrics/**'];

// The same `*` globs, matched the same way, as the tag table's patterns.
const NAME_MATCHERS = LOG_FILE_NAMES.map(compileTagPattern);

/** The list's file extensions, for an open dialog's filter (`*tfevents*` has none to give). */
export const LOG_FILE_EXTENSIONS: readonly string[] = [...new Set(LOG_FILE_NAMES.filter((name) => /\.\w+$/.test(name)).map((name) => name.slice(name.lastIndexOf('.') + 1)))];

/** Whether a file name (without its folder) is a log's by the list. */
export function isLogFileName(name: string): boolean {
  return NAME_MATCHERS.some((matches) => matches(name) !== undefined);
}
