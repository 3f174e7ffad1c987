/**
 * Rows × steps as a colour grid on a canvas: one row per parameter (or per
 * histogram bucket), colour = log10 of the value, NaN and infinities in a
 * colour of their own, no data left blank.
 *
 *   const map = new HeatMap(parent, { axis, name: 'Per-parameter gradient norm', valueName: 'norm' });
 *   map.set([{ label: 'rnn.weight_hh_l0', steps, values }, ...]);   // top row first
 *   map.highlight('rnn.weight_hh_l0');                               // outline a row
 *   map.onRowClick = (label) => …;
 *   new HeatMap(parent, { axis, name, valueName: 'count', zeroIsEmpty: true, rowHeight: 8 });   // histogram buckets
 *
 * A row's value holds from its step to the next step; per pixel column the
 * largest value is drawn (a NaN or infinity wins, so it is never hidden),
 * read from a min/max summary when many points share a column (summary.ts). The
 * colour scale spans the whole data, so zooming does not change colours. It
 * shares the StepAxis with line charts: zoom, pan and cursor stay in sync.
 */
import { clearFrame, redrawOnResizeAndTheme, requestDraw } from './frame';
import { forEachChunk } from './summary';
import { formatNumber, formatStep, makeScale } from './scale';
import { createInteractiveChartShell, type Surface } from './surface';
import { colorRamp, readTheme, toRgba, type ColorName } from './theme';
import { attachGestures, lowerBound, stepAtX, stepExtent, type AxisMember, type PlotBox, type StepAxis, type XRange } from './x-axis';

export interface HeatRow {
  /** Drawn with fillText and shown in the readout as text. */
  label: string;
  steps: Float64Array;
  values: Float64Array;
}

export interface HeatMapOptions {
  axis: StepAxis;
  /** What the map shows, for screen readers. */
  name: string;
  /** The value's name in the readout: "norm", "count". */
  valueName: string;
  /** CSS pixels per row; labels are drawn on every row they fit on. */
  rowHeight?: number;
  /** A value of 0 means nothing there (a histogram bucket's count), not a vanished norm. */
  zeroIsEmpty?: boolean;
  className?: string;
}

const RAMP: readonly ColorName[] = ['blue', 'green', 'yellow', 'red'];
const RAMP_STEPS = 96;
const NON_FINITE: ColorName = 'foreground';
const MARGIN = { top: 6, bottom: 20, right: 70 };
const LEGEND_WIDTH = 10;
const MAX_LABEL_SHARE = 0.35;

/** Per pixel column of one row: the largest finite value, and whether a non-finite one fell there. */
function rowColumns(row: HeatRow, visible: XRange, width: number, largest: Float64Array, nonFiniteColumns: Uint8Array): void {
  largest.fill(NaN);
  nonFiniteColumns.fill(0);
  const { steps, values } = row;
  const n = steps.length;
  if (n === 0) return;
  const k = width / (visible[1] - visible[0]);
  const start = Math.max(0, lowerBound(steps, visible[0]) - 1);
  const end = Math.min(n, lowerBound(steps, visible[1], start) + 1);
  // The last point holds for one typical step gap.
  const lastGap = n > 1 ? (steps[n - 1] - steps[0]) / (n - 1) : 1;
  forEachChunk(values, start, end, width, (first, last, min, max, _minPositive, nonFinite) => {
    const from = Math.max(0, Math.floor((steps[first] - visible[0]) * k));
    const nextStep = last + 1 < n ? steps[last + 1] : steps[last] + lastGap;
    const to = Math.min(width, Math.max(from + 1, Math.floor((nextStep - visible[0]) * k)));
    const hasFinite = min <= max;
    for (let c = from; c < to; c++) {
      if (nonFinite) nonFiniteColumns[c] = 1;
      if (hasFinite && !(largest[c] >= max)) largest[c] = max;
    }
  });
}

export class HeatMap implements AxisMember {
  readonly element: HTMLElement;
  /** A row was clicked (its label). */
  onRowClick: ((label: string) => void) | undefined;
  private readonly base: Surface;
  private readonly overlay: Surface;
  private readonly readout: HTMLElement;
  private readonly bitmap = document.createElement('canvas');
  private rows: HeatRow[] = [];
  private highlighted: string | null = null;
  /** log10 of the smallest and largest positive finite value over all data. */
  private logRange: [number, number] = [0, 1];
  private hovered: { x: number; y: number } | null = null;
  private view: { box: PlotBox; visible: XRange; rowHeight: number } | undefined;
  private readonly stops: Array<() => void> = [];

