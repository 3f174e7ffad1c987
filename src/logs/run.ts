import type { Histogram, LogSink, ReadWarning, RunEvent, ScalarColumn } from './sink';
import { TagRoles, type Role } from './roles';
import type { RunSettings, Writer } from './settings';

/** The formats GradLens reads; `detect.ts` tells them apart by content. */
export const LOG_FORMATS = ['jsonl', 'csv', 'hf-trainer-state', 'tfevents', 'text', 'mlflow', 'wandb'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One tag's values over steps. NaN and ±Infinity are data, never dropped. */
export interface Series {
  tag: string;
  role?: Role;
  /** For per-parameter roles: the parameter, as the tag names it. */
  param?: string;
  steps: Float64Array;
  values: Float64Array;
  /** The whole series' tally, present when the series is summarised (it keeps fewer points than were logged). */
  tally?: SeriesTally;
}

/**
 * How a summarised run keeps its series: one point per bucket of `stride`
 * steps from `origin`, the same buckets for every series of the run.
 */
export interface StepBuckets {
  stride: number;
  origin: number;
}

export interface HistogramSeries {
  tag: string;
  param?: string;
  steps: number[];
  histograms: Histogram[];
}

/** One training process's history, whatever wrote it. */
export interface Run {
  /** A short name for people: the run folder or file, plus the rank when a log holds several. */
  id: string;
  /** The file or folder the run was read from. */
  path: string;
  files: string[];
  format: LogFormat;
  /** The rank (or other stream) inside a file that holds several; absent otherwise. */
  stream?: string;
  series: Series[];
  histograms: HistogramSeries[];
  events: RunEvent[];
  warnings: ReadWarning[];
  /** Training settings the log or its run folder states (clipping, precision, warm-up). */
  settings?: RunSettings;
  /** Present when the run is too long to keep every point: its series are summarised by these buckets. */
  buckets?: StepBuckets;
  /** The tool that wrote the log, when its reader knew it from how the lines look (see `LogSink.writtenBy`). */
  writtenBy?: Writer;
}

/** The first series with a role, or undefined. */
export function seriesWithRole(run: Run, role: Role): Series | undefined {
  return run.series.find((s) => s.role === role);
}

/** The files of a run that could not be read (a run with any is incomplete). */
export function unreadableFiles(run: Run): string[] {
  return [...new Set(run.warnings.filter((w) => w.unreadable).map((w) => w.file))];
}

export function seriesOfRole(run: Run, role: Role): Series[] {
  return run.series.filter((s) => s.role === role);
}

/**
 * What a whole series held, tallied as its points arrive: exact even once the
 * series is summarised (see `SeriesBuffer`), where the points kept are one per
 * bucket of steps. Finite values only in min and max; NaN where there is none.
 */
export interface SeriesTally {
  /** Points logged. */
  count: number;
  nan: number;
  inf: number;
  firstStep: number;
  first: number;
  lastStep: number;
  last: number;
  min: number;
  max: number;
  /** The first step at which `max` was logged. */
  maxStep: number;
  /** The first non-finite value and its step; NaN steps when there is none. */
  firstNonFiniteStep: number;
  firstNonFinite: number;
}

function emptyTally(): SeriesTally {
  return { count: 0, nan: 0, inf: 0, firstStep: NaN, first: NaN, lastStep: NaN, last: NaN, min: NaN, max: NaN, maxStep: NaN, firstNonFiniteStep: NaN, firstNonFinite: NaN };
}

// Called for every point read: plain assignments, no temporary arrays.
function addToTally(tally: SeriesTally, step: number, value: number): void {
  if (tally.count++ === 0) {
    tally.firstStep = step;
    tally.first = value;
  }
  tally.lastStep = step;
  tally.last = value;
  if (value - value === 0) {
    if (!(value >= tally.min)) tally.min = value;
    if (!(value <= tally.max)) {
      tally.max = value;
      tally.maxStep = step;
    }
    return;
  }
  if (value !== value) tally.nan++;
  else tally.inf++;
  if (tally.firstNonFiniteStep !== tally.firstNonFiniteStep) {
    tally.firstNonFiniteStep = step;
    tally.firstNonFinite = value;
  }
}

/** The tally of a series: kept by the reader for a summarised one, counted from its points otherwise. */
export function tallyOf(series: Pick<Series, 'steps' | 'values' | 'tally'>): SeriesTally {
  if (series.tally) return series.tally;
  const tally = emptyTally();
  for (let i = 0; i < series.steps.length; i++) addToTally(tally, series.steps[i], series.values[i]);
  return tally;
}

/** How many points a series logged, and from which step to which: its tally's, without counting the rest. */
export function extentOf(series: Pick<Series, 'steps' | 'tally'>): { count: number; firstStep: number; lastStep: number } {
  const { steps, tally } = series;
  return tally ? { count: tally.count, firstStep: tally.firstStep, lastStep: tally.lastStep } : { count: steps.length, firstStep: steps[0], lastStep: steps[steps.length - 1] };
}

/**
 * The point a summarised series keeps of a bucket: the first non-finite one,
 * else the largest. Explosions, the first NaN and each parameter's peak stay
 * where they were; a vanished gradient is small at its largest too.
 */
function outranks(value: number, kept: number): boolean {
  if (!Number.isFinite(kept)) return false;
  return !Number.isFinite(value) || value > kept;
}

/** Changes to a builder's runs other than points added after the last ones, counted for `RunBuilder.edition`. */
interface Changes {
  drops: number;
}

/**
 * A growing column of (step, value) pairs. Appending a step at or before the
 * last one means training went back (a restart from a checkpoint): the later
 * data replaces what was there from that step on, as TensorBoard does.
 *
 * Until its stream's buckets are full (`Buckets.full`) it keeps every point.
 * Then the stream summarises: each series keeps one point per bucket of
 * `stride` steps (doubling as the run grows), so memory stays bounded
 * whatever the run's length, while the tally stays exact.
 */
class SeriesBuffer implements ScalarColumn {
  private steps = new Float64Array(64);
  private values = new Float64Array(64);
  length = 0;
  private tally = emptyTally();

  constructor(
    readonly tag: string,
    private readonly buckets: Buckets,
    private readonly changes: Changes,
  ) {}

  /** Points dropped by a restart, or merged by a wider stride, change the builder's edition: the runs did not only grow. */
  add(step: number, value: number): void {
    const buckets = this.buckets;
    buckets.start(step);
    const stride = buckets.stride;
    const dropped = this.length > 0 && step <= this.steps[this.length - 1] && this.truncateFrom(step);
    addToTally(this.tally, step, value);
    this.keep(step, value);
    if (dropped || buckets.stride !== stride) this.changes.drops++;
  }

  /** Stores a point: in its bucket's place in a summarised series, after the others otherwise. */
  private keep(step: number, value: number): void {
    const buckets = this.buckets;
    if (this.length > 0 && buckets.stride > 1 && buckets.of(step) === buckets.of(this.steps[this.length - 1])) {
      if (outranks(value, this.values[this.length - 1])) {
        this.steps[this.length - 1] = step;
        this.values[this.length - 1] = value;
      }
      return;
    }
    if (buckets.full(this.length)) {
      buckets.widen();
      this.keep(step, value);
      return;
    }
    if (this.length === this.steps.length) {
      const room = Math.max(this.length + 1, Math.min(this.length * 2, buckets.limits.perSeries));
      const steps = new Float64Array(room);
      steps.set(this.steps);
      this.steps = steps;
      const values = new Float64Array(room);
      values.set(this.values);
      this.values = values;
    }
    this.steps[this.length] = step;
    this.values[this.length] = value;
    this.length++;
    buckets.kept++;
  }

  /** Merges the points that now share a bucket, keeping the one that outranks the others. */
  summarise(): void {
    const buckets = this.buckets;
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      if (kept > 0 && buckets.of(this.steps[i]) === buckets.of(this.steps[kept - 1])) {
        if (outranks(this.values[i], this.values[kept - 1])) {
          this.steps[kept - 1] = this.steps[i];
          this.values[kept - 1] = this.values[i];
        }
        continue;
      }
      this.steps[kept] = this.steps[i];
      this.values[kept] = this.values[i];
      kept++;
    }
    buckets.kept -= this.length - kept;
    this.length = kept;
  }

  /** Drops the points from `step` on; returns whether there were any. */
  truncateFrom(step: number): boolean {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.steps[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    const droppedPoints = this.length - lo;
    this.length = lo;
    this.buckets.kept -= droppedPoints;
    if (droppedPoints > 0) this.retally(droppedPoints);
    return droppedPoints > 0;
  }

  /**
   * After a restart the tally is counted again from the points kept: exact
   * while every point is kept; in a summarised series each point dropped is
   * taken for a bucket's worth of steps, and the NaN count and minimum are of
   * the points kept.
   */
  private retally(droppedPoints: number): void {
    const count = this.tally.count;
    const buckets = this.buckets;
    this.tally = tallyOf({ steps: this.steps.subarray(0, this.length), values: this.values.subarray(0, this.length) });
    if (buckets.stride > 1) this.tally.count = Math.max(this.length, count - droppedPoints * buckets.stride);
  }

  view(): { steps: Float64Array; values: Float64Array; tally?: SeriesTally } {
    const points = { steps: this.steps.subarray(0, this.length), values: this.values.subarray(0, this.length) };
    return this.tally.count > this.length ? { ...points, tally: { ...this.tally } } : points;
  }
}

/** How many points a run keeps before it is summarised: per series, and for all its series together. */
export interface PointLimits {
  perSeries: number;
  perRun: number;
}

/** The fewest points a long series keeps however many series its run has. */
const MIN_POINTS = 1024;

/**
 * The step buckets a stream's series are summarised by: `stride` steps each,
 * counted from the stream's first step. One stride for every series of a
 * stream, so a parameter's point and the total norm's point of a bucket
 * describe the same steps.
 */
class Buckets {
  stride = 1;
  private origin: number | undefined;

  constructor(
    readonly limits: PointLimits,
    private readonly series: Map<string, SeriesBuffer>,
  ) {}

  /** Points kept by all the stream's series. */
  kept = 0;

  /**
   * Whether a series of `length` points must be summarised further before it
   * keeps another: it has its `perSeries`, or the run keeps `perRun` in all
   * (per-parameter norms of a large model) and it is one of the long ones:
   * a series under MIN_POINTS never starts a summary, so parameters logged
   * a few times each cost only their points.
   */
  full(length: number): boolean {
    return length >= this.limits.perSeries || (this.kept >= this.limits.perRun && length >= MIN_POINTS);
  }

  /** The stream's first step: buckets are counted from it. */
  start(step: number): void {
    this.origin ??= step;
  }

  of(step: number): number {
    return Math.floor((step - (this.origin ?? step)) / this.stride);
  }

  /** Where a summarised run's buckets are, for a reader of its series; undefined while every point is kept. */
  layout(): StepBuckets | undefined {
    return this.stride > 1 && this.origin !== undefined ? { stride: this.stride, origin: this.origin } : undefined;
  }

  /** Doubles the stride and merges every series' points by it. */
  widen(): void {
    this.stride *= 2;
    for (const buffer of this.series.values()) buffer.summarise();
  }
}

/** Buckets a histogram keeps: the dashboard draws 32 value bins, where torch's writer stores hundreds (TensorFlow's 1,549 edges, trimmed). */
export const HISTOGRAM_BUCKETS = 64;

/**
 * The histogram with neighbouring buckets merged until at most
 * HISTOGRAM_BUCKETS remain: those whose upper edges fall in the same of as
 * many equal stretches of [min, max]. A merged bucket is the union of those
 * it replaces, so every count stays over the values it counted; min, max,
 * count, sum and sumSquares are unchanged.
 */
export function coarsened(histogram: Histogram): Histogram {
  const { limits, counts, min, max } = histogram;
  const n = counts.length;
  if (n <= HISTOGRAM_BUCKETS || limits.length !== n) return histogram;
  const width = (max - min) / HISTOGRAM_BUCKETS;
  // Without a usable range (NaN, one value), by position.
  const stretchOf =
    width > 0 && Number.isFinite(width)
      ? (i: number) => Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, Math.floor((Math.min(limits[i], max) - min) / width)))
      : (i: number) => Math.floor((i * HISTOGRAM_BUCKETS) / n);
  const mergedLimits: number[] = [];
  const mergedCounts: number[] = [];
  let stretch = -Infinity;
  for (let i = 0; i < n; i++) {
    const at = stretchOf(i);
    // Stretches only go up, so at most HISTOGRAM_BUCKETS buckets come out whatever the edges hold (NaN merges).
    if (mergedCounts.length === 0 || at > stretch) {
      mergedLimits.push(limits[i]);
      mergedCounts.push(counts[i]);
      stretch = at;
    } else {
      mergedLimits[mergedLimits.length - 1] = limits[i];
      mergedCounts[mergedCounts.length - 1] += counts[i];
    }
  }
  return { ...histogram, limits: mergedLimits, counts: mergedCounts };
}

