/**
 * What `activate` returns: a read-only look at what GradLens shows, for
 * other extensions and for the end-to-end tests, which check the Runs view
 * as a person sees it.
 */
import type { RunSummary } from '../worker/logs-protocol';

/** One row of the Runs view as it is drawn. */
export interface RunsViewRow {
  /** The group's name for a run row; undefined for a group row. */
  group: string | undefined;
  label: string;
  description: string;
  /** The row's codicon id: a run's status (`flame`, `pass`, `error`, …) or a group's kind. */
  icon: string;
}

export interface GradLensApi {
  /** How long `activate` itself took, in milliseconds (it also logs this). */
  readonly activationMs: number;
  /** The Runs view's rows, top to bottom, every group expanded. */
  runsView(): RunsViewRow[];
  /** The runs listed now, with their diagnosis. */
  runs(): readonly RunSummary[];
}
