/**
 * Everything the dashboard webview and its host say to each other, declared
 * once. The host sends runs as RunPayloads; the webview answers with what the
 * user asked for. Both sides parse what they receive with these schemas and
 * drop what does not match.
 */
import { ROLES } from '../logs/roles';
import { LOG_FORMATS } from '../logs/run';
import { diagnosisSchema } from './diagnosis';
import { array, boolean, finite, float64Array, literal, message, nullable, number, object, optional, record, refine, string, union, type Infer } from './schema';

/** How a run looks at a glance: the sidebar's icon, the dashboard's badge. */
export const runStatusSchema = literal('healthy', 'warning', 'exploding', 'nonfinite', 'no-gradients', 'empty');
export type RunStatus = Infer<typeof runStatusSchema>;

/** A status in words, as the Runs view, the dashboard and the sweep table say it. */
export const RUN_STATUS_WORDS: Record<RunStatus, string> = {
  healthy: 'healthy',
  warning: 'warning',
  exploding: 'exploding',
  nonfinite: 'non-finite',
  'no-gradients': 'no gradient norms',
  empty: 'no steps yet',
};

/** Statuses worst first, as the sweep table sorts them and the Runs view and the table count them. */
export const RUN_STATUS_RANK: Record<RunStatus, number> = { nonfinite: 5, exploding: 4, warning: 3, healthy: 2, 'no-gradients': 1, empty: 0 };

/** How many runs have each status, worst first: `[['exploding', 50], ['healthy', 950]]`. */
export function statusCounts(statuses: Iterable<RunStatus>): Array<[RunStatus, number]> {
  const counts = new Map<RunStatus, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => RUN_STATUS_RANK[b] - RUN_STATUS_RANK[a]);
}

/** A value per step: arrays that differ in length are refused, not drawn against the wrong steps. */
const sameLength = (s: { steps: Float64Array; values: Float64Array }): boolean => s.steps.length === s.values.length;

const seriesFields = {
  tag: string,
  role: optional(literal(...ROLES)),
  param: optional(string),
  steps: float64Array,
  values: float64Array,
};

export const seriesPayloadSchema = refine(object(seriesFields), sameLength);

export const stepValuesSchema = refine(object({ steps: float64Array, values: float64Array }), sameLength);

/** How a series changed: the page keeps its first `keep` points and adds these (0: the series whole, new or thinned anew). */
export const seriesDeltaSchema = refine(object({ ...seriesFields, keep: finite }), sameLength);
export type SeriesDelta = Infer<typeof seriesDeltaSchema>;

const histogramFields = {
  tag: string,
  param: optional(string),
  steps: array(number),
  histograms: array(object({ min: number, max: number, count: number, sum: number, sumSquares: number, limits: array(number), counts: array(number) })),
};
export const histogramPayloadSchema = object(histogramFields);

/** How a tag's histograms grew: the page keeps its first `keep` and adds these (0 for a tag new to it). */
export const histogramDeltaSchema = object({ ...histogramFields, keep: finite });
export type HistogramDelta = Infer<typeof histogramDeltaSchema>;

/** One run as the dashboard draws it. */
export const runPayloadSchema = object({
  /** Stable identity: the same log (and rank) gives the same key across reloads. */
  key: string,
  label: string,
  /** The log file or folder; an engine experiment's JSON-lines log. */
  path: string,
  /** The rank inside a file that holds several. */
  stream: optional(string),
  format: literal(...LOG_FORMATS),
  status: runStatusSchema,
  /** The file is still growing (or the experiment still training). */
  live: boolean,
  series: array(seriesPayloadSchema),
  /** The total gradient norm before clipping as the diagnosis reads it: logged, or rebuilt from the per-parameter norms; absent when the run has neither. */
  totalNorm: optional(stepValuesSchema),
  histograms: array(histogramPayloadSchema),
  diagnosis: diagnosisSchema,
  /** Read warnings, as `file:line: message`. */
  warnings: array(string),
});
export type RunPayload = Infer<typeof runPayloadSchema>;

/**
 * A run that grew since the page was sent it: the new points of each series
 * that gained any (of a thinned per-parameter series, its last stretches), and
 * everything else that is small (diagnosis, status, warnings) as it is now.
 */
export const runAppendSchema = object({
  key: string,
  live: boolean,
  status: runStatusSchema,
  series: array(seriesDeltaSchema),
  /** Present when the total norm changed: keep its first `keep` points, add these. */
  totalNorm: optional(refine(object({ steps: float64Array, values: float64Array, keep: finite }), sameLength)),
  /** The tags whose histograms grew. */
  histograms: array(histogramDeltaSchema),
  diagnosis: diagnosisSchema,
  warnings: array(string),
});
export type RunAppend = Infer<typeof runAppendSchema>;

/**
 * What the page was last sent of a run, kept by the host and given back with
 * the next request, so that a run that only grew can be sent as what it gained.
 */
export const runCursorSchema = object({
  /** The log reader's edition (RunTail.edition): another edition means points were dropped or re-read. */
  edition: string,
  /** Tag → points sent (of the series as read, before any thinning). */
  series: record(finite),
  totalNorm: object({ length: finite, lastStep: nullable(number) }),
  /** Tag → histograms sent. */
  histograms: record(finite),
});
export type RunCursor = Infer<typeof runCursorSchema>;
export type SeriesPayload = Infer<typeof seriesPayloadSchema>;

/** A place in a run to look at: a finding's step, a parameter. */
export const focusSchema = object({ key: string, step: optional(finite), param: optional(string) });
export type Focus = Infer<typeof focusSchema>;

export const hostToDashboardSchema = union({
  /** The runs to show: one run, or several overlaid for comparison. Replaces what was shown. */
  show: message('show', { runs: array(runPayloadSchema), focus: optional(focusSchema) }),
  /** A shown run changed (a live log grew, an experiment trained on): replace it by key. */
  update: message('update', { run: runPayloadSchema }),
  /** A shown run grew: add the points to what the page has, by key. */
  append: message('append', { run: runAppendSchema }),
  focus: message('focus', { focus: focusSchema }),
});
export type HostToDashboard = Infer<typeof hostToDashboardSchema>;

export const dashboardToHostSchema = union({
  /** The page is loaded and listening. */
  ready: message('ready', {}),
  /** The user chose a hint: open the training script where its fix belongs. */
  openHint: message('openHint', { key: string, hintId: string, step: finite }),
  /** Open the run's log, at the line of a step when there is one. */
  openLog: message('openLog', { key: string, step: optional(finite) }),
  exportReport: message('exportReport', {}),
});
export type DashboardToHost = Infer<typeof dashboardToHostSchema>;

/**
 * What the webview keeps with vscode.setState, so a hidden or reloaded panel
 * comes back as it was. The host reads only `runs` (to read them again); the
 * rest is the webview's own view state.
 */
export const dashboardStateSchema = object({
  runs: array(object({ path: string, stream: optional(string) })),
});
export type DashboardState = Infer<typeof dashboardStateSchema>;
