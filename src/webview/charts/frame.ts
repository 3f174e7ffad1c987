/**
 * Draws on the next animation frame, once per chart however often it was
 * asked. Each frame that drew something leaves the performance measure
 * FRAME_MEASURE (marks.ts; only the latest is kept; startTime = the frame began,
 * duration = its drawing): tests and the benchmark wait for it.
 *
 *   requestDraw(chart);   // chart.draw() runs in the next frame
 */
import { FRAME_MEASURE } from './marks';

export interface Drawable {
  draw(): void;
}

const dirty = new Set<Drawable>();
let scheduled = false;

export function requestDraw(target: Drawable): void {
  dirty.add(target);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(flush);
}

function flush(): void {
  const start = performance.now();
  scheduled = false;
  const batch = [...dirty];
  dirty.clear();
  for (const target of batch) target.draw();
  performance.clearMeasures(FRAME_MEASURE);
  performance.measure(FRAME_MEASURE, { start });
}
