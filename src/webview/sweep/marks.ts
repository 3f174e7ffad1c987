/** Names of the performance entries the sweep table makes, for tests. Free of the DOM, so Node code can import it. */

/** A measure of each ordering of the rows (a sort, or new rows put in order). */
export const SORT_MEASURE = 'gradlens:sweep-sort';
