/**
 * What the sweep table webview and its host say to each other, declared
 * once: the host sends one row per run (from the logs worker's summaries),
 * then only the rows that changed and the keys that went; the page asks for
 * a run's dashboard. Both sides parse what they receive with these schemas
 * and drop what does not match.
 */
import { runStatusSchema } from './dashboard';
import { array, boolean, finite, message, nullable, number, object, oneOf, record, string, union, type Infer } from './schema';

/** One run as the sweep table lists it. */
export const sweepRowSchema = object({
  key: string,
  /** The run's name with its folder, as the Runs view titles it. */
  run: string,
  status: runStatusSchema,
  live: boolean,
  steps: finite,
  /** Largest total gradient norm (Infinity and NaN are facts) and its step; null when the log has no norms. */
  maxNorm: nullable(number),
  maxNormStep: nullable(number),
  firstNonFiniteStep: nullable(number),
  /** The last logged loss, NaN included. */
  finalLoss: nullable(number),
  /** What the run states of its hyperparameters, by the keys of logs/hyperparameters.ts. */
  hyperparameters: record(oneOf(finite, string)),
});
export type SweepRow = Infer<typeof sweepRowSchema>;

export const hostToSweepSchema = union({
  /** Every run the table lists, replacing what it listed; `title` says which runs they are. */
  show: message('show', { title: string, rows: array(sweepRowSchema) }),
  /** Rows that are new or changed (replaced by key), and the keys of runs no longer listed. */
  change: message('change', { rows: array(sweepRowSchema), removed: array(string) }),
});
export type HostToSweep = Infer<typeof hostToSweepSchema>;

export const sweepToHostSchema = union({
  /** The page is loaded and listening. */
  ready: message('ready', {}),
  /** The person chose a run: show it in the dashboard. */
  openRun: message('openRun', { key: string }),
});
export type SweepToHost = Infer<typeof sweepToHostSchema>;

/** What the page keeps with setState, so a hidden panel comes back sorted as it was. */
export const sweepStateSchema = object({
  sort: nullable(object({ column: string, descending: boolean })),
});
export type SweepState = Infer<typeof sweepStateSchema>;
