/**
 * What the dashboard draws, derived once per run payload: the series by role
 * and clipped steps as ranges. The total norm and the clip threshold come
 * from the core, as the diagnosis read them.
 */
import type { RunPayload, SeriesPayload } from '../../protocol/dashboard';
import type { Role } from '../../logs/roles';
import { GrownFold } from '../charts/grown';
import { stepExtent, type XRange } from '../charts/x-axis';

export interface StepValues {
  steps: Float64Array;
  values: Float64Array;
}

export interface RunModel {
  run: RunPayload;
  /** The run's name, long enough to tell it from the other runs shown. */
  label: string;
  /** The total gradient norm before clipping, logged or computed from the parameters. */
  totalNorm: StepValues | undefined;
  loss: SeriesPayload | undefined;
  evalLoss: SeriesPayload | undefined;
  lr: SeriesPayload | undefined;
  /** Steps where clipping acted, as [from, to] pairs. */
  clippedRanges: Float64Array;
  /** The max_norm the log recorded, as the diagnosis read it. */
  clipThreshold: number | undefined;
  /** Per-parameter norms, in the diagnosis's order (worst first), then any others. */
  parameters: Array<{ name: string; series: SeriesPayload }>;
}

/**
 * Names that tell the runs apart: a run's label, or, when two runs share it
 * (every run folder has its grads.jsonl), as many trailing parts of its path
 * as it takes, and its stream.
 */
export function distinctLabels(runs: RunPayload[]): string[] {
  const parts = runs.map((r) => r.path.split(/[\\/]/).filter((p) => p !== ''));
  const label = (i: number, depth: number): string => {
    const r = runs[i];
    const base = depth === 0 ? r.label : parts[i].slice(-depth).join('/');
    return r.stream === undefined || depth === 0 ? base : `${base} (${r.stream})`;
  };
  const maxDepth = Math.max(0, ...parts.map((p) => p.length));
  return runs.map((_, i) => {
    for (let depth = 0; depth <= maxDepth; depth++) {
      const mine = label(i, depth);
      if (runs.every((_, j) => j === i || label(j, depth) !== mine)) return mine;
    }
    return label(i, maxDepth);
  });
}

function withRole(run: RunPayload, role: Role): SeriesPayload | undefined {
  return run.series.find((s) => s.role === role && s.steps.length > 0);
}

export function modelOf(run: RunPayload, label = run.label): RunModel {
  const perParameter = run.series.filter((s) => s.role === 'paramGradNorm' && s.param !== undefined);
  const rank = new Map(run.diagnosis.parameters.map((p, i) => [p.name, i]));
  const parameters = perParameter
    .map((series) => ({ name: series.param ?? series.tag, series }))
    .sort((a, b) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity));
  const clipped = withRole(run, 'clipped');
  return {
    run,
    label,
    totalNorm: run.totalNorm,
    loss: withRole(run, 'loss'),
    evalLoss: withRole(run, 'evalLoss'),
    lr: withRole(run, 'lr'),
    clippedRanges: clipped ? rangesWhere(clipped) : new Float64Array(0),
    clipThreshold: run.diagnosis.clipThreshold ?? undefined,
    parameters,
  };
}

/**
 * The steps where a flag series is on, as merged [from, to] pairs; each step
 * covers half the gap to its neighbours, so sparse logging still shades.
 */
export function rangesWhere(flag: StepValues, rule: FlagRule = FLAG_ON): Float64Array {
  const { steps, values } = flag;
  const out = flaggedRanges.of(values, { steps, on: rule.on }, rule.key);
  const last = values.length - 1;
  if (last < 0 || !rule.on(values[last])) return Float64Array.from(out);
  // The last step has no next one yet: it covers half a step after it.
  const from = stepFrom(steps, last);
  const to = steps[last] + 0.5;
  const merged = out.length > 0 && from <= out[out.length - 1];
  const ranges = new Float64Array(out.length + (merged ? 0 : 2));
  ranges.set(out);
  ranges.set(merged ? [to] : [from, to], merged ? out.length - 1 : out.length);
  return ranges;
}

/** Which values flag their step, and a key that names the rule (ranges are kept per array and rule). */
export interface FlagRule {
  key: string;
  on: (value: number) => boolean;
}

/** A flag series (clipped): on where its value is positive. */
const FLAG_ON: FlagRule = { key: 'on', on: (value) => value > 0 };

/** Where a flagged step's range starts: half the gap back to the step before it. */
const stepFrom = (steps: Float64Array, i: number): number => steps[i] - (i > 0 ? (steps[i] - steps[i - 1]) / 2 : 0.5);

/**
 * The ranges of every flagged step but the last, whose end waits for the
 * next step; kept as a live series grows (charts/grown.ts), so a long run
 * that gains a few steps reads those alone.
 */
const flaggedRanges = new GrownFold<number[], { steps: Float64Array; on: (value: number) => boolean }>(
  () => [],
  (out, values, from, to, { steps, on }) => {
    for (let i = Math.max(0, from - 1); i < to - 1; i++) {
      if (!on(values[i])) continue;
      const start = stepFrom(steps, i);
      const end = steps[i] + (steps[i + 1] - steps[i]) / 2;
      if (out.length > 0 && start <= out[out.length - 1]) out[out.length - 1] = end;
      else out.push(start, end);
    }
  },
);

/** The first and last step of the run's data. */
export function stepSpan(model: RunModel): XRange | undefined {
  return stepExtent(model.run.series);
}