  constructor(
    parent: HTMLElement,
    private readonly options: HeatMapOptions,
  ) {
    ({ element: this.element, base: this.base, overlay: this.overlay, readout: this.readout } = createInteractiveChartShell(parent, `chart heat-map ${options.className ?? ''}`));
    this.element.setAttribute('aria-label', `${options.name}. Drag to zoom, shift-drag to pan, 0 resets.`);
    this.stops.push(options.axis.join(this), ...redrawOnResizeAndTheme(this.element, this));
    attachGestures({
      element: this.element,
      axis: options.axis,
      plot: () => this.plotBox(),
      showSelection: () => undefined,
      hover: (position) => {
        this.hovered = position;
        options.axis.setCursor(stepAtX(this.view, position?.x));
        this.drawCursor();
      },
      click: (position) => {
        const row = this.rowAt(position.y);
        if (row) this.onRowClick?.(row.label);
      },
    });
  }

  private get rowHeight(): number {
    return this.options.rowHeight ?? 16;
  }

  set(rows: HeatRow[]): void {
    this.rows = rows;
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of rows) {
      const values = row.values;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v > 0 && v < Infinity) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    this.logRange = hi >= lo ? [Math.log10(lo), Math.log10(hi) > Math.log10(lo) ? Math.log10(hi) : Math.log10(lo) + 1] : [0, 1];
    this.element.style.height = `${MARGIN.top + MARGIN.bottom + Math.max(1, rows.length) * this.rowHeight}px`;
    requestDraw(this);
  }

  highlight(label: string | null): void {
    this.highlighted = label;
    requestDraw(this);
  }

  dataExtent(): XRange | undefined {
    return stepExtent(this.rows);
  }

  dispose(): void {
    for (const stop of this.stops) stop();
    this.element.remove();
  }

  private labelWidth(ctx: CanvasRenderingContext2D): number {
    const widest = this.rows.reduce((w, r) => Math.max(w, ctx.measureText(r.label).width), 0);
    return Math.min(Math.floor(this.base.width * MAX_LABEL_SHARE), Math.ceil(widest) + 12);
  }

  private plotBox(): PlotBox {
    return this.view?.box ?? { left: 0, top: MARGIN.top, right: Math.max(1, this.base.width - MARGIN.right), bottom: MARGIN.top + this.rows.length * this.rowHeight };
  }

  private rowAt(y: number): HeatRow | undefined {
    const v = this.view;
    if (!v || y < v.box.top) return undefined;
    return this.rows[Math.floor((y - v.box.top) / v.rowHeight)];
  }

  draw(): void {
    const theme = clearFrame(this.base);
    const { ctx } = this.base;
    const visible = this.options.axis.visible();
    if (!visible || this.rows.length === 0) {
      this.view = undefined;
      return;
    }
    const rowHeight = this.rowHeight;
    const left = this.labelWidth(ctx);
    const box: PlotBox = { left, top: MARGIN.top, right: Math.max(left + 1, this.base.width - MARGIN.right), bottom: MARGIN.top + this.rows.length * rowHeight };
    this.view = { box, visible, rowHeight };
    const width = Math.max(1, Math.round(box.right - box.left));

    const ramp = colorRamp(ctx, theme, RAMP, RAMP_STEPS);
    const [nr, ng, nb] = toRgba(ctx, theme.color(NON_FINITE));
    const [br, bg, bb] = toRgba(ctx, theme.color('background'));
    const image = new ImageData(width, this.rows.length);
    const pixels = image.data;
    const largest = new Float64Array(width);
    const nonFinite = new Uint8Array(width);
    const [lo, hi] = this.logRange;
    const zeroIsEmpty = this.options.zeroIsEmpty === true;
    const scale = (RAMP_STEPS - 1) / (hi - lo);
    this.rows.forEach((row, r) => {
      rowColumns(row, visible, width, largest, nonFinite);
      for (let c = 0; c < width; c++) {
        const p = (r * width + c) * 4;
        let rgb: readonly number[];
        if (nonFinite[c]) rgb = [nr, ng, nb];
        else if (Number.isNaN(largest[c]) || (zeroIsEmpty && largest[c] <= 0)) rgb = [br, bg, bb];
        else rgb = ramp[Math.max(0, Math.min(RAMP_STEPS - 1, Math.round((Math.log10(Math.max(largest[c], 10 ** lo)) - lo) * scale)))];
        pixels[p] = rgb[0];
        pixels[p + 1] = rgb[1];
        pixels[p + 2] = rgb[2];
        pixels[p + 3] = 255;
      }
    });
    // One pixel per row and column, scaled up without smoothing: crisp cells from one putImageData.
    this.bitmap.width = width;
    this.bitmap.height = this.rows.length;
    this.bitmap.getContext('2d')?.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.bitmap, box.left, box.top, box.right - box.left, box.bottom - box.top);

    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    const labelEvery = Math.max(1, Math.ceil((theme.fontSize + 2) / rowHeight));
    this.rows.forEach((row, r) => {
      if (r % labelEvery !== 0 && row.label !== this.highlighted) return;
      const cy = box.top + (r + 0.5) * rowHeight;
      ctx.fillStyle = theme.color(row.label === this.highlighted ? 'foreground' : 'muted');
      ctx.fillText(fitText(ctx, row.label, left - 8), left - 6, cy);
    });
    if (this.highlighted !== null) {
      const r = this.rows.findIndex((row) => row.label === this.highlighted);
      if (r >= 0) {
        ctx.strokeStyle = theme.color('focus');
        ctx.lineWidth = 2;
        ctx.strokeRect(box.left + 1, box.top + r * rowHeight + 1, box.right - box.left - 2, rowHeight - 2);
      }
    }
    if (theme.highContrast) {
      ctx.strokeStyle = theme.color('border');
      ctx.lineWidth = 1;
      ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.right - box.left - 1, box.bottom - box.top - 1);
    }
    this.drawStepAxis(ctx, box, visible, theme.color('muted'));
    this.drawLegend(ctx, box, ramp, theme.color('muted'), theme.color(NON_FINITE));
    this.drawCursor();
  }

  private drawStepAxis(ctx: CanvasRenderingContext2D, box: PlotBox, visible: XRange, color: string): void {
    const x = makeScale('linear', visible, [box.left, box.right]);
    ctx.fillStyle = color;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const tick of x.ticks(Math.max(2, Math.floor((box.right - box.left) / 90)))) ctx.fillText(formatStep(tick), x.map(tick), box.bottom + 5);
  }

  /** A vertical colour bar: the value scale at the top and bottom, NaN/Inf's colour below. */
  private drawLegend(ctx: CanvasRenderingContext2D, box: PlotBox, ramp: Array<[number, number, number]>, text: string, nonFinite: string): void {
    const x = box.right + 8;
    const height = Math.max(12, box.bottom - box.top - 14);
    for (let i = 0; i < height; i++) {
      const [r, g, b] = ramp[Math.round(((height - 1 - i) / Math.max(1, height - 1)) * (RAMP_STEPS - 1))];
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.fillRect(x, box.top + i, LEGEND_WIDTH, 1);
    }
    ctx.fillStyle = nonFinite;
    ctx.fillRect(x, box.top + height + 4, LEGEND_WIDTH, 8);
    ctx.fillStyle = text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(formatNumber(10 ** this.logRange[1]), x + LEGEND_WIDTH + 4, box.top);
    ctx.textBaseline = 'bottom';
    ctx.fillText(formatNumber(10 ** this.logRange[0]), x + LEGEND_WIDTH + 4, box.top + height);
    ctx.textBaseline = 'middle';
    ctx.fillText('NaN/Inf', x + LEGEND_WIDTH + 4, box.top + height + 8);
  }

  drawCursor(): void {
    this.overlay.fit();
    const { ctx } = this.overlay;
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const v = this.view;
    const cursor = this.options.axis.cursor;
    if (!v || cursor === null || cursor < v.visible[0] || cursor > v.visible[1]) {
      this.readout.hidden = true;
      return;
    }
    const theme = readTheme();
    const px = Math.round(v.box.left + ((cursor - v.visible[0]) / (v.visible[1] - v.visible[0])) * (v.box.right - v.box.left)) + 0.5;
    ctx.strokeStyle = theme.color('foreground');
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(px, v.box.top);
    ctx.lineTo(px, v.box.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    const row = this.hovered ? this.rowAt(this.hovered.y) : undefined;
    if (!row || !this.hovered) {
      this.readout.hidden = true;
      return;
    }
    // The value in force at the cursor: the last point at or before it.
    const i = Math.max(0, lowerBound(row.steps, cursor + 1e-9) - 1);
    const lines = [row.label, `step ${Math.round(row.steps[i]).toLocaleString('en-US')}`, `${this.options.valueName} ${formatNumber(row.values[i])}`];
    this.readout.replaceChildren(...lines.map((line) => Object.assign(document.createElement('div'), { textContent: line })));
    this.readout.hidden = false;
    const width = this.readout.offsetWidth;
    this.readout.style.left = `${Math.max(0, px + 12 + width > this.base.width ? px - 12 - width : px + 12)}px`;
    this.readout.style.top = `${Math.max(0, this.hovered.y - 10)}px`;
  }
}

/** The text, cut from the front with an ellipsis to fit: a parameter's name ends in what tells it apart. */
function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ctx.measureText(`…${text.slice(mid)}`).width <= width) hi = mid;
    else lo = mid + 1;
  }
  return `…${text.slice(lo)}`;
}
