/**
 * A canvas sized to its box at the device's pixel ratio, so lines stay sharp
 * on HiDPI screens. Drawing code works in CSS pixels.
 *
 *   const surface = createSurface(parentElement, 'chart-canvas');
 *   surface.fit();                       // resizes the backing store; true when it changed
 *   surface.ctx.fillRect(0, 0, surface.width, surface.height);
 *   const stop = observeSize(parentElement, () => chart.draw());
 *
 * The canvas's CSS size comes from the style sheet (width 100 %, a height per
 * chart class); `fit` reads it.
 */

export interface Surface {
  readonly canvas: HTMLCanvasElement;
  readonly ctx: CanvasRenderingContext2D;
  /** CSS pixels. */
  readonly width: number;
  readonly height: number;
  /** Matches the backing store to the CSS box and the pixel ratio; true when the size changed. */
  fit(): boolean;
}

export function createSurface(parent: HTMLElement, className: string): Surface {
  const canvas = document.createElement('canvas');
  canvas.className = className;
  parent.append(canvas);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('canvas 2d context unavailable');
  const ctx = context;
  let width = 0;
  let height = 0;
  let ratio = 0;
  return {
    canvas,
    ctx,
    get width() {
      return width;
    },
    get height() {
      return height;
    },
    fit() {
      const w = Math.max(1, Math.floor(canvas.clientWidth));
      const h = Math.max(1, Math.floor(canvas.clientHeight));
      const r = window.devicePixelRatio || 1;
      const changed = w !== width || h !== height || r !== ratio;
      if (changed) {
        width = w;
        height = h;
        ratio = r;
        canvas.width = Math.round(w * r);
        canvas.height = Math.round(h * r);
      }
      ctx.setTransform(r, 0, 0, r, 0, 0);
      return changed;
    },
  };
}

/** Calls back (at most once per frame) when the element's box changes size. */
export function observeSize(element: HTMLElement, callback: () => void): () => void {
  let lastWidth = -1;
  let lastHeight = -1;
  const observer = new ResizeObserver((entries) => {
    const box = entries[entries.length - 1].contentRect;
    if (box.width === lastWidth && box.height === lastHeight) return;
    lastWidth = box.width;
    lastHeight = box.height;
    callback();
  });
  observer.observe(element);
  return () => observer.disconnect();
}
