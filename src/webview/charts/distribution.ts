/**
 * A histogram of positive values on a log10 axis, with labelled vertical
 * markers (mean, percentiles, a threshold).
 *
 *   const chart = new DistributionChart(parent, { name: 'Distribution of the total gradient norm', unit: 'steps' });
 *   chart.set(values, [{ value: 3.38, color: 'green', label: 'recommended 3.38' }]);
 *   chart.dispose();   // stops observing size and theme
 *
 * Non-finite and non-positive values are left out (the caller says how many).
 * Hovering a bar shows its range and count as text.
 */
import { clearFrame, insetBox, redrawOnResizeAndTheme, requestDraw } from './frame';
import { GrownFold, positiveExtents } from './grown';
import { formatNumber, logScale, niceExtent } from './scale';
import { createChartShell, type Surface } from './surface';
import { withAlpha, type ColorName } from './theme';
import type { PlotBox } from './x-axis';

export interface ValueMarker {
  value: number;
  color: ColorName;
  label: string;
}

export interface DistributionOptions {
  name: string;
  /** What a bar counts: "steps". */
  unit: string;
  className?: string;
}

const MARGIN = { left: 54, right: 16, top: 8, bottom: 20 };
const LABEL_ROW = 14;
const BINS = 48;

/** Counts of the positive finite values per log-spaced bin over the domain in the key ("lo hi"), kept as a live series grows. */
const histograms = new GrownFold<{ bins: { start: number; width: number }; counts: Float64Array }>(
  (key) => {
    const [lo, hi] = key.split(' ').map(Number);
    const start = Math.log10(lo);
    return { bins: { start, width: (Math.log10(hi) - start) / BINS }, counts: new Float64Array(BINS) };
  },
  ({ bins: { start, width }, counts }, values, from, to) => {
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (!(v > 0 && v < Infinity)) continue;
      counts[Math.min(BINS - 1, Math.max(0, Math.floor((Math.log10(v) - start) / width)))]++;
    }
  },
);

export class DistributionChart {
  readonly element: HTMLElement;
  private readonly surface: Surface;
  private readonly readout: HTMLElement;
  private counts: Float64Array = new Float64Array(0);
  /** log10 of the first bin's start and of the bin width. */
  private bins = { start: 0, width: 1 };
  private markers: ValueMarker[] = [];
  private domain: [number, number] | undefined;
  private readonly stops: Array<() => void>;

  constructor(
    parent: HTMLElement,
    private readonly options: DistributionOptions,
  ) {
    ({ element: this.element, base: this.surface, readout: this.readout } = createChartShell(parent, `chart distribution ${options.className ?? ''}`));
    this.element.setAttribute('aria-label', options.name);
    this.stops = redrawOnResizeAndTheme(this.element, this);
    this.element.addEventListener('pointermove', (e) => this.hover(e.clientX - this.element.getBoundingClientRect().left));
    this.element.addEventListener('pointerleave', () => (this.readout.hidden = true));
  }

  set(values: Float64Array, markers: ValueMarker[]): void {
    let { min: lo, max: hi } = positiveExtents.of(values, undefined);
    for (const m of markers) {
      if (m.value > 0 && Number.isFinite(m.value)) {
        lo = Math.min(lo, m.value);
        hi = Math.max(hi, m.value);
      }
    }
    this.markers = markers;
    this.domain = niceExtent(lo, hi, 'log');
    if (this.domain) {
      const histogram = histograms.of(values, undefined, `${this.domain[0]} ${this.domain[1]}`);
      this.bins = histogram.bins;
      this.counts = histogram.counts;
    } else this.counts = new Float64Array(BINS);
    requestDraw(this);
  }

  dispose(): void {
    for (const stop of this.stops) stop();
    this.element.remove();
  }

  private plotBox(): PlotBox {
    const labelRows = Math.min(this.markers.length, 3);
    return { ...insetBox(this.surface, MARGIN), top: MARGIN.top + labelRows * LABEL_ROW };
  }

