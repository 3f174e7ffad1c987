/**
 * Work on a value array that a live run grows (dashboard/append.ts: longer
 * views on the same buffer, whose first values never change), done once per
 * value: the state is kept per buffer and takes only the values added since
 * the last call. A million-step run that gains 250 steps costs 250 steps.
 */
interface Folded<S> {
  byteOffset: number;
  /** Values taken so far. */
  length: number;
  /** What the state depends on besides the values (a histogram's bins): another key starts over. */
  key: string;
  state: S;
}

export class GrownFold<S, C = undefined> {
  private readonly states = new WeakMap<ArrayBufferLike, Folded<S>>();

  /**
   * @param start a fresh state for `key`
   * @param take adds the values at indices [from, to) of the array to the state (`context`: what else they are read with, as the step array of a series)
   */
  constructor(
    private readonly start: (key: string) => S,
    private readonly take: (state: S, values: Float64Array, from: number, to: number, context: C) => void,
  ) {}

  of(values: Float64Array, context: C, key = ''): S {
    let folded = this.states.get(values.buffer);
    if (!folded || folded.byteOffset !== values.byteOffset || folded.length > values.length || folded.key !== key) {
      folded = { byteOffset: values.byteOffset, length: 0, key, state: this.start(key) };
      this.states.set(values.buffer, folded);
    }
    if (folded.length < values.length) {
      this.take(folded.state, values, folded.length, values.length, context);
      folded.length = values.length;
    }
    return folded.state;
  }
}

/** The smallest and largest positive finite value of a series, and whether it has a finite value ≤ 0. */
export interface PositiveExtent {
  min: number;
  max: number;
  nonPositive: boolean;
}

export const positiveExtents = new GrownFold<PositiveExtent>(
  () => ({ min: Infinity, max: -Infinity, nonPositive: false }),
  (extent, values, from, to) => {
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v <= 0) extent.nonPositive = true;
      else {
        if (v < extent.min) extent.min = v;
        if (v > extent.max) extent.max = v;
      }
    }
  },
);