/** Histograms a stream keeps in all, and how many it keeps now. */
interface HistogramBudget {
  readonly max: number;
  kept: number;
}

/**
 * A tag's histograms. Past `MAX`, or past `MIN` once the run keeps its
 * budget, it keeps one in every `every` that arrive (doubling), as
 * TensorBoard keeps a sample of a long run's histograms; each is kept
 * coarsened to HISTOGRAM_BUCKETS buckets.
 */
class HistogramBuffer {
  static readonly MAX = 1024;
  /** What a tag can be thinned to when a model logs many: between half this and this. */
  static readonly MIN = 64;
  steps: number[] = [];
  histograms: Histogram[] = [];
  /** Each kept histogram's place among those that arrived. */
  private arrivals: number[] = [];
  private arrived = 0;
  private every = 1;
  constructor(readonly tag: string) {}

  /** Returns whether histograms were dropped (a restart, or a sparser sample) rather than only added. */
  push(step: number, histogram: Histogram, budget: HistogramBudget): boolean {
    let dropped = this.truncateFrom(step, budget);
    const arrival = this.arrived++;
    if (arrival % this.every !== 0) return dropped;
    if (this.steps.length >= HistogramBuffer.MAX || (budget.kept >= budget.max && this.steps.length >= HistogramBuffer.MIN)) {
      this.every *= 2;
      const keep = this.arrivals.flatMap((at, i) => (at % this.every === 0 ? [i] : []));
      budget.kept -= this.steps.length - keep.length;
      [this.steps, this.histograms, this.arrivals] = [keep.map((i) => this.steps[i]), keep.map((i) => this.histograms[i]), keep.map((i) => this.arrivals[i])];
      dropped = true;
      if (arrival % this.every !== 0) return dropped;
    }
    this.steps.push(step);
    this.histograms.push(coarsened(histogram));
    this.arrivals.push(arrival);
    budget.kept++;
    return dropped;
  }

