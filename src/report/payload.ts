import type { Diagnosis } from '../diagnosis/types';
import type { Run } from '../logs/run';
import type { RunPayload, RunStatus } from '../protocol/dashboard';
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
 * A long per-parameter series cut to `max` points: from each run of equal
 * length, the point a person must not miss (a non-finite value first, else
 * the largest). A million steps of twelve parameters would otherwise be
 * hundreds of megabytes on their way to a heat map a few thousand pixels wide;
 * the diagnosis has already seen every point.
 */
export function thinSeries(steps: Float64Array, values: Float64Array, max: number): { steps: Float64Array; values: Float64Array } {
  if (steps.length <= max) return { steps, values };
  const outSteps = new Float64Array(max);
  const outValues = new Float64Array(max);
  for (let k = 0; k < max; k++) {
    const from = Math.floor((k * steps.length) / max);
    const to = Math.floor(((k + 1) * steps.length) / max);
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

export function toRunPayload(run: Run, diagnosis: Diagnosis, live = false): RunPayload {
  // Series logged at the same steps (most of them) share one step array, which the wire sends once.
  const stepAxes: Float64Array[] = [];
  const shared = (steps: Float64Array): Float64Array => {
    const known = stepAxes.find((axis) => sameSteps(axis, steps));
    if (known) return known;
    stepAxes.push(steps);
    return steps;
  };
  return {
    key: runKey(run),
    label: run.id,
    path: run.path,
    ...(run.stream !== undefined ? { stream: run.stream } : {}),
    format: run.format,
    status: runStatus(diagnosis),
    live,
    series: run.series.map((s) => ({
      tag: s.tag,
      ...(s.role ? { role: s.role } : {}),
      ...(s.param !== undefined ? { param: s.param } : {}),
      ...(s.role && PER_PARAMETER.has(s.role) && s.steps.length > MAX_PARAMETER_POINTS
        ? thinSeries(s.steps, s.values, MAX_PARAMETER_POINTS)
        : { steps: shared(s.steps), values: s.values }),
    })),
    histograms: run.histograms.map((h) => ({ tag: h.tag, ...(h.param !== undefined ? { param: h.param } : {}), steps: h.steps, histograms: h.histograms })),
    diagnosis,
    warnings: warningLines(run),
  };
}
