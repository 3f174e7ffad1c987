import type { Diagnosis } from '../diagnosis/types';
import type { Run } from '../logs/run';
import type { RunPayload, RunStatus } from '../protocol/dashboard';
import { warningLines } from './warnings';

/**
 * The status a person sees first: non-finite when the run's gradients went
 * NaN or infinite for good, exploding on an explosion error, warning on any
 * other warning or error, healthy otherwise.
 */
export function runStatus(d: Diagnosis): RunStatus {
  if (d.steps === 0) return 'empty';
  const errors = d.findings.filter((f) => f.severity === 'error');
  if (errors.some((f) => f.kind === 'nonfinite')) return 'nonfinite';
  if (errors.some((f) => f.kind === 'explosion')) return 'exploding';
  return d.findings.some((f) => f.severity !== 'info') ? 'warning' : 'healthy';
}

/** A run's identity across reloads: its path, and its rank when the file holds several. */
export function runKey(run: Pick<Run, 'path' | 'stream'>): string {
  return run.stream === undefined ? run.path : `${run.path}#${run.stream}`;
}

export function toRunPayload(run: Run, diagnosis: Diagnosis, live = false): RunPayload {
  return {
    key: runKey(run),
    label: run.id,
    path: run.path,
    ...(run.stream !== undefined ? { stream: run.stream } : {}),
    format: run.format,
    status: runStatus(diagnosis),
    live,
    series: run.series.map((s) => ({ tag: s.tag, ...(s.role ? { role: s.role } : {}), ...(s.param !== undefined ? { param: s.param } : {}), steps: s.steps, values: s.values })),
    histograms: run.histograms.map((h) => ({ tag: h.tag, ...(h.param !== undefined ? { param: h.param } : {}), steps: h.steps, histograms: h.histograms })),
    diagnosis,
    warnings: warningLines(run),
  };
}
