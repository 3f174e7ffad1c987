import type { Histogram, LogSink, ReadWarning, RunEvent } from './sink';
import { TagRoles, type Role } from './roles';
import type { RunSettings } from './settings';

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
 * A growing column of (step, value) pairs. Appending a step at or before the
 * last one means training went back (a restart from a checkpoint): the later
 * data replaces what was there from that step on, as TensorBoard does.
 */
class SeriesBuffer {
  private steps = new Float64Array(64);
  private values = new Float64Array(64);
  length = 0;

  constructor(readonly tag: string) {}

  /** Returns whether points were dropped (a restart) rather than only added. */
  push(step: number, value: number): boolean {
    const dropped = this.length > 0 && step <= this.steps[this.length - 1] && this.truncateFrom(step);
    if (this.length === this.steps.length) {
      const steps = new Float64Array(this.length * 2);
      steps.set(this.steps);
      this.steps = steps;
      const values = new Float64Array(this.length * 2);
      values.set(this.values);
      this.values = values;
    }
    this.steps[this.length] = step;
    this.values[this.length] = value;
    this.length++;
    return dropped;
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
    const dropped = lo < this.length;
    this.length = lo;
    return dropped;
  }

  view(): { steps: Float64Array; values: Float64Array } {
    return { steps: this.steps.subarray(0, this.length), values: this.values.subarray(0, this.length) };
  }
}

class HistogramBuffer {
  steps: number[] = [];
  histograms: Histogram[] = [];
  constructor(readonly tag: string) {}

  /** Returns whether histograms were dropped (a restart) rather than only added. */
  push(step: number, histogram: Histogram): boolean {
    const dropped = this.truncateFrom(step);
    this.steps.push(step);
    this.histograms.push(histogram);
    return dropped;
  }

  truncateFrom(step: number): boolean {
    let keep = this.steps.length;
    while (keep > 0 && this.steps[keep - 1] >= step) keep--;
    const dropped = keep < this.steps.length;
    this.steps.length = keep;
    this.histograms.length = keep;
    return dropped;
  }
}

class StreamData {
  readonly series = new Map<string, SeriesBuffer>();
  readonly histograms = new Map<string, HistogramBuffer>();
  readonly events: RunEvent[] = [];
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
  private drops = 0;
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
  ) {}

  private stream(name = ''): StreamData {
    let data = this.streams.get(name);
    if (!data) {
      data = new StreamData();
      this.streams.set(name, data);
    }
    return data;
  }

  scalar(tag: string, step: number, value: number, stream?: string): void {
    const series = this.stream(stream).series;
    let buffer = series.get(tag);
    if (!buffer) {
      buffer = new SeriesBuffer(tag);
      series.set(tag, buffer);
    }
    if (buffer.push(step, value)) this.drops++;
  }

  histogram(tag: string, step: number, histogram: Histogram, stream?: string): void {
    const histograms = this.stream(stream).histograms;
    let buffer = histograms.get(tag);
    if (!buffer) {
      buffer = new HistogramBuffer(tag);
      histograms.set(tag, buffer);
    }
    if (buffer.push(step, histogram)) this.drops++;
  }

  purge(step: number, stream?: string): void {
    const data = this.stream(stream);
    let dropped = false;
    for (const buffer of data.series.values()) dropped = buffer.truncateFrom(step) || dropped;
    for (const buffer of data.histograms.values()) dropped = buffer.truncateFrom(step) || dropped;
    let keep = data.events.length;
    while (keep > 0 && data.events[keep - 1].step >= step) keep--;
    dropped ||= keep < data.events.length;
    data.events.length = keep;
    if (dropped) this.drops++;
  }

  /** See `generation`: equal editions mean the runs only grew in between. */
  edition(): string {
    return `${this.generation}.${this.drops}`;
  }

  event(event: RunEvent, stream?: string): void {
    this.stream(stream).events.push(event);
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