  truncateFrom(step: number, budget: HistogramBudget): boolean {
    let keep = this.steps.length;
    while (keep > 0 && this.steps[keep - 1] >= step) keep--;
    const dropped = keep < this.steps.length;
    budget.kept -= this.steps.length - keep;
    this.steps.length = keep;
    this.histograms.length = keep;
    this.arrivals.length = keep;
    return dropped;
  }
}

class StreamData {
  readonly series = new Map<string, SeriesBuffer>();
  readonly buckets: Buckets;
  readonly histograms = new Map<string, HistogramBuffer>();
  /** A model of hundreds of parameters logs hundreds of tags: 16,384 histograms of 64 buckets are about 20 MB. */
  readonly histogramBudget: HistogramBudget = { max: 2 ** 14, kept: 0 };
  readonly events: RunEvent[] = [];
  writtenBy?: Writer;
  constructor(limits: PointLimits) {
    this.buckets = new Buckets(limits, this.series);
  }
}

export interface RunSource {
  /** The run's name before any rank suffix. */
  id: string;
  path: string;
  files: string[];
  format: LogFormat;
}

/**
 * Collects what readers emit into runs. Memory grows with the values kept
 * (16 bytes a point), not with the size of the file read.
 */
let builders = 0;

export class RunBuilder implements LogSink {
  /**
   * Changes with any data other than data added after what was there: a new
   * builder, or a restart that dropped points. While it stays the same, the
   * runs only grew, so a reader of them may take the new points alone.
   */
  private readonly generation = ++builders;
  private readonly changes: Changes = { drops: 0 };
  private readonly streams = new Map<string, StreamData>();
  private readonly warnings: ReadWarning[] = [];
  /** Warnings beyond this many are counted, not kept: a binary file fed as text would otherwise keep millions. */
  static readonly MAX_WARNINGS = 200;
  private droppedWarnings = 0;
  /** Summaries left out, by tag; a few name what a file holds that has nothing GradLens reads. */
  private readonly leftOutTags = new Map<string, string>();
  private static readonly LEFT_OUT_NAMED = 5;