  draw(): void {
    const theme = clearFrame(this.surface);
    const { ctx } = this.surface;
    const box = this.plotBox();
    if (!this.domain) {
      ctx.fillStyle = theme.color('muted');
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('No finite values', (box.left + box.right) / 2, (box.top + box.bottom) / 2);
      return;
    }
    const x = logScale(this.domain, [box.left, box.right]);
    const peak = Math.max(1, ...this.counts);
    const barHeight = (count: number): number => (count / peak) * (box.bottom - box.top);

    ctx.strokeStyle = theme.color('grid');
    ctx.fillStyle = theme.color('muted');
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.beginPath();
    for (const tick of x.ticks(Math.max(2, Math.floor((box.right - box.left) / 70)))) {
      const px = Math.round(x.map(tick)) + 0.5;
      ctx.moveTo(px, box.top);
      ctx.lineTo(px, box.bottom);
      ctx.fillText(formatNumber(tick), px, box.bottom + 5);
    }
    ctx.moveTo(box.left, box.bottom + 0.5);
    ctx.lineTo(box.right, box.bottom + 0.5);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(String(peak), box.left - 6, box.top + 4);
    ctx.fillText('0', box.left - 6, box.bottom);

    const bar = theme.color('blue');
    ctx.fillStyle = withAlpha(ctx, bar, 0.75);
    ctx.strokeStyle = theme.highContrast ? theme.color('border') : bar;
    for (let i = 0; i < BINS; i++) {
      if (this.counts[i] === 0) continue;
      const a = x.map(10 ** (this.bins.start + i * this.bins.width));
      const b = x.map(10 ** (this.bins.start + (i + 1) * this.bins.width));
      const h = Math.max(1, barHeight(this.counts[i]));
      ctx.fillRect(a + 0.5, box.bottom - h, Math.max(1, b - a - 1), h);
      if (theme.highContrast) ctx.strokeRect(a + 0.5, box.bottom - h, Math.max(1, b - a - 1), h);
    }

    // Marker labels take the first of three rows where they do not overlap an earlier label.
    const rowsEnd = [-Infinity, -Infinity, -Infinity];
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    for (const m of [...this.markers].sort((p, q) => p.value - q.value)) {
      if (!(m.value > 0 && Number.isFinite(m.value))) continue;
      const px = Math.round(x.map(m.value)) + 0.5;
      ctx.strokeStyle = ctx.fillStyle = theme.color(m.color);
      ctx.lineWidth = theme.highContrast ? 2 : 1.25;
      ctx.beginPath();
      ctx.moveTo(px, box.top);
      ctx.lineTo(px, box.bottom);
      ctx.stroke();
      const width = ctx.measureText(m.label).width;
      const tx = Math.min(px + 2, this.surface.width - width - 2);
      const row = rowsEnd.findIndex((end) => tx > end + 4);
      if (row < 0) continue;
      ctx.fillText(m.label, tx, MARGIN.top + row * LABEL_ROW);
      rowsEnd[row] = tx + width;
    }
  }

  private hover(px: number): void {
    const box = this.plotBox();
    if (!this.domain || px < box.left || px > box.right) {
      this.readout.hidden = true;
      return;
    }
    const value = logScale(this.domain, [box.left, box.right]).invert(px);
    const i = Math.min(BINS - 1, Math.max(0, Math.floor((Math.log10(value) - this.bins.start) / this.bins.width)));
    const from = 10 ** (this.bins.start + i * this.bins.width);
    const to = 10 ** (this.bins.start + (i + 1) * this.bins.width);
    this.readout.textContent = `${formatNumber(from)} – ${formatNumber(to)}: ${this.counts[i]} ${this.options.unit}`;
    this.readout.hidden = false;
    const width = this.readout.offsetWidth;
    this.readout.style.left = `${Math.max(0, px + 12 + width > this.surface.width ? px - 12 - width : px + 12)}px`;
    this.readout.style.top = `${box.top}px`;
  }
}
