import { extentOf, seriesOfRole, seriesWithRole, type Run, type Series, type StepBuckets } from '../logs/run';

/**
 * What two series' points are matched by: the step, or in a summarised run
 * (see `StepBuckets`) the bucket, since each series keeps its own point of a
 * bucket.
 */
export function stepKey(buckets: StepBuckets | undefined): (step: number) => number {
  if (!buckets) return (step) => step;
  const { stride, origin } = buckets;
  return (step) => Math.floor((step - origin) / stride);
}

/** Index of a step (of its bucket, with `buckets`) in ascending steps, or -1 when it is not there. */
export function indexOfStep(steps: ArrayLike<number>, step: number, buckets?: StepBuckets): number {
  const key = stepKey(buckets);
  const wanted = key(step);
  let lo = 0;
  let hi = steps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = key(steps[mid]);
    if (at === wanted) return mid;
    if (at < wanted) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Value of a series at a step (in its bucket, with `buckets`), or undefined when that step was not logged. */
export function valueAt(series: Pick<Series, 'steps' | 'values'>, step: number, buckets?: StepBuckets): number | undefined {
  const index = indexOfStep(series.steps, step, buckets);
  return index < 0 ? undefined : series.values[index];
}

/**
 * The training loss: of the series the table calls a loss, the one logged
 * most often. nanoGPT prints an estimated `train loss` every few hundred
 * iterations and the step's `loss` at every one; the latter is the curve.
 */
function trainingLoss(run: Run): Series | undefined {
  let best: Series | undefined;
  for (const series of seriesOfRole(run, 'loss')) if (!best || series.steps.length > best.steps.length) best = series;
  return best;
}

/**
 * One parameter's norms at the steps of a RunView's `norms` where it was
 * logged, in step order: `values[j]` is at norms index `at[j]`, or at `j`
 * when `at` is absent (the parameter was logged at every step). Memory grows
 * with the points logged, never with parameters × steps: 20,000 parameters
 * logged once each over 20,000 steps would be 3.2 GB as dense arrays.
 */
export interface AlignedNorms {
  at?: Int32Array;
  values: Float64Array;
}

/** The norms index of an aligned norm's point `j`. */
export const alignedIndex = (norms: AlignedNorms, j: number): number => (norms.at ? norms.at[j] : j);

/** A parameter's norm at norms index `index`: undefined where it was not logged (NaN where it was logged as NaN). */
export function alignedAt(norms: AlignedNorms, index: number): number | undefined {
  const j = norms.at ? indexOfStep(norms.at, index) : index < norms.values.length ? index : -1;
  return j < 0 ? undefined : norms.values[j];
}

export interface ParameterSeries {
  name: string;
  series: Series;
}

const RECURRENT = /(weight_hh|bias_hh|(^|[._])(rnn|lstm|gru)([._\d]|$))/i;

/**
 * A run seen the way the detectors need it: one total-norm series (logged,
 * or rebuilt from the per-parameter norms), the loss, and the parameters.
 */
export class RunView {
  readonly norms: Pick<Series, 'steps' | 'values' | 'tally'>;
  readonly normSource: 'logged' | 'parameters' | 'none';
  readonly loss?: Series;
  readonly lr?: Series;
  readonly clipped?: Series;
  readonly maxNorm?: Series;
  readonly lossScale?: Series;
  readonly skipped?: Series;
  readonly skippedTotal?: Series;
  readonly parameters: ParameterSeries[];
  readonly recurrent: boolean;
  /** How points of different series are matched: by step, or by bucket in a summarised run. */
  readonly key: (step: number) => number;

  constructor(readonly run: Run) {
    this.key = stepKey(run.buckets);
    this.loss = trainingLoss(run);
    this.lr = seriesWithRole(run, 'lr');
    this.clipped = seriesWithRole(run, 'clipped');
    this.maxNorm = seriesWithRole(run, 'maxNorm');
    this.lossScale = seriesWithRole(run, 'lossScale');
    this.skipped = seriesWithRole(run, 'skipped');
    this.skippedTotal = seriesWithRole(run, 'skippedTotal');
    const seen = new Set<string>();
    this.parameters = [];
    for (const series of seriesOfRole(run, 'paramGradNorm')) {
      const name = series.param ?? series.tag;
      if (seen.has(name)) continue;
      seen.add(name);
      this.parameters.push({ name, series });
    }
    this.recurrent = this.parameters.some((p) => RECURRENT.test(p.name));
    const logged = seriesWithRole(run, 'gradNorm');
    if (logged && logged.steps.length > 0) {
      this.norms = logged;
      this.normSource = 'logged';
    } else if (this.parameters.length > 0) {
      this.norms = this.totalFromParameters();
      this.normSource = 'parameters';
    } else {
      this.norms = { steps: new Float64Array(0), values: new Float64Array(0) };
      this.normSource = 'none';
    }
  }

  /** ‖g‖ = sqrt(Σ‖g_p‖²) at every step where each parameter was logged. */
  private totalFromParameters(): { steps: Float64Array; values: Float64Array } {
    const first = this.parameters[0].series;
    const steps: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < first.steps.length; i++) {
      const step = first.steps[i];
      let sum = 0;
      let complete = true;
      for (const { series } of this.parameters) {
        const value = series === first ? first.values[i] : valueAt(series, step, this.run.buckets);
        if (value === undefined) {
          complete = false;
          break;
        }
        sum += value * value;
      }
      if (complete) {
        steps.push(step);
        values.push(Math.sqrt(sum));
      }
    }
    return { steps: Float64Array.from(steps), values: Float64Array.from(values) };
  }

  private alignedNorms?: AlignedNorms[];

  /**
   * Each parameter's norms at the steps of `norms` where it was logged, by
   * one merge walk per parameter, so detectors index instead of searching.
   */
  aligned(): AlignedNorms[] {
    if (!this.alignedNorms) {
      const steps = this.norms.steps;
      const key = this.key;
      this.alignedNorms = this.parameters.map(({ series }): AlignedNorms => {
        const room = Math.min(steps.length, series.steps.length);
        const at = new Int32Array(room);
        const values = new Float64Array(room);
        let count = 0;
        let j = 0;
        for (let i = 0; i < steps.length && j < series.steps.length; i++) {
          const wanted = key(steps[i]);
          while (j < series.steps.length && key(series.steps[j]) < wanted) j++;
          if (j < series.steps.length && key(series.steps[j]) === wanted) {
            at[count] = i;
            values[count++] = series.values[j];
          }
        }
        return count === steps.length ? { values } : { at: at.slice(0, count), values: values.slice(0, count) };
      });
    }
    return this.alignedNorms;
  }

  /**
   * How many training steps the log covers: from its first logged step to
   * its last when steps are counted in whole numbers (a log that prints every
   * tenth step still covers the nine between), else the steps it has.
   */
  stepsCovered(): number {
    let first = Infinity;
    let last = -Infinity;
    let most = 0;
    let whole = true;
    for (const series of this.run.series) {
      if (series.steps.length === 0) continue;
      const { count, firstStep, lastStep } = extentOf(series);
      first = Math.min(first, firstStep);
      last = Math.max(last, lastStep);
      most = Math.max(most, count);
      whole &&= Number.isInteger(firstStep) && Number.isInteger(lastStep);
    }
    return most === 0 ? 0 : whole ? Math.max(most, last - first + 1) : most;
  }

  /**
   * How many steps the total norm covers, and from which to which. A total
   * rebuilt from a summarised run's parameters has a point per bucket: its
   * steps are then the first parameter's.
   */
  normsExtent(): { count: number; firstStep: number; lastStep: number } {
    return extentOf(this.normSource === 'parameters' && this.run.buckets ? this.parameters[0].series : this.norms);
  }

  /**
   * A count of the norms' points in words: "3 exploding steps", or in a
   * summarised run "3 exploding points kept (one per 128 steps)", since there
   * a point stands for its bucket's steps.
   */
  stepsText(count: number, kind = ''): string {
    const what = kind ? `${kind} ` : '';
    const { buckets } = this.run;
    return buckets ? `${count} ${what}point${count === 1 ? '' : 's'} kept (one per ${buckets.stride} steps)` : `${count} ${what}step${count === 1 ? '' : 's'}`;
  }

  /** Clip threshold in force, when the log says (a max_norm series or its first value). */
  clipThreshold(): number | undefined {
    if (!this.maxNorm || this.maxNorm.values.length === 0) return undefined;
    const value = this.maxNorm.values[0];
    return Number.isFinite(value) && value > 0 ? value : undefined;
  }

  isRecurrentParameter(name: string): boolean {
    return RECURRENT.test(name);
  }
}
