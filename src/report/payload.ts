import type { Diagnosis } from '../diagnosis/types';
import { RunView } from '../diagnosis/view';
import type { Run, Series } from '../logs/run';
import type { HistogramDelta, HostToDashboard, RunAppend, RunCursor, RunPayload, RunStatus, SeriesDelta, SeriesPayload } from '../protocol/dashboard';
import { warningLines } from './warnings';

/**
 * The status a person sees first: non-finite when the run's gradients went
 * NaN or infinite for good, exploding on an explosion error, warning on any
 * other warning or error; healthy otherwise, unless the log has no gradient
 * norms, which leaves the gradients unjudged.
 */
export function runStatus(d: Diagnosis): RunStatus {
  if (d.steps === 0) return 'empty';
  const errors = d.findings.filter((f) => f.severity === 'error');
  if (errors.some((f) => f.kind === 'nonfinite')) return 'nonfinite';
  if (errors.some((f) => f.kind === 'explosion')) return 'exploding';
  if (d.findings.some((f) => f.severity !== 'info')) return 'warning';
  return d.gradNormSource === 'none' ? 'no-gradients' : 'healthy';
}

/** A run's identity across reloads: its path, and its rank when the file holds several. */
export function runKey(run: Pick<Run, 'path' | 'stream'>): string {
  return run.stream === undefined ? run.path : `${run.path}#${run.stream}`;
}

/** Per-parameter series longer than this are thinned for the heat map; the total norm, loss and lr never are. */
export const MAX_PARAMETER_POINTS = 16384;
const PER_PARAMETER: ReadonlySet<string> = new Set(['paramGradNorm', 'weightNorm', 'updateRatio']);


/**
 * How many consecutive points become one point of a thinned series: the
 * smallest power of two that leaves at most `max`. A growing series keeps
 * its stretch, and so every point thinned from a full stretch, until its
 * length doubles: a live run resends only its last, partial stretch.
 */
export function thinningStretch(length: number, max: number): number {
  let size = 1;
  while (Math.ceil(length / size) > max) size *= 2;
  return size;
}

/**
 * A long per-parameter series cut to at most `max` points (more than half
 * of it): from each stretch, the point a person must not miss (a non-finite
 * value first, else the largest). A million steps of twelve parameters would
 * otherwise be hundreds of megabytes on their way to a heat map a few
 * thousand pixels wide; the diagnosis has already seen every point. With
 * `fromPoint`, only the thinned points from that one on.
 */
export function thinSeries(steps: Float64Array, values: Float64Array, max: number, fromPoint = 0): { steps: Float64Array; values: Float64Array } {
  const size = thinningStretch(steps.length, max);
  if (size === 1) return fromPoint === 0 ? { steps, values } : { steps: steps.subarray(fromPoint), values: values.subarray(fromPoint) };
  const count = Math.max(0, Math.ceil(steps.length / size) - fromPoint);
  const outSteps = new Float64Array(count);
  const outValues = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const from = (fromPoint + k) * size;
    const to = Math.min(from + size, steps.length);
    let pick = from;
    for (let i = from + 1; i < to; i++) {
      const v = values[i];
      const best = values[pick];
      if (Number.isFinite(best) ? !Number.isFinite(v) || v > best : Number.isNaN(best) ? false : Number.isNaN(v)) pick = i;
    }
    outSteps[k] = steps[pick];
    outValues[k] = values[pick];
  }
  return { steps: outSteps, values: outValues };
}

