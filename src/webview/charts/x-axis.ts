/**
 * A step axis shared by several charts: one visible range, one hover cursor,
 * and the mouse and keyboard gestures that change them.
 *
 *   const axis = new StepAxis();
 *   new LineChart(a, { axis, ... }); new HeatMap(b, { axis, ... });   // they join it
 *   axis.onRangeChange((range) => saveViewState(range));              // null = everything
 *   axis.setRange([100, 400]);  axis.zoomAt(250, 0.5);  axis.panBy(50);  axis.setRange(null);
 *
 * Gestures on a member (attachGestures): drag selects a range to zoom into;
 * shift-drag (or the middle button) pans; the wheel zooms around the pointer
 * (shift-wheel or a sideways wheel pans); double-click resets. With the
 * member focused: ← → pan, + − zoom, 0 or Home resets.
 */
import { requestDraw, type Drawable } from './frame';

export type XRange = readonly [number, number];

/** The first and last step over several step arrays (each ascending); undefined when all are empty. */
export function stepExtent(all: Iterable<{ readonly steps: Float64Array }>): XRange | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const { steps } of all) {
    if (steps.length === 0) continue;
    lo = Math.min(lo, steps[0]);
    hi = Math.max(hi, steps[steps.length - 1]);
  }
  return hi >= lo ? [lo, hi] : undefined;
}

/** The step under a pointer at x in a drawn plot, or null outside the plot (or before the first draw). */
export function stepAtX(view: { box: PlotBox; visible: XRange } | undefined, x: number | undefined): number | null {
  if (x === undefined || !view || x < view.box.left || x > view.box.right) return null;
  return view.visible[0] + ((x - view.box.left) / (view.box.right - view.box.left)) * (view.visible[1] - view.visible[0]);
}

export interface AxisMember extends Drawable {
  /** The steps this member has data for. */
  dataExtent(): XRange | undefined;
  /** Redraw the cursor only (cheap: an overlay). */
  drawCursor(): void;
}

export class StepAxis {
  private members = new Set<AxisMember>();
  private rangeListeners: Array<(range: XRange | null) => void> = [];
  private chosen: XRange | null = null;
  /** The hovered step, drawn as a cursor on every member. */
  cursor: number | null = null;

  join(member: AxisMember): () => void {
    this.members.add(member);
    return () => this.members.delete(member);
  }

  /** Union of the members' data. */
  extent(): XRange | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const m of this.members) {
      const e = m.dataExtent();
      if (!e) continue;
      lo = Math.min(lo, e[0]);
      hi = Math.max(hi, e[1]);
    }
    if (!(hi >= lo)) return undefined;
    return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
  }

  /** What the members show now: the chosen range, or everything. */
  visible(): XRange | undefined {
    return this.chosen ?? this.extent();
  }

  /** The range the user chose; null when the whole run is shown. */
  get range(): XRange | null {
    return this.chosen;
  }

  /** Shows [from, to] (clamped to the data), or everything with null. */
  setRange(range: XRange | null): void {
    const next = range === null ? null : this.clamp(range);
    if (next === this.chosen || (next && this.chosen && next[0] === this.chosen[0] && next[1] === this.chosen[1])) return;
    this.chosen = next;
    for (const m of this.members) requestDraw(m);
    for (const listener of this.rangeListeners) listener(next);
  }

  /** factor < 1 zooms in around `center`, > 1 out. */
  zoomAt(center: number, factor: number): void {
    const v = this.visible();
    if (!v) return;
    this.setRange([center - (center - v[0]) * factor, center + (v[1] - center) * factor]);
  }

  panBy(steps: number): void {
    const v = this.visible();
    if (v) this.setRange([v[0] + steps, v[1] + steps]);
  }

  setCursor(step: number | null): void {
    if (step === this.cursor) return;
    this.cursor = step;
    for (const m of this.members) m.drawCursor();
  }

  onRangeChange(listener: (range: XRange | null) => void): void {
    this.rangeListeners.push(listener);
  }

  /** Inside the data, at least a few steps wide; the whole data range becomes null. */
  private clamp(range: XRange): XRange | null {
    const e = this.extent();
    if (!e) return null;
    const full = e[1] - e[0];
    // A few steps at most; a hundredth of the run when steps are fractions (epochs).
    const minSpan = Math.min(4, full / 100);
    let [a, b] = range[0] <= range[1] ? range : [range[1], range[0]];
    if (b - a < minSpan) {
      const mid = (a + b) / 2;
      a = mid - minSpan / 2;
      b = mid + minSpan / 2;
    }
    if (b - a >= full) return null;
    if (a < e[0]) [a, b] = [e[0], e[0] + (b - a)];
    if (b > e[1]) [a, b] = [e[1] - (b - a), e[1]];
    return [a, b];
  }
}

export interface PlotBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface GestureTarget {
  /** Receives the pointer, wheel and key events. */
  element: HTMLElement;
  axis: StepAxis;
  /** The plot area in the element's CSS pixels. */
  plot(): PlotBox;
  /** Shows (or, with null, hides) the range being selected by a drag. */
  showSelection(range: XRange | null): void;
  /** The pointer is over this position (element CSS pixels), or left with null. */
  hover(position: { x: number; y: number } | null): void;
  /** A press and release without dragging, at this position (element CSS pixels). */
  click?(position: { x: number; y: number }): void;
}

