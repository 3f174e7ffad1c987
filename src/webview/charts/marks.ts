/**
 * Names of the performance entries the charts leave, for tests and the
 * benchmark to wait on. Free of the DOM, so Node code can import it.
 */

/** A measure per animation frame that drew: startTime = the frame began, duration = its drawing. */
export const FRAME_MEASURE = 'gradlens:frame';
