/**
 * The 2-D example: a gradient g, its value-clipped version (each component
 * clamped to ±τ: g is pushed onto the square) and its norm-clipped version
 * (scaled onto the circle of radius τ), drawn as arrows from the origin.
 * Click (or focus and use the arrow keys) to move g.
 */
import { PLAYGROUND_LIMITS, type Clipping2dResult } from '../../protocol/playground';
import { withAlpha, type ColorName } from '../charts/theme';
import { arrow, Plane, strokeWithHalo, type PlaneView } from './plane';

export const ARROW_COLORS = { raw: 'foreground', value: 'orange', norm: 'blue' } as const satisfies Record<string, ColorName>;
const EXTENT = PLAYGROUND_LIMITS.vector.max + 0.5;

export class ClipPlane {
  private example: Clipping2dResult | undefined;
  private readonly plane: Plane;

  /** `current` is the g the sliders hold now (the drawn one may be a request behind). */
  constructor(parent: HTMLElement, current: () => { x: number; y: number }, moveVector: (vector: { x: number; y: number }) => void) {
    const move = (x: number, y: number): void => {
      const { min, max } = PLAYGROUND_LIMITS.vector;
      const clamp = (v: number): number => Math.min(max, Math.max(min, Math.round(v * 10) / 10));
      moveVector({ x: clamp(x), y: clamp(y) });
    };
    this.plane = new Plane(parent, {
      name: 'A 2-D gradient g with its value-clipped and norm-clipped versions. Click or use the arrow keys to move g.',
      className: 'clip-plane',
      margin: { left: 40, right: 12, top: 10, bottom: 40 },
      axisNames: { x: 'g₁', y: 'g₂' },
      equalAspect: true,
      domain: () => (this.example ? { x: [-EXTENT, EXTENT], y: [-EXTENT, EXTENT] } : undefined),
      paint: (view) => this.paint(view),
      pick: (point) => move(point.x, point.y),
      nudge: (dx, dy) => move(current().x + dx * 0.1, current().y + dy * 0.1),
    });
  }

  get element(): HTMLElement {
    return this.plane.element;
  }

  set(example: Clipping2dResult): void {
    this.example = example;
    this.plane.redraw();
  }

  private paint(view: PlaneView): void {
    const e = this.example!;
    const { ctx, theme, x, y } = view;
    const origin: [number, number] = [x.map(0), y.map(0)];
    const at = (v: { x: number; y: number }): [number, number] => [x.map(v.x), y.map(v.y)];
    const radius = x.map(e.threshold) - origin[0];
    // Where each clipping puts a gradient: the square |g_i| ≤ τ, the disc ‖g‖ ≤ τ.
    ctx.fillStyle = withAlpha(ctx, theme.color(ARROW_COLORS.value), theme.highContrast ? 0.3 : 0.12);
    ctx.fillRect(origin[0] - radius, origin[1] - radius, 2 * radius, 2 * radius);
    strokeWithHalo(view, ARROW_COLORS.value, 1, () => ctx.rect(origin[0] - radius, origin[1] - radius, 2 * radius, 2 * radius), [4, 3]);
    strokeWithHalo(view, ARROW_COLORS.norm, 1, () => ctx.arc(origin[0], origin[1], radius, 0, Math.PI * 2), [4, 3]);
    ctx.strokeStyle = theme.color('grid');
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(view.box.left, origin[1]);
    ctx.lineTo(view.box.right, origin[1]);
    ctx.moveTo(origin[0], view.box.top);
    ctx.lineTo(origin[0], view.box.bottom);
    ctx.stroke();
    arrow(view, ARROW_COLORS.raw, origin, at(e.vector), 2.5);
    arrow(view, ARROW_COLORS.value, origin, at(e.valueClipped), 2);
    arrow(view, ARROW_COLORS.norm, origin, at(e.normClipped), 2);
  }
}
