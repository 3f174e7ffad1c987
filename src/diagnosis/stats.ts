/** Order statistics on finite values; NaN and ±Infinity are left out, callers count them separately. */

export function finiteValues(values: ArrayLike<number>): number[] {
  const result: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) result.push(values[i]);
  return result;
}

/** Linear-interpolated quantile (numpy's default) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** A copy of the finite values, in their order. */
function finiteCopy(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) count++;
  const out = new Float64Array(count);
  for (let i = 0, j = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[j++] = values[i];
  return out;
}

/**
 * Rearranges a so that a[k] is its k-th smallest value, with nothing larger
 * before it and nothing smaller after it (Hoare's selection, median of three):
 * linear time, where a sort of a million-step run costs a hundred milliseconds.
 */
function select(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const pivot = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

export function quantile(values: ArrayLike<number>, q: number): number | null {
  const a = finiteCopy(values);
  if (a.length === 0) return null;
  const position = (a.length - 1) * q;
  const lower = Math.floor(position);
  select(a, lower);
  if (position === lower) return a[lower];
  let next = Infinity;
  for (let i = lower + 1; i < a.length; i++) if (a[i] < next) next = a[i];
  return a[lower] + (next - a[lower]) * (position - lower);
}

export function median(values: ArrayLike<number>): number | null {
  return quantile(values, 0.5);
}

export function mean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Numbers for people (messages, hovers, reports, chart axes): 3 significant digits, thousands whole, exponent form from 1e5 and below 1e-3 (`1.5e-4`); NaN and infinities by name. */
export function formatNumber(value: number | null): string {
  if (value === null) return 'n/a';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Inf' : '-Inf';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) {
    const [mantissa, exponent] = value.toExponential(2).split('e');
    return `${Number(mantissa)}e${Number(exponent)}`;
  }
  // Thousands keep their integer digits: three significant digits would write 1953 as 1950.
  if (magnitude >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** Mean and standard deviation of the last `size` values pushed, in constant time per value (a ring buffer). */
export class RollingMoments {
  private readonly window: Float64Array;
  private next = 0;
  private filled = 0;
  private sum = 0;
  private squares = 0;

  constructor(size: number) {
    this.window = new Float64Array(size);
  }

  get count(): number {
    return this.filled;
  }

  mean(): number {
    return this.sum / this.filled;
  }

  /** Population standard deviation (numpy's default, as the policies it replays use). */
  sd(): number {
    const mean = this.mean();
    return Math.sqrt(Math.max(0, this.squares / this.filled - mean * mean));
  }

  push(value: number): void {
    if (this.filled === this.window.length) {
      const old = this.window[this.next];
      this.sum -= old;
      this.squares -= old * old;
    } else this.filled++;
    this.window[this.next] = value;
    this.next = (this.next + 1) % this.window.length;
    this.sum += value;
    this.squares += value * value;
  }
}
