/**
 * Draws on the next animation frame, once per chart however often it was
 * asked. Each frame that drew something leaves the performance measure
 * FRAME_MEASURE (marks.ts; only the latest is kept; startTime = the frame began,
 * duration = its drawing): tests and the benchmark wait for it.
 *
 *   requestDraw(chart);   // chart.draw() runs in the next frame
 */
import { FRAME_MEASURE } from './marks';
import { observeSize, type Surface } from './surface';
import { onThemeChange, readTheme, type ChartTheme } from './theme';
import type { PlotBox } from './x-axis';

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

/** Redraws `chart` whenever `element` changes size or the theme changes; returns the two stops. */
export function redrawOnResizeAndTheme(element: HTMLElement, chart: Drawable): Array<() => void> {
  return [observeSize(element, () => requestDraw(chart)), onThemeChange(() => requestDraw(chart))];
}

/** Starts a chart's drawing: the surface fitted to its box, cleared to the theme's background, in the theme's font. */
export function clearFrame(surface: Surface): ChartTheme {
  surface.fit();
  const theme = readTheme();
  const { ctx } = surface;
  ctx.fillStyle = theme.color('background');
  ctx.fillRect(0, 0, surface.width, surface.height);
  ctx.font = theme.font;
  return theme;
}

/** The plot area inside `margin`, at least one pixel wide and high however small the surface. */
export function insetBox(surface: Surface, margin: { left: number; right: number; top: number; bottom: number }): PlotBox {
  return {
    left: margin.left,
    top: margin.top,
    right: Math.max(margin.left + 1, surface.width - margin.right),
    bottom: Math.max(margin.top + 1, surface.height - margin.bottom),
  };
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