  constructor(
    readonly source: RunSource,
    private readonly roles: TagRoles = new TagRoles(),
    /** Points kept before a run is summarised (see `SeriesBuffer`); Infinity for both keeps every point. */
    private readonly limits: PointLimits = RunBuilder.POINT_LIMITS,
  ) {}

  /**
   * A run logged at every step is kept whole for 131,072 steps (2 MB a
   * series), and a longer one takes no more memory than that; a run of many
   * series (per-parameter norms of a large model) keeps 2^22 points in all
   * (64 MB), so fewer a series.
   */
  static readonly POINT_LIMITS: PointLimits = { perSeries: 2 ** 17, perRun: 2 ** 22 };

  private stream(name = ''): StreamData {
    let data = this.streams.get(name);
    if (!data) {
      data = new StreamData(this.limits);
      this.streams.set(name, data);
    }
    return data;
  }

  scalar(tag: string, step: number, value: number, stream?: string): void {
    this.column(tag, stream).add(step, value);
  }

  column(tag: string, stream?: string): ScalarColumn {
    const { series, buckets } = this.stream(stream);
    let buffer = series.get(tag);
    if (!buffer) {
      buffer = new SeriesBuffer(tag, buckets, this.changes);
      series.set(tag, buffer);
    }
    return buffer;
  }