/** Two step arrays with the same steps. */
function sameSteps(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Per-parameter series reach the page thinned for its heat map (see thinSeries); every other series goes whole. */
function stretchOf(s: Series, length = s.steps.length): number {
  return s.role !== undefined && PER_PARAMETER.has(s.role) ? thinningStretch(length, MAX_PARAMETER_POINTS) : 1;
}

/** Series logged at the same steps (most of them) share one step array, which the wire sends once. */
function stepSharer(): (steps: Float64Array) => Float64Array {
  const stepAxes: Float64Array[] = [];
  return (steps) => {
    const known = stepAxes.find((axis) => sameSteps(axis, steps));
    if (known) return known;
    stepAxes.push(steps);
    return steps;
  };
}

function seriesName(s: Series): Pick<SeriesPayload, 'tag' | 'role' | 'param'> {
  return { tag: s.tag, ...(s.role ? { role: s.role } : {}), ...(s.param !== undefined ? { param: s.param } : {}) };
}

/** The series as the page gets it, from its `fromPoint`-th point on. */
function seriesPayload(s: Series, shared: (steps: Float64Array) => Float64Array, fromPoint = 0): SeriesPayload {
  const { steps, values } = thinSeries(s.steps, s.values, stretchOf(s) === 1 ? Infinity : MAX_PARAMETER_POINTS, fromPoint);
  return { ...seriesName(s), steps: shared(steps), values };
}

/** A tag's histograms as the page gets them, from its `from`-th on. */
function histogramPayload(h: Run['histograms'][number], from = 0): RunPayload['histograms'][number] {
  // Whole, the arrays themselves: the payload is encoded at once, as the series' are.
  return { tag: h.tag, ...(h.param !== undefined ? { param: h.param } : {}), steps: from === 0 ? h.steps : h.steps.slice(from), histograms: from === 0 ? h.histograms : h.histograms.slice(from) };
}

export function toRunPayload(run: Run, diagnosis: Diagnosis, live = false): RunPayload {
  return payloadOf(run, diagnosis, live, new RunView(run));
}

function payloadOf(run: Run, diagnosis: Diagnosis, live: boolean, view: RunView): RunPayload {
  const shared = stepSharer();
  return {
    key: runKey(run),
    label: run.id,
    path: run.path,
    ...(run.stream !== undefined ? { stream: run.stream } : {}),
    format: run.format,
    status: runStatus(diagnosis),
    live,
    series: run.series.map((s) => seriesPayload(s, shared)),
    // When logged, the same arrays as the gradNorm series: the wire sends them once.
    ...(view.normSource !== 'none' ? { totalNorm: { steps: shared(view.norms.steps), values: view.norms.values } } : {}),
    histograms: run.histograms.map((h) => histogramPayload(h)),
    diagnosis,
    warnings: warningLines(run),
  };
}

/**
 * The points of a series the page may keep when it next gets an append: all,
 * but in a summarised run the last one's bucket is still filling, so its
 * point may yet change for a larger one.
 */
const settled = (run: Run, length: number): number => (run.buckets ? Math.max(0, length - 1) : length);

function cursorOf(run: Run, view: RunView, edition: string): RunCursor {
  const { steps } = view.norms;
  const total = settled(run, steps.length);
  return {
    edition,
    series: Object.fromEntries(run.series.map((s) => [s.tag, settled(run, s.steps.length)])),
    totalNorm: { length: total, lastStep: total > 0 ? steps[total - 1] : null },
    histograms: Object.fromEntries(run.histograms.map((h) => [h.tag, h.steps.length])),
  };
}

/**
 * The dashboard message for a shown run that changed, and what the page
 * then holds. When the page holds `since` and the log only grew after it
 * (same edition), the message is an `append` of the points added since (a
 * live run of a million steps sends its last few hundred, not a million);
 * otherwise it is the run whole.
 */
export function runChange(run: Run, diagnosis: Diagnosis, live: boolean, edition: string, since?: RunCursor): { message: HostToDashboard; cursor: RunCursor } {
  const view = new RunView(run);
  const cursor = cursorOf(run, view, edition);
  const append = since && since.edition === edition ? appendOf(run, diagnosis, live, view, since) : undefined;
  return { message: append ? { type: 'append', run: append } : { type: 'update', run: payloadOf(run, diagnosis, live, view) }, cursor };
}

function appendOf(run: Run, diagnosis: Diagnosis, live: boolean, view: RunView, since: RunCursor): RunAppend | undefined {
  const shared = stepSharer();
  const series: SeriesDelta[] = [];
  for (const s of run.series) {
    const sent = since.series[s.tag];
    if (sent !== undefined && sent > s.steps.length) return undefined;
    if (sent === s.steps.length) continue;
    // The page keeps the points thinned from full stretches of what it was sent, while the stretch is the same.
    const stretch = stretchOf(s);
    const keep = sent !== undefined && stretchOf(s, sent) === stretch ? Math.floor(sent / stretch) : 0;
    series.push({ ...seriesPayload(s, shared, keep), keep });
  }
  const { steps, values } = view.norms;
  const { length, lastStep } = since.totalNorm;
  // A total rebuilt from the parameters can change where a parameter came late: then it goes whole.
  const totalKept = length <= steps.length && (length === 0 || steps[length - 1] === lastStep);
  const keep = totalKept ? length : 0;
  const totalNorm = keep === steps.length ? undefined : { steps: shared(steps.subarray(keep)), values: values.subarray(keep), keep };
  // Within an edition a tag's histograms only grow at the end (a sparser sample or a restart changes the edition).
  const histograms: HistogramDelta[] = [];
  for (const h of run.histograms) {
    const sent = since.histograms[h.tag] ?? 0;
    if (sent > h.steps.length) return undefined;
    if (sent < h.steps.length) histograms.push({ ...histogramPayload(h, sent), keep: sent });
  }
  return {
    key: runKey(run),
    live,
    status: runStatus(diagnosis),
    series,
    ...(totalNorm ? { totalNorm } : {}),
    histograms,
    diagnosis,
    warnings: warningLines(run),
  };
}
