/**
 * A canvas with two numeric axes (the loss surface over (w, b), the 2-D
 * gradient plane), on top of the shared chart primitives: HiDPI surface,
 * theme colours, scales, one draw per frame, redraw on resize and theme change.
 */
import { clearFrame, insetBox, redrawOnResizeAndTheme, requestDraw } from '../charts/frame';
import { formatNumber, linearScale, type Scale } from '../charts/scale';
import { createSurface, type Surface } from '../charts/surface';
import type { ChartTheme, ColorName } from '../charts/theme';
import type { PlotBox } from '../charts/x-axis';

export interface PlaneView {
  ctx: CanvasRenderingContext2D;
  theme: ChartTheme;
  box: PlotBox;
  x: Scale;
  y: Scale;
}

export interface PlaneOptions {
  /** For screen readers, with how to use the keyboard. */
  name: string;
  className: string;
  margin: { left: number; right: number; top: number; bottom: number };
  axisNames: { x: string; y: string };
  /** Same units per pixel on both axes (a circle stays round). */
  equalAspect?: boolean;
  /** The domains to show, or undefined when there is nothing to draw yet. */
  domain(): { x: [number, number]; y: [number, number] } | undefined;
  /** Draws the content inside the axes. */
  paint(view: PlaneView): void;
  /** The pointer pressed and released (without moving) at this point, in data units. */
  pick?(point: { x: number; y: number }): void;
  /** The pointer is over this point (data units), or left. */
  hover?(point: { x: number; y: number } | null): void;
  /** An arrow key while focused: a unit move (dx, dy), each −1, 0 or 1, in data directions. */
  nudge?(dx: number, dy: number): void;
}

const CLICK_SLOP_PX = 4;

export class Plane {
  readonly element: HTMLElement;
  private readonly surface: Surface;
  private view: PlaneView | undefined;

  constructor(
    parent: HTMLElement,
    private readonly options: PlaneOptions,
  ) {
    this.element = document.createElement('div');
    this.element.className = `chart plane ${options.className}`;
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'img');
    this.element.setAttribute('aria-label', options.name);
    parent.append(this.element);
    this.surface = createSurface(this.element, 'chart-canvas');
    redrawOnResizeAndTheme(this.element, this);
    this.listen();
  }

  redraw(): void {
    requestDraw(this);
  }

  draw(): void {
    const theme = clearFrame(this.surface);
    const { ctx } = this.surface;
    const domain = this.options.domain();
    if (!domain) {
      this.view = undefined;
      return;
    }
    let box: PlotBox = insetBox(this.surface, this.options.margin);
    if (this.options.equalAspect) {
      const side = Math.min(box.right - box.left, box.bottom - box.top);
      const left = box.left + (box.right - box.left - side) / 2;
      box = { left, top: box.top, right: left + side, bottom: box.top + side };
    }
    const view: PlaneView = { ctx, theme, box, x: linearScale(domain.x, [box.left, box.right]), y: linearScale(domain.y, [box.bottom, box.top]) };
    this.view = view;
    this.options.paint(view);
    drawAxes(view, this.options.axisNames);
  }

  private pointAt(event: PointerEvent): { x: number; y: number } | undefined {
    const v = this.view;
    if (!v) return undefined;
    const rect = this.element.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    if (px < v.box.left || px > v.box.right || py < v.box.top || py > v.box.bottom) return undefined;
    return { x: v.x.invert(px), y: v.y.invert(py) };
  }

  private listen(): void {
    let pressed: { x: number; y: number } | undefined;
    this.element.addEventListener('pointerdown', (e) => (pressed = { x: e.clientX, y: e.clientY }));
    this.element.addEventListener('pointerup', (e) => {
      const still = pressed && Math.hypot(e.clientX - pressed.x, e.clientY - pressed.y) <= CLICK_SLOP_PX;
      pressed = undefined;
      const point = this.pointAt(e);
      if (still && point) this.options.pick?.(point);
    });
    this.element.addEventListener('pointermove', (e) => {
      this.options.hover?.(this.pointAt(e) ?? null);
    });
    this.element.addEventListener('pointerleave', () => {
      this.options.hover?.(null);
    });
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    this.element.addEventListener('keydown', (e) => {
      const move = arrows[e.key];
      if (!move || !this.options.nudge) return;
      e.preventDefault();
      this.options.nudge(move[0], move[1]);
    });
  }
}

function drawAxes({ ctx, theme, box, x, y }: PlaneView, names: { x: string; y: string }): void {
  ctx.strokeStyle = theme.color(theme.highContrast ? 'border' : 'grid');
  ctx.lineWidth = 1;
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.right - box.left - 1, box.bottom - box.top - 1);
  ctx.fillStyle = theme.color('muted');
  ctx.strokeStyle = theme.color('grid');
  ctx.beginPath();
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const tick of x.ticks(Math.max(2, Math.floor((box.right - box.left) / 50)))) {
    const px = Math.round(x.map(tick)) + 0.5;
    ctx.moveTo(px, box.bottom);
    ctx.lineTo(px, box.bottom + 4);
    ctx.fillText(formatNumber(tick), px, box.bottom + 5);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const tick of y.ticks(Math.max(2, Math.floor((box.bottom - box.top) / 40)))) {
    const py = Math.round(y.map(tick)) + 0.5;
    ctx.moveTo(box.left - 4, py);
    ctx.lineTo(box.left, py);
    ctx.fillText(formatNumber(tick), box.left - 6, py);
  }
  ctx.stroke();
  ctx.fillStyle = theme.color('foreground');
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(names.x, (box.left + box.right) / 2, box.bottom + 8 + theme.fontSize);
  ctx.save();
  ctx.translate(box.left - 30, (box.top + box.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'bottom';
  ctx.fillText(names.y, 0, 0);
  ctx.restore();
}

/** A polyline with a halo in the background colour, so it reads on any fill. */
export function strokeWithHalo(view: PlaneView, color: ColorName, width: number, trace: () => void, dash: number[] = []): void {
  const { ctx, theme } = view;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  ctx.setLineDash(dash);
  for (const [c, w] of [['background', width + 2.5], [color, width]] as const) {
    ctx.strokeStyle = theme.color(c);
    ctx.lineWidth = w * (theme.highContrast ? 1.5 : 1);
    ctx.beginPath();
    trace();
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** An arrow from (x0, y0) to (x1, y1) in pixels, with its head at the end. */
export function arrow(view: PlaneView, color: ColorName, from: [number, number], to: [number, number], width = 2): void {
  const [x0, y0] = from;
  const [x1, y1] = to;
  const length = Math.hypot(x1 - x0, y1 - y0);
  if (!(length > 0)) return;
  const head = Math.min(10, length * 0.4);
  const ux = (x1 - x0) / length;
  const uy = (y1 - y0) / length;
  const back: [number, number] = [x1 - ux * head, y1 - uy * head];
  strokeWithHalo(view, color, width, () => {
    view.ctx.moveTo(x0, y0);
    view.ctx.lineTo(back[0], back[1]);
  });
  const { ctx, theme } = view;
  ctx.fillStyle = theme.color(color);
  ctx.strokeStyle = theme.color('background');
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(back[0] - uy * head * 0.5, back[1] + ux * head * 0.5);
  ctx.lineTo(back[0] + uy * head * 0.5, back[1] - ux * head * 0.5);
  ctx.closePath();
  ctx.stroke();
  ctx.fill();
}