const WHEEL_ZOOM_PER_PIXEL = 0.0015;
const KEY_PAN_SHARE = 0.1;
const KEY_ZOOM_FACTOR = 0.7;
const CLICK_SLOP_PX = 4;

export function attachGestures(t: GestureTarget): void {
  const el = t.element;
  const stepAt = (clientX: number): number | undefined => {
    const v = t.axis.visible();
    if (!v) return undefined;
    const box = t.plot();
    const x = clientX - el.getBoundingClientRect().left;
    return v[0] + ((x - box.left) / Math.max(1, box.right - box.left)) * (v[1] - v[0]);
  };
  const stepsPerPixel = (): number => {
    const v = t.axis.visible();
    const box = t.plot();
    return v ? (v[1] - v[0]) / Math.max(1, box.right - box.left) : 0;
  };

  let drag: { mode: 'select' | 'pan'; startX: number; lastX: number; startStep: number } | undefined;
  el.addEventListener('pointerdown', (e) => {
    const start = stepAt(e.clientX);
    if (start === undefined || (e.button !== 0 && e.button !== 1)) return;
    drag = { mode: e.shiftKey || e.button === 1 ? 'pan' : 'select', startX: e.clientX, lastX: e.clientX, startStep: start };
    el.setPointerCapture(e.pointerId);
    e.preventDefault();
    el.focus({ preventScroll: true });
  });
  el.addEventListener('pointermove', (e) => {
    const rect = el.getBoundingClientRect();
    t.hover({ x: e.clientX - rect.left, y: e.clientY - rect.top });
    if (!drag) return;
    if (drag.mode === 'pan') {
      t.axis.panBy(-(e.clientX - drag.lastX) * stepsPerPixel());
    } else if (Math.abs(e.clientX - drag.startX) > CLICK_SLOP_PX) {
      const here = stepAt(e.clientX);
      if (here !== undefined) t.showSelection([Math.min(drag.startStep, here), Math.max(drag.startStep, here)]);
    }
    drag.lastX = e.clientX;
  });
  const endDrag = (e: PointerEvent): void => {
    if (!drag) return;
    const { mode, startX, startStep } = drag;
    drag = undefined;
    t.showSelection(null);
    const end = stepAt(e.clientX);
    const moved = Math.abs(e.clientX - startX) > CLICK_SLOP_PX;
    if (mode === 'select' && end !== undefined && moved) t.axis.setRange([Math.min(startStep, end), Math.max(startStep, end)]);
    if (!moved && t.click) {
      const rect = el.getBoundingClientRect();
      t.click({ x: e.clientX - rect.left, y: e.clientY - rect.top });
    }
  };
  el.addEventListener('pointerup', endDrag);
  el.addEventListener('pointercancel', endDrag);
  el.addEventListener('pointerleave', () => {
    if (!drag) t.hover(null);
  });
  el.addEventListener(
    'wheel',
    (e) => {
      const at = stepAt(e.clientX);
      if (at === undefined) return;
      e.preventDefault();
      const pixels = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? 16 : 1;
      const sideways = Math.abs(e.deltaX) > Math.abs(e.deltaY);
      if (sideways || e.shiftKey) t.axis.panBy((sideways ? e.deltaX : e.deltaY) * pixels * stepsPerPixel());
      else t.axis.zoomAt(at, Math.exp(e.deltaY * pixels * WHEEL_ZOOM_PER_PIXEL));
    },
    { passive: false },
  );
  el.addEventListener('dblclick', () => t.axis.setRange(null));
  el.addEventListener('keydown', (e) => {
    const v = t.axis.visible();
    if (!v) return;
    const span = v[1] - v[0];
    const center = (v[0] + v[1]) / 2;
    const actions: Record<string, () => void> = {
      ArrowLeft: () => t.axis.panBy(-span * KEY_PAN_SHARE),
      ArrowRight: () => t.axis.panBy(span * KEY_PAN_SHARE),
      '+': () => t.axis.zoomAt(center, KEY_ZOOM_FACTOR),
      '=': () => t.axis.zoomAt(center, KEY_ZOOM_FACTOR),
      '-': () => t.axis.zoomAt(center, 1 / KEY_ZOOM_FACTOR),
      '0': () => t.axis.setRange(null),
      Home: () => t.axis.setRange(null),
    };
    const action = actions[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  });
}

/** First index whose step is ≥ `step` (steps sorted ascending). */
export function lowerBound(steps: Float64Array, step: number, from = 0, to = steps.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index whose step is closest to `step`, or -1 for no steps. */
export function nearestIndex(steps: Float64Array, step: number): number {
  if (steps.length === 0) return -1;
  const i = lowerBound(steps, step);
  if (i === 0) return 0;
  if (i === steps.length) return i - 1;
  return step - steps[i - 1] <= steps[i] - step ? i - 1 : i;
}