  histogram(tag: string, step: number, histogram: Histogram, stream?: string): void {
    const data = this.stream(stream);
    let buffer = data.histograms.get(tag);
    if (!buffer) {
      buffer = new HistogramBuffer(tag);
      data.histograms.set(tag, buffer);
    }
    if (buffer.push(step, histogram, data.histogramBudget)) this.changes.drops++;
  }

  purge(step: number, stream?: string): void {
    const data = this.stream(stream);
    let dropped = false;
    for (const buffer of data.series.values()) dropped = buffer.truncateFrom(step) || dropped;
    for (const buffer of data.histograms.values()) dropped = buffer.truncateFrom(step, data.histogramBudget) || dropped;
    let keep = data.events.length;
    while (keep > 0 && data.events[keep - 1].step >= step) keep--;
    dropped ||= keep < data.events.length;
    data.events.length = keep;
    if (dropped) this.changes.drops++;
  }

  /** See `generation`: equal editions mean the runs only grew in between. */
  edition(): string {
    return `${this.generation}.${this.changes.drops}`;
  }

  event(event: RunEvent, stream?: string): void {
    this.stream(stream).events.push(event);
  }

  writtenBy(writer: Writer, stream?: string): void {
    this.stream(stream).writtenBy = writer;
  }

  warning(warning: ReadWarning): void {
    // A file that could not be read is always kept: it decides whether the run is complete.
    if (this.warnings.length < RunBuilder.MAX_WARNINGS || warning.unreadable) this.warnings.push(warning);
    else this.droppedWarnings++;
  }

  leftOut(tag: string, kind: string): void {
    if (this.leftOutTags.size <= RunBuilder.LEFT_OUT_NAMED) this.leftOutTags.set(tag, kind);
  }

