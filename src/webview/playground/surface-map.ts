/**
 * The loss surface of the one-unit RNN over (w, b), colour = log10 of the
 * loss, with the two gradient-descent paths from the same start. A path that
 * leaves the map is drawn to the edge, with an arrowhead and where it landed.
 * Click (or focus and use the arrow keys) to move the start.
 */
import { gridValue, PLAYGROUND_LIMITS, type GradientPath, type GridAxis, type SurfaceResult } from '../../protocol/playground';
import { formatNumber } from '../charts/scale';
import { colorRamp, type ColorName } from '../charts/theme';
import { arrow, Plane, strokeWithHalo, type PlaneView } from './plane';

const RAMP: readonly ColorName[] = ['purple', 'blue', 'green', 'yellow'];
const RAMP_STEPS = 96;
/** Cells whose gradient norm is this many times the map's median are outlined: the wall. */
export const WALL_FACTOR = 1000;
/** Colours span at most this many decades below the highest loss: the valley's exact zeros would flatten the rest. */
const DECADES = 6;
const LEGEND = { gap: 10, width: 10 };
export const PATH_COLORS = { raw: 'red', clipped: 'foreground' } as const satisfies Record<string, ColorName>;

/** Half a cell: the map's cells are centred on the grid nodes. */
const halfCell = (axis: GridAxis): number => (axis.max - axis.min) / (axis.count - 1) / 2;

export interface SurfaceMapOptions {
  /** The start the sliders hold now (the drawn one may be a request behind). */
  start(): { w: number; b: number };
  /** The user moved the start of the paths. */
  moveStart(start: { w: number; b: number }): void;
  /** Shows the value under the pointer (text), or hides it with null. */
  showHover(text: string | null): void;
}

export class SurfaceMap {
  private surface: SurfaceResult | undefined;
  private readonly plane: Plane;

  constructor(parent: HTMLElement, private readonly options: SurfaceMapOptions) {
    this.plane = new Plane(parent, {
      name: 'Loss surface of the one-unit RNN over w and b (log colour) with gradient-descent paths. Click or use the arrow keys to move the start.',
      className: 'surface-map',
      margin: { left: 46, right: 84, top: 10, bottom: 40 },
      axisNames: { x: 'w (recurrent weight)', y: 'b (bias)' },
      domain: () => {
        const s = this.surface;
        if (!s) return undefined;
        return { x: [s.w.min - halfCell(s.w), s.w.max + halfCell(s.w)], y: [s.b.min - halfCell(s.b), s.b.max + halfCell(s.b)] };
      },
      paint: (view) => this.paint(view),
      pick: (point) => this.moveTo(point.x, point.y),
      hover: (point) => this.options.showHover(point ? this.describe(point.x, point.y) : null),
      nudge: (dx, dy) => this.moveTo(options.start().w + dx * 0.1, options.start().b + dy * 0.1),
    });
  }

  get element(): HTMLElement {
    return this.plane.element;
  }

  set(surface: SurfaceResult): void {
    this.surface = surface;
    this.plane.redraw();
  }

  private moveTo(w: number, b: number): void {
    const { w: wLimits, b: bLimits } = PLAYGROUND_LIMITS.start;
    const round = (v: number, limits: { min: number; max: number }): number => Math.min(limits.max, Math.max(limits.min, Math.round(v * 100) / 100));
    this.options.moveStart({ w: round(w, wLimits), b: round(b, bLimits) });
  }

  /** The grid node nearest to (w, b), as text. */
  private describe(w: number, b: number): string | null {
    const s = this.surface;
    if (!s) return null;
    const index = (axis: GridAxis, v: number): number => Math.min(axis.count - 1, Math.max(0, Math.round(((v - axis.min) / (axis.max - axis.min)) * (axis.count - 1))));
    const i = index(s.w, w);
    const j = index(s.b, b);
    const k = j * s.w.count + i;
    return `w ${formatNumber(gridValue(s.w, i))}, b ${formatNumber(gridValue(s.b, j))}: loss ${formatNumber(s.loss[k])}, ‖∇L‖ ${formatNumber(s.gradNorm[k])}`;
  }

  private paint(view: PlaneView): void {
    const s = this.surface!;
    const { ctx, theme, box } = view;
    let hi = -Infinity;
    let lo = Infinity;
    for (const v of s.loss) {
      if (v > 0 && v < Infinity) {
        hi = Math.max(hi, v);
        lo = Math.min(lo, v);
      }
    }
    const logHi = Math.log10(hi);
    const logLo = Math.max(Math.log10(lo), logHi - DECADES);
    const ramp = colorRamp(ctx, theme, RAMP, RAMP_STEPS);
    const image = new ImageData(s.w.count, s.b.count);
    for (let j = 0; j < s.b.count; j++) {
      for (let i = 0; i < s.w.count; i++) {
        const v = s.loss[j * s.w.count + i];
        const level = Number.isFinite(v) && v > 0 ? (Math.log10(v) - logLo) / (logHi - logLo) : 0;
        const [r, g, b] = ramp[Math.round(Math.min(1, Math.max(0, level)) * (RAMP_STEPS - 1))];
        const p = ((s.b.count - 1 - j) * s.w.count + i) * 4; // the image's first row is the top: the largest b
        image.data.set([r, g, b, 255], p);
      }
    }
    const bitmap = document.createElement('canvas');
    bitmap.width = s.w.count;
    bitmap.height = s.b.count;
    bitmap.getContext('2d')?.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, box.left, box.top, box.right - box.left, box.bottom - box.top);
    drawLegend(view, ramp, logLo, logHi);
    outlineWall(view, s);

    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
    ctx.clip();
    if (s.clipped) drawPath(view, s.clipped, PATH_COLORS.clipped);
    drawPath(view, s.raw, PATH_COLORS.raw);
    ctx.restore();
    for (const path of [s.raw, s.clipped]) if (path) markLanding(view, path, PATH_COLORS[path === s.raw ? 'raw' : 'clipped']);
    const start: [number, number] = [view.x.map(s.raw.w[0]), view.y.map(s.raw.b[0])];
    ctx.fillStyle = theme.color('foreground');
    ctx.strokeStyle = theme.color('background');
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(start[0], start[1], 5, 0, Math.PI * 2);
    ctx.stroke();
    ctx.fill();
  }
}

