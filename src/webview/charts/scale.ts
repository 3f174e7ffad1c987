/**
 * Scales and number formatting for the charts.
 *
 *   const y = logScale([1e-3, 1e4], [height, 0]);   // or linearScale(...)
 *   y.map(0.5)          → pixel
 *   y.invert(120)       → value
 *   y.ticks(5)          → tick values inside the domain (decades, or 1-2-5 steps)
 *   formatNumber(2.57e10) → "2.57e10";  formatStep(1_500_000) → "1.5M"
 *   niceExtent(values, 'log') → a domain that holds [min, max] with a little room
 *
 * A log scale maps non-positive values to the bottom of its domain: a norm of
 * exactly 0 stays visible instead of vanishing.
 */

export type ScaleKind = 'linear' | 'log';

export interface Scale {
  readonly kind: ScaleKind;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  map(value: number): number;
  invert(pixel: number): number;
  ticks(count: number): number[];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return {
    kind: 'linear',
    domain,
    range,
    map: (v) => r0 + (v - d0) * k,
    invert: (p) => (k === 0 ? d0 : d0 + (p - r0) / k),
    ticks: (count) => linearTicks(d0, d1, count),
  };
}

export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const lo = Math.log10(domain[0]);
  const hi = Math.log10(domain[1]);
  const inner = linearScale([lo, hi], range);
  return {
    kind: 'log',
    domain,
    range,
    map: (v) => inner.map(v > 0 ? Math.log10(v) : lo),
    invert: (p) => 10 ** inner.invert(p),
    ticks: (count) => logTicks(lo, hi, count),
  };
}

export function makeScale(kind: ScaleKind, domain: readonly [number, number], range: readonly [number, number]): Scale {
  return kind === 'log' ? logScale(domain, range) : linearScale(domain, range);
}

/** Round steps of 1, 2 or 5 × 10^k, about `count` of them, inside [a, b]. */
export function linearTicks(a: number, b: number, count: number): number[] {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(roundToStep(i * step, step));
  return ticks;
}

/** Removes floating-point dust (0.30000000000000004 → 0.3). */
function roundToStep(value: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(20, digits)));
}

/** Decades (every k-th when there are many), with 2 and 5 added when the domain spans little more than one. */
function logTicks(lo: number, hi: number, count: number): number[] {
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  const decades = last - first + 1;
  if (decades < 2) {
    const ticks: number[] = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        const l = Math.log10(v);
        if (l >= lo - 1e-9 && l <= hi + 1e-9) ticks.push(v);
      }
    }
    return ticks.length >= 2 ? ticks : linearTicks(10 ** lo, 10 ** hi, count);
  }
  const every = Math.max(1, Math.ceil(decades / Math.max(1, count)));
  const ticks: number[] = [];
  for (let e = first; e <= last; e++) if ((e - first) % every === 0) ticks.push(10 ** e);
  return ticks;
}

/**
 * A domain holding [min, max] with about 5 % room; a log domain holds the
 * positive values only and spans at least one decade. Undefined when there is
 * nothing to hold.
 */
export function niceExtent(min: number, max: number, kind: ScaleKind): [number, number] | undefined {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) return undefined;
  if (kind === 'log') {
    if (max <= 0) return undefined;
    let lo = Math.log10(Math.max(min, Number.MIN_VALUE));
    let hi = Math.log10(max);
    if (hi - lo < 1) {
      const mid = (hi + lo) / 2;
      lo = mid - 0.5;
      hi = mid + 0.5;
    }
    const pad = (hi - lo) * 0.05;
    return [10 ** (lo - pad), 10 ** (hi + pad)];
  }
  if (min === max) {
    const half = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - half, max + half];
  }
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** The numbers the charts show read as GradLens's messages write them. */
export { formatNumber } from '../../diagnosis/stats';

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A training step for an axis: 950, 12k, 1.5M. */
export function formatStep(step: number): string {
  const abs = Math.abs(step);
  if (abs >= 1e6) return `${trimZeros((step / 1e6).toFixed(abs >= 1e7 ? 0 : 2))}M`;
  if (abs >= 1e4) return `${trimZeros((step / 1e3).toFixed(abs >= 1e5 ? 0 : 1))}k`;
  return Number.isInteger(step) ? String(step) : trimZeros(step.toFixed(1));
}

/** A share in [0, 1] as a percentage. */
export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
