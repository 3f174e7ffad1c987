/**
 * Lines over training steps on a canvas, fast at millions of points.
 *
 *   const axis = new StepAxis();
 *   const chart = new LineChart(parent, { axis, name: 'Total gradient norm', y: 'log' });
 *   chart.set({
 *     series: [{ label: 'grad norm', steps, values, color: 'blue' }],      // steps ascending
 *     shadings: [{ label: 'clipped', color: 'orange', ranges }],           // ranges: [from0, to0, from1, to1, …] ascending
 *     markers: [{ step: 57, color: 'red', label: 'first NaN' }],
 *     thresholds: [{ value: 3.4, color: 'green', label: 'recommended 3.4' }],
 *   });
 *
 * Each draw looks only at the visible steps (two binary searches) and keeps,
 * per pixel column, the first, smallest, largest and last value (M4
 * decimation), reading many points per pixel from a min/max summary
 * (summary.ts), so a draw costs O(pixels) at any zoom. Non-finite values break the
 * line and are marked by ticks along the top edge. The y axis fits the
 * visible data. Gestures and the hover cursor come from the shared StepAxis
 * (x-axis.ts); the hovered chart shows the values at the cursor as text.
 */
import { clearFrame, insetBox, redrawOnResizeAndTheme, requestDraw } from './frame';
import { forEachChunk } from './summary';
import { formatNumber, formatStep, makeScale, niceExtent, type Scale, type ScaleKind } from './scale';
import { createInteractiveChartShell, type Surface } from './surface';
import { readTheme, withAlpha, type ChartTheme, type ColorName } from './theme';
import { attachGestures, lowerBound, nearestIndex, stepAtX, stepExtent, type AxisMember, type PlotBox, type StepAxis, type XRange } from './x-axis';

export interface LineSeries {
  /** Shown in the hover readout (as text). */
  label: string;
  steps: Float64Array;
  values: Float64Array;
  color: ColorName;
  /** CSS pixels; 1.5 by default. */
  width?: number;
  /** Colour of the top-edge ticks for its non-finite values; the line's colour by default. */
  nonFiniteColor?: ColorName;
}

export interface Shading {
  label: string;
  color: ColorName;
  /** Pairs [from, to] of steps, ascending and not overlapping. */
  ranges: Float64Array;
}

export interface Marker {
  step: number;
  color: ColorName;
  label?: string;
  dashed?: boolean;
}

export interface Threshold {
  value: number;
  color: ColorName;
  label: string;
}

export interface LineChartContent {
  series: LineSeries[];
  shadings: Shading[];
  markers: Marker[];
  thresholds: Threshold[];
}

export interface LineChartOptions {
  axis: StepAxis;
  /** What the chart shows, for screen readers: "Total gradient norm". */
  name: string;
  y: ScaleKind;
  /** Extra class on the chart box (the style sheet gives each kind its height). */
  className?: string;
  /** Called after every draw (the dashboard sets its performance marks here). */
  afterDraw?: () => void;
}

const MARGIN = { left: 54, right: 12, top: 14, bottom: 20 };
const NON_FINITE_TICK = { top: 3, height: 7 };
const DEFAULT_LINE_WIDTH = 1.5;
/** Fewer points than this share of pixel columns are drawn as dots too. */
const DOTS_BELOW_POINTS_PER_PIXEL = 1 / 6;

/** Per pixel column of one series: first, smallest, largest and last finite values. */
interface Columns {
  count: number;
  x: Float64Array;
  first: Float64Array;
  min: Float64Array;
  max: Float64Array;
  last: Float64Array;
  /** A non-finite value came between this column and the previous one. */
  breakBefore: Uint8Array;
  /** Pixel columns (0 … width−1) holding a non-finite value. */
  nonFinite: Uint8Array;
  /** Extent of the values inside the visible range (all positive ones for loPositive). */
  lo: number;
  hi: number;
  loPositive: number;
}

