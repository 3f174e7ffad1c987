/**
 * The one order of the webview's sortable tables. Ascending: numbers by
 * value (NaN above +Infinity, the worst a gradient can be), then words in
 * natural order (`lr-2` before `lr-10`); descending is its reverse. Blanks
 * go last whichever the direction. Array.prototype.sort is stable, so ties
 * keep their order.
 */
export type SortValue = number | string | null | undefined;

const collator = new Intl.Collator('en', { numeric: true });

const rank = (v: number): number => (Number.isNaN(v) ? Infinity : v);

export function compareSortValues(a: SortValue, b: SortValue, descending: boolean): number {
  const blankA = a === null || a === undefined;
  const blankB = b === null || b === undefined;
  if (blankA || blankB) return blankA === blankB ? 0 : blankA ? 1 : -1;
  const sign = descending ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') {
    const x = rank(a);
    const y = rank(b);
    // Two infinities (or NaN against +Infinity) tie: x - y would be NaN.
    if (x === y) return Number.isNaN(a) === Number.isNaN(b) ? 0 : sign * (Number.isNaN(a) ? 1 : -1);
    return sign * (x < y ? -1 : 1);
  }
  if (typeof a === 'number') return -sign;
  if (typeof b === 'number') return sign;
  return sign * collator.compare(a, b);
}
