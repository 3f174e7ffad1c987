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

/** A chart's box: its container, a base canvas and a hover readout. */
export interface ChartShell {
  readonly element: HTMLElement;
  readonly base: Surface;
  readonly readout: HTMLElement;
}

/** An interactive chart's box: focusable, with a second canvas for the cursor and the selection. */
export interface InteractiveChartShell extends ChartShell {
  readonly overlay: Surface;
}

function shell(parent: HTMLElement, className: string, interactive: boolean): ChartShell & { overlay?: Surface } {
  const element = document.createElement('div');
  element.className = className.trim();
  if (interactive) element.tabIndex = 0;
  element.setAttribute('role', 'img');
  parent.append(element);
  const base = createSurface(element, 'chart-canvas');
  const overlay = interactive ? createSurface(element, 'chart-overlay') : undefined;
  const readout = document.createElement('div');
  readout.className = 'chart-readout';
  readout.hidden = true;
  element.append(readout);
  return { element, base, readout, overlay };
}

export function createChartShell(parent: HTMLElement, className: string): ChartShell {
  return shell(parent, className, false);
}

export function createInteractiveChartShell(parent: HTMLElement, className: string): InteractiveChartShell {
  const { element, base, readout, overlay } = shell(parent, className, true);
  return { element, base, readout, overlay: overlay! };
}
