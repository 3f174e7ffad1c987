/**
 * Everything the dashboard webview and its host say to each other, declared
 * once. The host sends runs as RunPayloads; the webview answers with what the
 * user asked for. Both sides parse what they receive with these schemas and
 * drop what does not match.
 */
import type { Diagnosis } from '../diagnosis/types';
import { ROLES } from '../logs/roles';
import { array, boolean, finite, float64Array, literal, message, nullable, number, object, optional, record, string, union, type Infer, type Schema } from './schema';

const nullableNumber = nullable(number);

export const hintIdSchema = literal(
  'add-norm-clipping', 'prefer-norm-clipping', 'raise-clip-threshold', 'lower-clip-threshold', 'orthogonal-init', 'spectral-norm', 'truncated-bptt',
  'lower-lr', 'lr-warmup', 'gated-cells', 'residual-connections', 'unscale-before-clipping', 'loss-scaler', 'check-data', 'log-gradients',
);

export const findingSchema = object({
  kind: literal('nonfinite', 'explosion', 'spike', 'vanishing', 'clipping', 'dominance', 'divergence'),
  severity: literal('info', 'warning', 'error'),
  step: number,
  endStep: number,
  layers: array(string),
  message: string,
  evidence: record(nullable(union2(number, string))),
  hints: array(object({ id: hintIdSchema, text: string })),
});

function union2<A, B>(a: Schema<A>, b: Schema<B>): Schema<A | B> {
  return { parse: (v) => a.parse(v) ?? b.parse(v) };
}

export const diagnosisSchema = object({
  steps: number,
  firstStep: nullableNumber,
  lastStep: nullableNumber,
  layers: array(string),
  loss: object({ first: nullableNumber, last: nullableNumber, min: nullableNumber, max: nullableNumber }),
  gradNorm: object({ max: nullableNumber, maxStep: nullableNumber, median: nullableNumber, p95: nullableNumber, firstNonFiniteStep: nullableNumber }),
  gradNormSource: literal('logged', 'parameters', 'none'),
  threshold: object({ recommended: nullableNumber, mean: nullableNumber, median: nullableNumber, p95: nullableNumber, p99: nullableNumber, max: nullableNumber }),
  clippedFraction: nullableNumber,
  parameters: array(
    object({
      name: string,
      maxNorm: nullableNumber,
      maxStep: nullableNumber,
      medianNorm: nullableNumber,
      nanSteps: number,
      infSteps: number,
      firstBadStep: nullableNumber,
      shareAtPeak: nullableNumber,
    }),
  ),
  findings: array(findingSchema),
});

// The schema mirrors diagnosis/types.ts; these lines stop the build when the two drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const diagnosisInSync: Same<Infer<typeof diagnosisSchema>, Diagnosis> = true;
void diagnosisInSync;

/** How a run looks at a glance: the sidebar's icon, the dashboard's badge. */
export const runStatusSchema = literal('healthy', 'warning', 'exploding', 'nonfinite', 'no-gradients', 'empty');
export type RunStatus = Infer<typeof runStatusSchema>;

export const seriesPayloadSchema = object({
  tag: string,
  role: optional(literal(...ROLES)),
  param: optional(string),
  steps: float64Array,
  values: float64Array,
});

export const histogramPayloadSchema = object({
  tag: string,
  param: optional(string),
  steps: array(number),
  histograms: array(object({ min: number, max: number, count: number, sum: number, sumSquares: number, limits: array(number), counts: array(number) })),
});

/** One run as the dashboard draws it. */
export const runPayloadSchema = object({
  /** Stable identity: the same log (and rank) gives the same key across reloads. */
  key: string,
  label: string,
  /** The log file or folder; an engine experiment's JSON-lines log. */
  path: string,
  /** The rank inside a file that holds several. */
  stream: optional(string),
  format: literal('jsonl', 'csv', 'hf-trainer-state', 'tfevents', 'text', 'mlflow', 'wandb'),
  status: runStatusSchema,
  /** The file is still growing (or the experiment still training). */
  live: boolean,
  series: array(seriesPayloadSchema),
  histograms: array(histogramPayloadSchema),
  diagnosis: diagnosisSchema,
  /** Read warnings, as `file:line: message`. */
  warnings: array(string),
});
export type RunPayload = Infer<typeof runPayloadSchema>;
export type SeriesPayload = Infer<typeof seriesPayloadSchema>;

/** A place in a run to look at: a finding's step, a parameter. */
export const focusSchema = object({ key: string, step: optional(finite), param: optional(string) });
export type Focus = Infer<typeof focusSchema>;

export const hostToDashboardSchema = union({
  /** The runs to show: one run, or several overlaid for comparison. Replaces what was shown. */
  show: message('show', { runs: array(runPayloadSchema), focus: optional(focusSchema) }),
  /** A shown run changed (a live log grew, an experiment trained on): replace it by key. */
  update: message('update', { run: runPayloadSchema }),
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
