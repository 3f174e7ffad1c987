/**
 * Names of the performance marks the dashboard sets, for tests and the
 * benchmark to wait on. Free of the DOM, so Node code can import it.
 */

/** A 'show' message arrived (decoded and validated). */
export const SHOW_MARK = 'gradlens:show';
/** The timeline has drawn the runs of the latest 'show' for the first time. */
export const FIRST_DRAW_MARK = 'gradlens:first-draw';
