/**
 * Reading a long value array a pixel column at a time, at any zoom, in time
 * proportional to the pixels rather than the points.
 *
 *   forEachChunk(values, start, end, width, (first, last, min, max, minPositive, nonFinite) => …);
 *
 * visits the points [start, end) in order as chunks of consecutive indices
 * [first, last]: single points when there are few per pixel, otherwise
 * buckets of a power-of-two size read from a min/max summary of the array
 * (smallest and largest finite value, smallest positive one, whether a NaN
 * or infinity is inside). A chunk with no finite value has min > max. The
 * summary is built on first use and kept per buffer (charts/grown.ts), so zooming
 * and panning a million points reads a few thousand buckets, and a series
 * that grows adds only its new buckets.
 */

import { GrownFold } from './grown';

interface Level {
  size: number;
  /** Buckets filled; the arrays have room for more, for a series that grows. */
  count: number;
  min: Float64Array;
  max: Float64Array;
  minPositive: Float64Array;
  nonFinite: Uint8Array;
}

export type ChunkVisitor = (first: number, last: number, min: number, max: number, minPositive: number, nonFinite: boolean) => void;

/** The smallest bucket kept: below it, reading the points themselves costs as little. */
const BASE_SIZE = 16;
/** Chunks per pixel column aimed at: enough that a column's min and max are exact to a bucket. */
const CHUNKS_PER_PIXEL = 2;

function emptyLevel(size: number, capacity: number): Level {
  return { size, count: 0, min: new Float64Array(capacity), max: new Float64Array(capacity), minPositive: new Float64Array(capacity), nonFinite: new Uint8Array(capacity) };
}

/** Room for `count` buckets, twice that when it has to grow. */
function reserve(level: Level, count: number): void {
  if (count <= level.min.length) return;
  const bigger = emptyLevel(level.size, 2 * count);
  bigger.min.set(level.min.subarray(0, level.count));
  bigger.max.set(level.max.subarray(0, level.count));
  bigger.minPositive.set(level.minPositive.subarray(0, level.count));
  bigger.nonFinite.set(level.nonFinite.subarray(0, level.count));
  Object.assign(level, { min: bigger.min, max: bigger.max, minPositive: bigger.minPositive, nonFinite: bigger.nonFinite });
}

/** Fills the base buckets from the points, then each level from the one below, from where each had got to. */
function extendLevels(levels: Level[], values: Float64Array): void {
  let count = Math.floor(values.length / BASE_SIZE);
  if (count === 0) return;
  if (levels.length === 0) levels.push(emptyLevel(BASE_SIZE, count));
  const base = levels[0];
  reserve(base, count);
  for (let b = base.count; b < count; b++) {
    let min = Infinity;
    let max = -Infinity;
    let minPositive = Infinity;
    let nonFinite = 0;
    for (let i = b * BASE_SIZE, end = i + BASE_SIZE; i < end; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        nonFinite = 1;
        continue;
      }
      if (v < min) min = v;
      if (v > max) max = v;
      if (v > 0 && v < minPositive) minPositive = v;
    }
    base.min[b] = min;
    base.max[b] = max;
    base.minPositive[b] = minPositive;
    base.nonFinite[b] = nonFinite;
  }
  base.count = count;
  for (let k = 1, below = base; (count = Math.floor(count / 2)) > 0; k++) {
    if (levels.length === k) levels.push(emptyLevel(below.size * 2, count));
    const level = levels[k];
    reserve(level, count);
    for (let b = level.count; b < count; b++) {
      const l = 2 * b;
      const r = l + 1;
      level.min[b] = Math.min(below.min[l], below.min[r]);
      level.max[b] = Math.max(below.max[l], below.max[r]);
      level.minPositive[b] = Math.min(below.minPositive[l], below.minPositive[r]);
      level.nonFinite[b] = below.nonFinite[l] | below.nonFinite[r];
    }
    level.count = count;
    below = level;
  }
}

/**
 * Kept per buffer, not per array: a live series grows as longer views on
 * the same buffer, so its summary extends by the new buckets alone.
 */
const summaries = new GrownFold<Level[]>(() => [], (levels, values) => extendLevels(levels, values));

function visitPoints(values: Float64Array, from: number, to: number, visit: ChunkVisitor): void {
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) visit(i, i, Infinity, -Infinity, Infinity, true);
    else visit(i, i, v, v, v > 0 ? v : Infinity, false);
  }
}

export function forEachChunk(values: Float64Array, start: number, end: number, width: number, visit: ChunkVisitor): void {
  const wanted = (end - start) / (Math.max(1, width) * CHUNKS_PER_PIXEL);
  if (wanted < BASE_SIZE) {
    visitPoints(values, start, end, visit);
    return;
  }
  const levels = summaries.of(values, undefined);
  let level: Level | undefined;
  for (const l of levels) if (l.size <= wanted) level = l;
  if (!level) {
    visitPoints(values, start, end, visit);
    return;
  }
  const size = level.size;
  // Points before the first whole bucket and after the last are read one by one.
  const firstBucket = Math.ceil(start / size);
  const endBucket = Math.min(level.count, Math.floor(end / size));
  if (endBucket <= firstBucket) {
    visitPoints(values, start, end, visit);
    return;
  }
  visitPoints(values, start, firstBucket * size, visit);
  for (let b = firstBucket; b < endBucket; b++) {
    visit(b * size, b * size + size - 1, level.min[b], level.max[b], level.minPositive[b], level.nonFinite[b] === 1);
  }
  visitPoints(values, endBucket * size, end, visit);
}