function upperBound(steps: Float64Array, step: number, from: number): number {
  let lo = from;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid] <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function decimate(series: LineSeries, visible: XRange, width: number): Columns {
  const { steps, values } = series;
  // One point beyond each edge, so the line runs off the plot instead of stopping short.
  const start = Math.max(0, lowerBound(steps, visible[0]) - 1);
  const end = Math.min(steps.length, upperBound(steps, visible[1], start) + 1);
  const capacity = Math.min(end - start, width + 3);
  const c: Columns = {
    count: 0,
    x: new Float64Array(capacity),
    first: new Float64Array(capacity),
    min: new Float64Array(capacity),
    max: new Float64Array(capacity),
    last: new Float64Array(capacity),
    breakBefore: new Uint8Array(capacity),
    nonFinite: new Uint8Array(width),
    lo: Infinity,
    hi: -Infinity,
    loPositive: Infinity,
  };
  const pixelsPerStep = width / (visible[1] - visible[0]);
  let n = -1;
  let column = NaN;
  let pendingBreak = false;
  let edgeLo = Infinity;
  let edgeHi = -Infinity;
  let edgeLoPositive = Infinity;
  forEachChunk(values, start, end, width, (first, last, min, max, minPositive, nonFinite) => {
    const px = (steps[first] - visible[0]) * pixelsPerStep;
    const col = Math.floor(px);
    const inside = col >= 0 && col < width;
    if (nonFinite) {
      if (inside) c.nonFinite[col] = 1;
      pendingBreak = true;
    }
    if (min > max) return;
    const firstValue = Number.isFinite(values[first]) ? values[first] : min;
    const lastValue = Number.isFinite(values[last]) ? values[last] : max;
    if (col !== column) {
      n++;
      c.x[n] = px;
      c.first[n] = firstValue;
      c.min[n] = min;
      c.max[n] = max;
      c.last[n] = lastValue;
      c.breakBefore[n] = pendingBreak ? 1 : 0;
      column = col;
      pendingBreak = false;
    } else {
      if (min < c.min[n]) c.min[n] = min;
      if (max > c.max[n]) c.max[n] = max;
      c.last[n] = lastValue;
    }
    if (inside) {
      if (min < c.lo) c.lo = min;
      if (max > c.hi) c.hi = max;
      if (minPositive < c.loPositive) c.loPositive = minPositive;
    } else {
      if (min < edgeLo) edgeLo = min;
      if (max > edgeHi) edgeHi = max;
      if (minPositive < edgeLoPositive) edgeLoPositive = minPositive;
    }
  });
  c.count = n + 1;
  // Zoomed in between two points: the neighbours beyond the edges give the scale.
  if (c.lo > c.hi) {
    c.lo = edgeLo;
    c.hi = edgeHi;
    c.loPositive = edgeLoPositive;
  }
  return c;
}

export class LineChart implements AxisMember {
  readonly element: HTMLElement;
  private readonly base: Surface;
  private readonly overlay: Surface;
  private readonly readout: HTMLElement;
  private content: LineChartContent = { series: [], shadings: [], markers: [], thresholds: [] };
  private yKind: ScaleKind;
  private selection: XRange | null = null;
  private hovered: { x: number; y: number } | null = null;
  /** The last draw's mapping, for the cursor overlay. */
  private view: { box: PlotBox; visible: XRange; y: Scale } | undefined;
  private readonly stops: Array<() => void> = [];

  constructor(
    parent: HTMLElement,
    private readonly options: LineChartOptions,
  ) {
    this.yKind = options.y;
    ({ element: this.element, base: this.base, overlay: this.overlay, readout: this.readout } = createInteractiveChartShell(parent, `chart ${options.className ?? ''}`));
    this.updateLabel();
    this.stops.push(options.axis.join(this), ...redrawOnResizeAndTheme(this.element, this));
    attachGestures({
      element: this.element,
      axis: options.axis,
      plot: () => this.plotBox(),
      showSelection: (range) => {
        this.selection = range;
        this.drawCursor();
      },
      hover: (position) => {
        this.hovered = position;
        options.axis.setCursor(stepAtX(this.view, position?.x));
        this.drawCursor();
      },
    });
  }

  /** Replaces the given parts of the content; the zoom stays. */
  set(content: Partial<LineChartContent>): void {
    this.content = { ...this.content, ...content };
    this.updateLabel();
    requestDraw(this);
  }

  setYScale(kind: ScaleKind): void {
    this.yKind = kind;
    this.updateLabel();
    requestDraw(this);
  }