  /** Said only while the run has nothing else, since a live file may hold its text summaries before its first scalar. */
  private leftOutWarning(): ReadWarning {
    const named = [...this.leftOutTags].slice(0, RunBuilder.LEFT_OUT_NAMED).map(([tag, kind]) => `${tag} (${kind})`);
    const more = this.leftOutTags.size > RunBuilder.LEFT_OUT_NAMED ? ' and more' : '';
    return { file: this.source.files[0] ?? this.source.path, message: `no scalars or histograms, only summaries GradLens does not chart: ${named.join(', ')}${more}` };
  }

  /**
   * The runs read so far. Series are views on the builder's buffers: read
   * them before feeding more data.
   */
  runs(): Run[] {
    const warnings =
      this.droppedWarnings > 0
        ? [...this.warnings, { file: this.source.files[0] ?? this.source.path, message: `${this.droppedWarnings} more problems like these were not listed` }]
        : this.warnings;
    const named = [...this.streams].filter(([, data]) => data.series.size > 0 || data.histograms.size > 0);
    if (named.length === 0) return [{ ...this.source, series: [], histograms: [], events: [], warnings: this.leftOutTags.size > 0 ? [...warnings, this.leftOutWarning()] : warnings }];
    return named.map(([stream, data]) => {
      const series = [...data.series.values()].map((buffer): Series => {
        const meaning = this.roles.meaning(buffer.tag);
        return { tag: buffer.tag, ...meaning, ...buffer.view() };
      });
      const unused = data.histograms.size === 0 ? unrecognisedWarning(this.source.files[0] ?? this.source.path, series) : undefined;
      const buckets = data.buckets.layout();
      return {
        ...this.source,
        id: stream ? `${this.source.id} [${stream}]` : this.source.id,
        ...(stream ? { stream } : {}),
        series,
        histograms: [...data.histograms.values()].map((buffer) => {
          const param = histogramParam(buffer.tag);
          return { tag: buffer.tag, ...(param !== undefined ? { param } : {}), steps: buffer.steps, histograms: buffer.histograms };
        }),
        events: data.events,
        warnings: unused ? [...warnings, unused] : warnings,
        ...(buckets ? { buckets } : {}),
        ...(data.writtenBy ? { writtenBy: data.writtenBy } : {}),
      };
    });
  }
}

/** The roles that give a run its training steps: without one of them there is nothing to diagnose. */
const TRAINING_ROLES: ReadonlySet<Role | undefined> = new Set<Role | undefined>(['loss', 'gradNorm', 'paramGradNorm', 'skipped', 'skippedTotal']);
const TAGS_NAMED = 8;

/**
 * Numbers were read, but none is a training loss or a gradient norm by the
 * tag table: say which series there are and how to name them, rather than
 * reporting an empty run.
 */
function unrecognisedWarning(file: string, series: readonly Series[]): ReadWarning | undefined {
  if (series.length === 0 || series.some((s) => TRAINING_ROLES.has(s.role))) return undefined;
  const tags = series.map((s) => JSON.stringify(s.tag));
  const listed = tags.slice(0, TAGS_NAMED).join(', ') + (tags.length > TAGS_NAMED ? ` and ${tags.length - TAGS_NAMED} more` : '');
  const example = series.find((s) => /loss/i.test(s.tag))?.tag ?? series[0].tag;
  return {
    file,
    message:
      `${series.length} numeric series found, none recognised as a training loss or a gradient norm: ${listed}. ` +
      'GradLens looks for tags such as loss, train/loss, grad_norm and grad_norm/<param> (README: Tags and roles). ' +
      `To use them, give their roles: --tag-role "${example.replace(/[,=]/g, '*')}=loss" (gradNorm, paramGradNorm with {name}) on the CLI, or the gradlens.tagRoles setting in VS Code.`,
  };
}

/** `grads/rnn.weight_hh_l0` or `rnn.weight_hh_l0/grad` → `rnn.weight_hh_l0`. */
function histogramParam(tag: string): string | undefined {
  const match = /^(?:grads?|gradients?)\/(.+)$/i.exec(tag) ?? /^(.+?)[/.](?:grads?|gradients?)$/i.exec(tag);
  return match?.[1];
}
