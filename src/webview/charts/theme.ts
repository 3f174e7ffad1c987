/**
 * Chart colours, read from VS Code's `--vscode-*` variables at draw time so a
 * theme change re-colours everything on the next draw. A standalone report
 * defines the same variables (media/standalone-theme.css).
 *
 *   const theme = readTheme();
 *   ctx.strokeStyle = theme.color('red');     // any ColorName
 *   theme.highContrast                         // draw borders around marks
 *   ctx.font = theme.font;                     // the workbench font, small size
 *   const stop = onThemeChange(() => redrawAll());
 *   const ramp = colorRamp(ctx, theme, ['blue', 'yellow', 'red'], 64); // [r, g, b] triples, for heat maps
 *   ctx.fillStyle = withAlpha(ctx, theme.color('red'), 0.2);            // translucent shading
 *
 * Series colours for several runs: SERIES_COLORS[i % SERIES_COLORS.length].
 */

export type ColorName =
  | 'red'
  | 'blue'
  | 'green'
  | 'yellow'
  | 'orange'
  | 'purple'
  | 'foreground'
  | 'background'
  | 'muted'
  | 'grid'
  | 'border'
  | 'focus'
  | 'error'
  | 'warning';

/** Run colours in compare mode, in order. */
export const SERIES_COLORS: readonly ColorName[] = ['blue', 'orange', 'green', 'purple', 'yellow', 'red'];

/** Each colour's variables, most specific first; the last resort is the page's text colour. */
const VARIABLES: Record<ColorName, readonly string[]> = {
  red: ['--vscode-charts-red', '--vscode-errorForeground'],
  blue: ['--vscode-charts-blue', '--vscode-focusBorder'],
  green: ['--vscode-charts-green'],
  yellow: ['--vscode-charts-yellow', '--vscode-editorWarning-foreground'],
  orange: ['--vscode-charts-orange', '--vscode-editorWarning-foreground'],
  purple: ['--vscode-charts-purple'],
  foreground: ['--vscode-editor-foreground', '--vscode-foreground'],
  background: ['--vscode-editor-background'],
  muted: ['--vscode-descriptionForeground', '--vscode-charts-foreground', '--vscode-foreground'],
  grid: ['--vscode-charts-lines', '--vscode-editorWidget-border', '--vscode-descriptionForeground'],
  border: ['--vscode-contrastBorder', '--vscode-editorWidget-border', '--vscode-charts-lines'],
  focus: ['--vscode-focusBorder'],
  error: ['--vscode-errorForeground', '--vscode-charts-red'],
  warning: ['--vscode-editorWarning-foreground', '--vscode-charts-yellow'],
};

export interface ChartTheme {
  color(name: ColorName): string;
  /** A VS Code high-contrast theme: marks get borders, shading gets outlines. */
  readonly highContrast: boolean;
  /** Canvas font for labels. */
  readonly font: string;
  readonly fontSize: number;
}

export function readTheme(): ChartTheme {
  const root = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const lookup = (name: string): string => body.getPropertyValue(name).trim() || root.getPropertyValue(name).trim();
  const cache = new Map<ColorName, string>();
  const color = (name: ColorName): string => {
    let value = cache.get(name);
    if (value === undefined) {
      value = VARIABLES[name].map(lookup).find((v) => v !== '') ?? (name === 'background' ? body.backgroundColor : body.color);
      cache.set(name, value);
    }
    return value;
  };
  const classes = document.body.classList;
  const highContrast = classes.contains('vscode-high-contrast') || classes.contains('vscode-high-contrast-light');
  const family = lookup('--vscode-font-family') || body.fontFamily;
  const fontSize = Math.max(10, Math.min(13, (parseFloat(lookup('--vscode-font-size')) || 13) - 2));
  return { color, highContrast, font: `${fontSize}px ${family}`, fontSize };
}

/**
 * Calls back when the theme may have changed: VS Code swaps the body's class
 * and the variables on <html>; a standalone page follows the system scheme.
 */
export function onThemeChange(callback: () => void): () => void {
  let pending = false;
  const notify = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      callback();
    });
  };
  const observer = new MutationObserver(notify);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', notify);
  return () => {
    observer.disconnect();
    scheme.removeEventListener('change', notify);
  };
}

/** A CSS colour as [r, g, b, a] (0–255, alpha 0–1), parsed by the canvas itself. */
export function toRgba(ctx: CanvasRenderingContext2D, color: string): [number, number, number, number] {
  ctx.fillStyle = '#000';
  ctx.fillStyle = color;
  const normal = String(ctx.fillStyle);
  if (normal.startsWith('#')) return [parseInt(normal.slice(1, 3), 16), parseInt(normal.slice(3, 5), 16), parseInt(normal.slice(5, 7), 16), 1];
  const parts = /rgba?\(([^)]+)\)/.exec(normal)?.[1].split(',').map((p) => Number(p.trim())) ?? [0, 0, 0, 1];
  return [parts[0], parts[1], parts[2], parts[3] ?? 1];
}

/** `steps` colours from the first stop to the last through the middle ones, as [r, g, b] triples. */
export function colorRamp(ctx: CanvasRenderingContext2D, theme: ChartTheme, stops: readonly ColorName[], steps: number): Array<[number, number, number]> {
  const rgb = stops.map((s) => toRgba(ctx, theme.color(s)));
  const ramp: Array<[number, number, number]> = [];
  for (let i = 0; i < steps; i++) {
    const t = (i / Math.max(1, steps - 1)) * (rgb.length - 1);
    const k = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - k;
    const a = rgb[k];
    const b = rgb[k + 1];
    ramp.push([Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)]);
  }
  return ramp;
}

/** The colour with an alpha, for shading. */
export function withAlpha(ctx: CanvasRenderingContext2D, color: string, alpha: number): string {
  const [r, g, b, a] = toRgba(ctx, color);
  return `rgba(${r}, ${g}, ${b}, ${a * alpha})`;
}