  get yScale(): ScaleKind {
    return this.yKind;
  }

  dataExtent(): XRange | undefined {
    return stepExtent(this.content.series);
  }

  dispose(): void {
    for (const stop of this.stops) stop();
    this.element.remove();
  }

  private updateLabel(): void {
    const names = this.content.series.map((s) => s.label).join(', ');
    this.element.setAttribute(
      'aria-label',
      `${this.options.name} (${this.yKind} scale)${names ? `: ${names}` : ''}. Drag to zoom, shift-drag to pan, arrow keys pan, plus and minus zoom, 0 resets.`,
    );
  }

  private plotBox(): PlotBox {
    return insetBox(this.base, MARGIN);
  }

  draw(): void {
    const theme = clearFrame(this.base);
    const { ctx } = this.base;
    const box = this.plotBox();
    const visible = this.options.axis.visible();
    const width = Math.max(1, Math.round(box.right - box.left));
    const columns = visible ? this.content.series.map((s) => decimate(s, visible, width)) : [];
    const y = visible ? this.fitY(columns, box) : undefined;
    if (!visible || !y) {
      this.view = undefined;
      ctx.fillStyle = theme.color('muted');
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('No data', (box.left + box.right) / 2, (box.top + box.bottom) / 2);
      this.options.afterDraw?.();
      return;
    }
    this.view = { box, visible, y };
    const x = (step: number): number => box.left + ((step - visible[0]) / (visible[1] - visible[0])) * (box.right - box.left);
    this.drawAxes(ctx, theme, box, visible, y, x);
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
    ctx.clip();
    this.drawShadings(ctx, theme, box, visible, x);
    this.drawThresholds(ctx, theme, box, y);
    this.content.series.forEach((s, i) => this.drawSeries(ctx, theme, s, columns[i], box, y));
    ctx.restore();
    this.drawMarkers(ctx, theme, box, x);
    this.content.series.forEach((s, i) => drawNonFiniteTicks(ctx, theme.color(s.nonFiniteColor ?? s.color), columns[i].nonFinite, box.left));
    if (theme.highContrast) {
      ctx.strokeStyle = theme.color('border');
      ctx.lineWidth = 1;
      ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.right - box.left - 1, box.bottom - box.top - 1);
    }
    this.options.afterDraw?.();
    this.drawCursor();
  }

  private fitY(columns: Columns[], box: PlotBox): Scale | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of columns) {
      lo = Math.min(lo, this.yKind === 'log' ? c.loPositive : c.lo);
      hi = Math.max(hi, c.hi);
    }
    for (const t of this.content.thresholds) {
      if (!Number.isFinite(t.value) || (this.yKind === 'log' && t.value <= 0)) continue;
      lo = Math.min(lo, t.value);
      hi = Math.max(hi, t.value);
    }
    const domain = niceExtent(lo, hi, this.yKind);
    return domain ? makeScale(this.yKind, domain, [box.bottom, box.top]) : undefined;
  }

  private drawAxes(ctx: CanvasRenderingContext2D, theme: ChartTheme, box: PlotBox, visible: XRange, y: Scale, x: (step: number) => number): void {
    ctx.lineWidth = 1;
    ctx.strokeStyle = theme.color('grid');
    ctx.fillStyle = theme.color('muted');
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.beginPath();
    for (const tick of y.ticks(Math.max(2, Math.floor((box.bottom - box.top) / 28)))) {
      const py = Math.round(y.map(tick)) + 0.5;
      ctx.moveTo(box.left, py);
      ctx.lineTo(box.right, py);
      ctx.fillText(formatNumber(tick), box.left - 6, py);
    }
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const ticks = makeScale('linear', visible, [box.left, box.right]).ticks(Math.max(2, Math.floor((box.right - box.left) / 90)));
    ctx.beginPath();
    for (const tick of ticks) {
      const px = Math.round(x(tick)) + 0.5;
      ctx.moveTo(px, box.bottom);
      ctx.lineTo(px, box.bottom + 4);
      ctx.fillText(formatStep(tick), px, box.bottom + 5);
    }
    ctx.moveTo(box.left, box.bottom + 0.5);
    ctx.lineTo(box.right, box.bottom + 0.5);
    ctx.stroke();
  }

  private drawShadings(ctx: CanvasRenderingContext2D, theme: ChartTheme, box: PlotBox, visible: XRange, x: (step: number) => number): void {
    for (const shading of this.content.shadings) {
      const { ranges } = shading;
      ctx.fillStyle = withAlpha(ctx, theme.color(shading.color), theme.highContrast ? 0.4 : 0.2);
      let runStart = NaN;
      let runEnd = NaN;
      for (let r = firstRangeEndingFrom(ranges, visible[0]); r < ranges.length / 2 && ranges[r * 2] <= visible[1]; r++) {
        const a = Math.floor(x(ranges[r * 2]));
        const b = Math.max(a + 1, Math.ceil(x(ranges[r * 2 + 1])));
        if (a <= runEnd) runEnd = Math.max(runEnd, b);
        else {
          if (runEnd > runStart) ctx.fillRect(runStart, box.top, runEnd - runStart, box.bottom - box.top);
          runStart = a;
          runEnd = b;
        }
      }
      if (runEnd > runStart) ctx.fillRect(runStart, box.top, runEnd - runStart, box.bottom - box.top);
    }
  }

  private drawThresholds(ctx: CanvasRenderingContext2D, theme: ChartTheme, box: PlotBox, y: Scale): void {
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    for (const t of this.content.thresholds) {
      if (!Number.isFinite(t.value)) continue;
      const py = Math.round(y.map(t.value)) + 0.5;
      ctx.strokeStyle = ctx.fillStyle = theme.color(t.color);
      ctx.lineWidth = theme.highContrast ? 2 : 1.25;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(box.left, py);
      ctx.lineTo(box.right, py);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillText(t.label, box.right - 4, py - 2);
    }
  }

  private drawSeries(ctx: CanvasRenderingContext2D, theme: ChartTheme, s: LineSeries, c: Columns, box: PlotBox, y: Scale): void {
    const color = theme.color(s.color);
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = (s.width ?? DEFAULT_LINE_WIDTH) * (theme.highContrast ? 1.5 : 1);
    ctx.lineJoin = 'round';
    ctx.beginPath();
    const left = box.left;
    for (let j = 0; j < c.count; j++) {
      const px = left + c.x[j];
      const yFirst = y.map(c.first[j]);
      if (j === 0 || c.breakBefore[j]) ctx.moveTo(px, yFirst);
      else ctx.lineTo(px, yFirst);
      if (c.min[j] !== c.max[j]) {
        ctx.lineTo(px, y.map(c.min[j]));
        ctx.lineTo(px, y.map(c.max[j]));
      }
      ctx.lineTo(px, y.map(c.last[j]));
    }
    ctx.stroke();
    const sparse = c.count < (box.right - box.left) * DOTS_BELOW_POINTS_PER_PIXEL;
    for (let j = 0; j < c.count; j++) {
      const isolated = (j === 0 || c.breakBefore[j] === 1) && (j === c.count - 1 || c.breakBefore[j + 1] === 1);
      if (!sparse && !isolated) continue;
      ctx.beginPath();
      ctx.arc(left + c.x[j], y.map(c.last[j]), 2.2, 0, Math.PI * 2);
      ctx.fill();
    }
  }

  private drawMarkers(ctx: CanvasRenderingContext2D, theme: ChartTheme, box: PlotBox, x: (step: number) => number): void {
    const markers = this.content.markers.map((m) => ({ ...m, px: Math.round(x(m.step)) + 0.5 })).filter((m) => m.px >= box.left && m.px <= box.right);
    markers.sort((a, b) => a.px - b.px);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    let labelsEnd = -Infinity;
    for (const m of markers) {
      ctx.strokeStyle = ctx.fillStyle = theme.color(m.color);
      ctx.lineWidth = theme.highContrast ? 2 : 1;
      ctx.setLineDash(m.dashed ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(m.px, box.top);
      ctx.lineTo(m.px, box.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      if (!m.label || m.px + 3 < labelsEnd) continue;
      const textWidth = ctx.measureText(m.label).width;
      const tx = Math.min(m.px + 3, box.right - textWidth - 2);
      ctx.fillText(m.label, tx, box.top + 2);
      labelsEnd = tx + textWidth + 6;
    }
  }

  drawCursor(): void {
    this.overlay.fit();
    const { ctx } = this.overlay;
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const v = this.view;
    const cursor = this.options.axis.cursor;
    if (!v) {
      this.readout.hidden = true;
      return;
    }
    const theme = readTheme();
    const x = (step: number): number => v.box.left + ((step - v.visible[0]) / (v.visible[1] - v.visible[0])) * (v.box.right - v.box.left);
    if (this.selection) {
      const a = x(this.selection[0]);
      const b = x(this.selection[1]);
      ctx.fillStyle = withAlpha(ctx, theme.color('focus'), 0.18);
      ctx.fillRect(a, v.box.top, b - a, v.box.bottom - v.box.top);
      ctx.strokeStyle = theme.color('focus');
      ctx.strokeRect(a + 0.5, v.box.top + 0.5, b - a - 1, v.box.bottom - v.box.top - 1);
    }
    if (cursor === null || cursor < v.visible[0] || cursor > v.visible[1]) {
      this.readout.hidden = true;
      return;
    }
    const px = Math.round(x(cursor)) + 0.5;
    ctx.strokeStyle = theme.color('foreground');
    ctx.lineWidth = 1;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(px, v.box.top);
    ctx.lineTo(px, v.box.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    const lines: string[] = [];
    let nearestStep = cursor;
    for (const s of this.content.series) {
      const i = nearestIndex(s.steps, cursor);
      if (i < 0) continue;
      const value = s.values[i];
      nearestStep = s.steps[i];
      lines.push(`${s.label}: ${formatNumber(value)}`);
      if (!Number.isFinite(value)) continue;
      ctx.fillStyle = theme.color(s.color);
      ctx.beginPath();
      ctx.arc(x(s.steps[i]), v.y.map(value), 3, 0, Math.PI * 2);
      ctx.fill();
    }
    for (const shading of this.content.shadings) if (inRanges(shading.ranges, nearestStep)) lines.push(shading.label);
    this.showReadout([`step ${Math.round(nearestStep).toLocaleString('en-US')}`, ...lines], px);
  }

  private showReadout(lines: string[], px: number): void {
    if (!this.hovered) {
      this.readout.hidden = true;
      return;
    }
    this.readout.replaceChildren(...lines.map((line) => Object.assign(document.createElement('div'), { textContent: line })));
    this.readout.hidden = false;
    const width = this.readout.offsetWidth;
    const left = px + 12 + width > this.base.width ? px - 12 - width : px + 12;
    this.readout.style.left = `${Math.max(0, left)}px`;
    this.readout.style.top = `${MARGIN.top}px`;
  }
}

/** Index of the first [from, to] pair with to ≥ step (pairs ascending). */
function firstRangeEndingFrom(ranges: Float64Array, step: number): number {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid * 2 + 1] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function inRanges(ranges: Float64Array, step: number): boolean {
  const r = firstRangeEndingFrom(ranges, step);
  return r < ranges.length / 2 && ranges[r * 2] <= step;
}

/** Ticks along the top edge where a pixel column holds NaN or an infinity. */
function drawNonFiniteTicks(ctx: CanvasRenderingContext2D, color: string, flags: Uint8Array, left: number): void {
  ctx.fillStyle = color;
  let runStart = -1;
  for (let c = 0; c <= flags.length; c++) {
    const on = c < flags.length && flags[c] === 1;
    if (on && runStart < 0) runStart = c;
    if (!on && runStart >= 0) {
      const x0 = left + runStart - 1;
      const width = c - runStart + 2;
      ctx.fillRect(x0, NON_FINITE_TICK.top, width, NON_FINITE_TICK.height - 3);
      // A downward notch under the run's start makes a lone NaN findable.
      ctx.beginPath();
      ctx.moveTo(x0 - 2, NON_FINITE_TICK.top + NON_FINITE_TICK.height - 3);
      ctx.lineTo(x0 + 4, NON_FINITE_TICK.top + NON_FINITE_TICK.height - 3);
      ctx.lineTo(x0 + 1, NON_FINITE_TICK.top + NON_FINITE_TICK.height + 1);
      ctx.fill();
      runStart = -1;
    }
  }
}
