/**
 * A shown run grown by an `append` message, in time proportional to the
 * points added: each series keeps room to grow (its arrays are views on a
 * larger buffer, doubled when full), so a million-step live run takes its
 * new points without copying the million it has. The chart summaries
 * (charts/summary.ts) extend on the same buffers.
 */
import type { HistogramDelta, RunAppend, RunPayload, SeriesPayload } from '../../protocol/dashboard';

/** How much of each growable buffer is taken: only the newest view of a buffer may grow into it. */
const used = new WeakMap<ArrayBufferLike, number>();

/** `head` followed by `tail`, written in place after `head` when its buffer has room. */
function extended(head: Float64Array, tail: Float64Array): Float64Array {
  const end = head.byteOffset + head.byteLength;
  const length = head.length + tail.length;
  if (used.get(head.buffer) === end && end + tail.byteLength <= head.buffer.byteLength) {
    const grown = new Float64Array(head.buffer, head.byteOffset, length);
    grown.set(tail, head.length);
    used.set(head.buffer, end + tail.byteLength);
    return grown;
  }
  const grown = new Float64Array(new ArrayBuffer(Math.max(1024, 2 * length) * Float64Array.BYTES_PER_ELEMENT), 0, length);
  grown.set(head);
  grown.set(tail, head.length);
  used.set(grown.buffer, grown.byteLength);
  return grown;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The run grown by `delta`, or undefined when the delta keeps more points than the page has (it was made for another state). */
export function appendToRun(run: RunPayload, delta: RunAppend): RunPayload | undefined {
  const held = new Map(run.series.map((s) => [s.tag, s.steps.length]));
  const heldHistograms = new Map(run.histograms.map((h) => [h.tag, h.steps.length]));
  const fits =
    delta.series.every((d) => d.keep <= (held.get(d.tag) ?? 0)) &&
    (delta.totalNorm?.keep ?? 0) <= (run.totalNorm?.steps.length ?? 0) &&
    delta.histograms.every((d) => d.keep <= (heldHistograms.get(d.tag) ?? 0));
  if (!fits) return undefined;
  const byTag = new Map(delta.series.map((d) => [d.tag, d]));
  // Arrays the page shares (a step axis of several series, the logged total norm and its series) grow once, into one array.
  const grownOnce = new Map<Float64Array, { keep: number; tail: Float64Array; grown: Float64Array }>();
  const extendShared = (have: Float64Array, keep: number, tail: Float64Array): Float64Array => {
    const done = grownOnce.get(have);
    if (done && done.keep === keep && sameValues(done.tail, tail)) return done.grown;
    // A cut array is copied (extended() grows only the newest whole view in place): other views may still read past the cut.
    const grown = extended(have.subarray(0, keep), tail);
    grownOnce.set(have, { keep, tail, grown });
    return grown;
  };
  const grow = (have: { steps: Float64Array; values: Float64Array }, d: { steps: Float64Array; values: Float64Array; keep: number }) =>
    d.keep === 0 ? { steps: d.steps, values: d.values } : { steps: extendShared(have.steps, d.keep, d.steps), values: extendShared(have.values, d.keep, d.values) };
  const series: SeriesPayload[] = run.series.map((s) => {
    const d = byTag.get(s.tag);
    if (!d) return s;
    byTag.delete(s.tag);
    return { ...s, ...grow(s, d) };
  });
  for (const d of byTag.values()) series.push({ tag: d.tag, ...(d.role ? { role: d.role } : {}), ...(d.param !== undefined ? { param: d.param } : {}), steps: d.steps, values: d.values });
  const totalNorm = delta.totalNorm ? (run.totalNorm ? grow(run.totalNorm, delta.totalNorm) : { steps: delta.totalNorm.steps, values: delta.totalNorm.values }) : run.totalNorm;
  return {
    ...run,
    live: delta.live,
    status: delta.status,
    series,
    ...(totalNorm ? { totalNorm } : {}),
    histograms: grownHistograms(run.histograms, delta.histograms),
    diagnosis: delta.diagnosis,
    warnings: delta.warnings,
  };
}

/** Each tag's histograms with what the delta added after the ones it keeps; tags new to the page at the end. */
function grownHistograms(held: RunPayload['histograms'], deltas: readonly HistogramDelta[]): RunPayload['histograms'] {
  if (deltas.length === 0) return held;
  const byTag = new Map(deltas.map((d) => [d.tag, d]));
  const grown = held.map((h) => {
    const d = byTag.get(h.tag);
    if (!d) return h;
    byTag.delete(h.tag);
    return { ...h, steps: [...h.steps.slice(0, d.keep), ...d.steps], histograms: [...h.histograms.slice(0, d.keep), ...d.histograms] };
  });
  for (const { keep: _, ...d } of byTag.values()) grown.push(d);
  return grown;
}