function outlineWall({ ctx, theme, x, y }: PlaneView, s: SurfaceResult): void {
  const sorted = Float64Array.from(s.gradNorm).sort();
  const limit = WALL_FACTOR * sorted[sorted.length >> 1];
  ctx.strokeStyle = theme.color('foreground');
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let j = 0; j < s.b.count; j++) {
    for (let i = 0; i < s.w.count; i++) {
      if (!(s.gradNorm[j * s.w.count + i] > limit)) continue;
      const [w, b] = [gridValue(s.w, i), gridValue(s.b, j)];
      const left = x.map(w - halfCell(s.w));
      const top = y.map(b + halfCell(s.b));
      ctx.rect(left + 0.5, top + 0.5, x.map(w + halfCell(s.w)) - left - 1, y.map(b - halfCell(s.b)) - top - 1);
    }
  }
  ctx.stroke();
}

function drawPath(view: PlaneView, path: GradientPath, color: ColorName): void {
  const { ctx, theme, x, y } = view;
  strokeWithHalo(view, color, 2, () => {
    for (let k = 0; k < path.w.length; k++) {
      if (k === 0) ctx.moveTo(x.map(path.w[k]), y.map(path.b[k]));
      else ctx.lineTo(x.map(path.w[k]), y.map(path.b[k]));
    }
  });
  ctx.fillStyle = theme.color(color);
  for (let k = 1; k < path.w.length; k++) {
    ctx.beginPath();
    ctx.arc(x.map(path.w[k]), y.map(path.b[k]), 2, 0, Math.PI * 2);
    ctx.fill();
  }
}

/** Where a path ends off the map: an arrowhead where it leaves, and the point it reached. */
function markLanding(view: PlaneView, path: GradientPath, color: ColorName): void {
  const { ctx, theme, box, x, y } = view;
  const inside = (k: number): boolean => {
    const px = x.map(path.w[k]);
    const py = y.map(path.b[k]);
    return px >= box.left && px <= box.right && py >= box.top && py <= box.bottom;
  };
  const last = path.w.length - 1;
  if (inside(last)) return;
  let k = last;
  while (k > 0 && !inside(k - 1)) k--;
  if (k === 0) return;
  const from: [number, number] = [x.map(path.w[k - 1]), y.map(path.b[k - 1])];
  const to: [number, number] = [x.map(path.w[k]), y.map(path.b[k])];
  const exit = edgeCrossing(from, to, box);
  arrow(view, color, from, exit, 2);
  const label = `→ (${formatNumber(path.w[last])}, ${formatNumber(path.b[last])}), loss ${formatNumber(path.loss[last])}`;
  ctx.font = theme.font;
  const width = ctx.measureText(label).width;
  const lx = Math.min(box.right - width - 4, Math.max(box.left + 4, exit[0] - width / 2));
  const ly = Math.min(box.bottom - 6, Math.max(box.top + theme.fontSize + 4, exit[1] + (exit[1] <= box.top + 1 ? theme.fontSize + 8 : -8)));
  ctx.fillStyle = theme.color('background');
  ctx.fillRect(lx - 3, ly - theme.fontSize - 1, width + 6, theme.fontSize + 5);
  ctx.fillStyle = theme.color(color);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(label, lx, ly);
}

/** The point where the segment from an inside point to an outside one crosses the box's edge. */
function edgeCrossing(from: [number, number], to: [number, number], box: { left: number; right: number; top: number; bottom: number }): [number, number] {
  const dx = to[0] - from[0];
  const dy = to[1] - from[1];
  let t = 1;
  if (dx > 0) t = Math.min(t, (box.right - from[0]) / dx);
  if (dx < 0) t = Math.min(t, (box.left - from[0]) / dx);
  if (dy > 0) t = Math.min(t, (box.bottom - from[1]) / dy);
  if (dy < 0) t = Math.min(t, (box.top - from[1]) / dy);
  return [from[0] + dx * t, from[1] + dy * t];
}

/** A vertical colour bar beside the map with the loss at its ends. */
function drawLegend({ ctx, theme, box }: PlaneView, ramp: Array<[number, number, number]>, logLo: number, logHi: number): void {
  const x = box.right + LEGEND.gap;
  const height = box.bottom - box.top;
  for (let i = 0; i < height; i++) {
    const [r, g, b] = ramp[Math.round(((height - 1 - i) / Math.max(1, height - 1)) * (RAMP_STEPS - 1))];
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(x, box.top + i, LEGEND.width, 1);
  }
  ctx.fillStyle = theme.color('muted');
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(formatNumber(10 ** logHi), x + LEGEND.width + 4, box.top);
  ctx.textBaseline = 'bottom';
  ctx.fillText(formatNumber(10 ** logLo), x + LEGEND.width + 4, box.bottom);
  ctx.textBaseline = 'middle';
  ctx.fillText('loss', x + LEGEND.width + 4, (box.top + box.bottom) / 2);
}
