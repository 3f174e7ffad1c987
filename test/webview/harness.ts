/**
 * The webview bundle in real headless Chromium, with a stand-in for the part
 * of VS Code a webview talks to.
 *
 *   const harness = await launchHarness();                     // one browser per test file
 *   const view = await harness.open('dashboard');              // or 'playground'; { state } to start as a reloaded panel
 *   await view.deliver({ type: 'show', runs });                // the host posts a message (wire-encoded, as the host does)
 *   await view.drawnAfter(() => view.deliver(message));        // …and wait until the charts have drawn it
 *   await view.canvasPixels('.chart-norm canvas', ['#3794ff']) // pixels read back from a canvas
 *   await view.call('tableText', 'table tbody tr')             // any helper of harness-page.js, the browser side
 *   (await view.posted())                                      // what the page posted, decoded
 *   await view.redrawnInTheme('light' | 'dark' | 'high-contrast');   // body class + the --vscode-* variables VS Code sets, then a frame drawn in it
 *   await view.screenshot('dashboard-dark');                   // test-results/screenshots/dashboard-dark.png
 *   const restored = await view.reload();                      // a new page given the state the old one saved
 *   await harness.close();
 *
 * The bundle is src/webview/main.ts built in memory by esbuild (once per
 * process); the page is renderPage's, with the script and styles inlined and
 * a fresh nonce, so the CSP is the panel's. `standalone: true` opens it the
 * way a report opens in a browser: no acquireVsCodeApi, data embedded.
 * `fixtureRuns(path)` reads a real log into RunPayloads in Node.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { diagnose } from '../../src/diagnosis/diagnose';
import { openRuns } from '../../src/logs/open';
import type { RunPayload } from '../../src/protocol/dashboard';
import { decodeWire, encodeWire } from '../../src/protocol/wire';
import { createNonce, PAGE_STYLE_SHEETS, renderPage, type PageOptions } from '../../src/report/page';
import { toRunPayload } from '../../src/report/payload';
import { FRAME_MEASURE } from '../../src/webview/charts/marks';
import { buildBundles } from '../bundles';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

/** A standalone report has no VS Code to define the theme variables. */
const STANDALONE_THEME = 'media/standalone-theme.css';

/** Only ever fulfilled by the route below: no request leaves the browser. */
const PAGE_URL = 'http://127.0.0.1/gradlens/webview.html';

let bundle: Promise<string> | undefined;

/** dist/webview.js as the build makes it, from the current sources. */
export function webviewBundle(): Promise<string> {
  bundle ??= fs.readFile(path.join(buildBundles(['webview']), 'webview.js'), 'utf8');
  return bundle;
}

export type ThemeKind = 'light' | 'dark' | 'high-contrast';

const BODY_CLASS: Record<ThemeKind, string> = { light: 'vscode-light', dark: 'vscode-dark', 'high-contrast': 'vscode-high-contrast' };

const FONT = {
  '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  '--vscode-editor-font-size': '14px',
};

/** The variables VS Code defines on <html> for its default themes (Dark Modern, Light Modern, Dark High Contrast): the ones GradLens reads, and their neighbours. */
export const THEME_VARIABLES: Record<ThemeKind, Record<string, string>> = {
  dark: {
    ...FONT,
    '--vscode-foreground': '#cccccc',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-errorForeground': '#f85149',
    '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-charts-foreground': '#cccccc',
    '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-list-hoverBackground': '#2a2d2e',
    '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-hoverBackground': '#026ec1',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-input-background': '#313131',
    '--vscode-input-foreground': '#cccccc',
    '--vscode-input-border': '#3c3c3c',
    '--vscode-dropdown-background': '#313131',
    '--vscode-dropdown-foreground': '#cccccc',
    '--vscode-dropdown-border': '#3c3c3c',
    '--vscode-badge-background': '#616161',
    '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-editorWidget-background': '#202020',
    '--vscode-editorWidget-border': '#313131',
    '--vscode-textLink-foreground': '#4daafc',
    '--vscode-textCodeBlock-background': '#2b2b2b',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
  },
  light: {
    ...FONT,
    '--vscode-foreground': '#3b3b3b',
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#3b3b3b',
    '--vscode-errorForeground': '#f85149',
    '--vscode-editorWarning-foreground': '#bf8803',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-charts-foreground': '#616161',
    '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90',
    '--vscode-list-hoverBackground': '#f2f2f2',
    '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-activeSelectionForeground': '#000000',
    '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-hoverBackground': '#0258a8',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-input-background': '#ffffff',
    '--vscode-input-foreground': '#3b3b3b',
    '--vscode-input-border': '#cecece',
    '--vscode-dropdown-background': '#ffffff',
    '--vscode-dropdown-foreground': '#3b3b3b',
    '--vscode-dropdown-border': '#cecece',
    '--vscode-badge-background': '#cccccc',
    '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-editorWidget-background': '#f8f8f8',
    '--vscode-editorWidget-border': '#e5e5e5',
    '--vscode-textLink-foreground': '#005fb8',
    '--vscode-textCodeBlock-background': '#f8f8f8',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
  },
  'high-contrast': {
    ...FONT,
    '--vscode-foreground': '#ffffff',
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
    '--vscode-errorForeground': '#f48771',
    '--vscode-editorWarning-foreground': '#ff0000',
    '--vscode-focusBorder': '#f38518',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-charts-foreground': '#ffffff',
    '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-yellow': '#ffd700',
    '--vscode-charts-orange': '#ff9900',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-list-hoverBackground': 'rgba(0, 0, 0, 0)',
    '--vscode-list-activeSelectionBackground': 'rgba(0, 0, 0, 0)',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-button-background': '#000000',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-border': '#6fc3df',
    '--vscode-button-secondaryBackground': '#000000',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-input-background': '#000000',
    '--vscode-input-foreground': '#ffffff',
    '--vscode-input-border': '#6fc3df',
    '--vscode-dropdown-background': '#000000',
    '--vscode-dropdown-foreground': '#ffffff',
    '--vscode-dropdown-border': '#6fc3df',
    '--vscode-badge-background': '#000000',
    '--vscode-badge-foreground': '#ffffff',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-editorWidget-background': '#0c141f',
    '--vscode-editorWidget-border': '#6fc3df',
    '--vscode-textLink-foreground': '#21a6ff',
    '--vscode-textCodeBlock-background': '#000000',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0)',
  },
};

/** The browser side (harness-page.js), as Node sees it. */
interface PixelCount {
  /** Pixels that differ from the background (the top-left pixel). */
  drawn: number;
  /** Pixels near each colour asked for. */
  near: number[];
  background: number[];
}

interface PageHarness {
  record: { posted: string[]; state?: unknown; alerts: string[] };
  installVsCodeApi(): void;
  applyTheme(bodyClass: string, variables: Record<string, string>): number;
  canvasPixels(selector: string, colors: string[], tolerance: number, rows?: number): PixelCount;
  canvasImages(selector: string): string[];
  tableText(selector: string): string[][];
  computedStyle(selector: string, property: string): string;
  timedClick(selector: string, text: string): number;
  laidOutSince(name: string, since: number): number;
  scrollToEdge(selector: string, end: boolean): Promise<number>;
  droppedMessages(): number;
  hasEntry(name: string, since: number): boolean;
  deliver(text: string): void;
  stage(piece: string): void;
  deliverStaged(): number;
  wheel(selector: string, share: number, deltaY: number): number;
  latestEntry(name: string): [number, number] | null;
}

type Method = { [K in keyof PageHarness]: PageHarness[K] extends (...args: never[]) => unknown ? K : never }[keyof PageHarness];

const PAGE_SCRIPT = path.join(__dirname, 'harness-page.js');

export interface OpenOptions {
  /** State handed back by the stand-in API, as after a reload. */
  state?: unknown;
  /** A report opened in a browser: no acquireVsCodeApi, the theme style sheet, and this wire text embedded. */
  standalone?: { data: string };
  theme?: ThemeKind;
  viewport?: { width: number; height: number };
}

export class WebviewPage {
  /** Errors thrown in the page. */
  readonly errors: string[] = [];

  constructor(
    readonly page: Page,
    private readonly reopen: (state: unknown) => Promise<WebviewPage>,
  ) {
    page.on('pageerror', (error) => this.errors.push(String(error)));
  }

  /** Calls a harness-page.js function in the page. */
  call<M extends Method>(method: M, ...args: Parameters<PageHarness[M]>): Promise<ReturnType<PageHarness[M]>> {
    return this.page.evaluate(
      ([name, values]) => {
        const harness = (globalThis as unknown as { gradlensHarness: Record<string, (...a: unknown[]) => unknown> }).gradlensHarness;
        return harness[name](...values);
      },
      [method, args as unknown[]] as const,
    ) as Promise<ReturnType<PageHarness[M]>>;
  }

  private record(): Promise<PageHarness['record']> {
    return this.page.evaluate(() => (globalThis as unknown as { gradlensHarness: PageHarness }).gradlensHarness.record);
  }

  /** Posts a host message to the page, encoded as the host does. */
  async deliver(message: unknown): Promise<void> {
    await this.deliverText(encodeWire(message));
  }

  /** Posts raw text (a malformed message, or a pre-encoded one). */
  async deliverText(text: string): Promise<void> {
    await this.call('deliver', text);
  }

  /**
   * Posts text too large for one call (a benchmark's run): hands it over in
   * pieces, then posts it at once. Returns the page's performance.now() just
   * before posting.
   */
  async deliverLarge(text: string, pieceChars = 1 << 24): Promise<number> {
    for (let i = 0; i < text.length; i += pieceChars) await this.call('stage', text.slice(i, i + pieceChars));
    return this.call('deliverStaged');
  }

  /** Everything the page posted to the host, decoded. */
  async posted(): Promise<unknown[]> {
    return (await this.record()).posted.map((t) => decodeWire(t));
  }

  async waitForPosted(predicate: (message: unknown) => boolean, timeoutMs = 5000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.posted()).find(predicate);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no posted message matched within ${timeoutMs} ms; posted: ${JSON.stringify(await this.posted())}`);
      await this.page.waitForTimeout(25);
    }
  }

  /** The state the page last saved with setState. */
  async state(): Promise<unknown> {
    return (await this.record()).state;
  }

  async alerts(): Promise<string[]> {
    return (await this.record()).alerts;
  }

  droppedMessages(): Promise<number> {
    return this.call('droppedMessages');
  }

  /** Runs the action, then waits until the charts have drawn a frame after it began. */
  async drawnAfter(action: () => Promise<unknown>): Promise<void> {
    const start = await this.page.evaluate(() => performance.now());
    await action();
    await this.waitForEntry(FRAME_MEASURE, start);
  }

  /** Waits for a performance mark or measure of this name that began at or after `since` (the page's performance.now()). */
  async waitForEntry(name: string, since = 0): Promise<void> {
    await this.page.waitForFunction(
      ([entry, after]) => (globalThis as unknown as { gradlensHarness: PageHarness }).gradlensHarness.hasEntry(entry, after),
      [name, since] as const,
    );
  }

  /**
   * Reads back a canvas (the first match of `selector`): how many pixels differ
   * from its top-left pixel (the chart's background), and how many lie within
   * `tolerance` of each colour ('#rrggbb'); only the top `rows` pixel rows when given.
   */
  canvasPixels(selector: string, colors: string[] = [], tolerance = 24, rows?: number): Promise<PixelCount> {
    return this.call('canvasPixels', selector, colors, tolerance, rows);
  }

  /** Sets the theme; returns when it was set, in the page's performance.now(). */
  setTheme(kind: ThemeKind): Promise<number> {
    return this.call('applyTheme', BODY_CLASS[kind], THEME_VARIABLES[kind]);
  }

  /**
   * Sets the theme and waits for a frame that began after it was set: a frame
   * already asked for before (a run just shown) may begin after the call does,
   * and it is drawn in the old theme when it begins before the theme changes.
   */
  async redrawnInTheme(kind: ThemeKind): Promise<void> {
    await this.waitForEntry(FRAME_MEASURE, await this.setTheme(kind));
  }

  /** A PNG of the whole page (or, with `fullPage: false`, of the viewport) in test-results/screenshots/; returns its path. */
  async screenshot(name: string, { fullPage = true } = {}): Promise<string> {
    await fs.mkdir(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage });
    return file;
  }

  /** Closes this page and opens a new one given the state this one saved, as VS Code does when a panel comes back. */
  async reload(): Promise<WebviewPage> {
    const state = await this.state();
    await this.page.close();
    return this.reopen(state);
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}

export class Harness {
  constructor(private readonly browser: Browser) {}

  async open(kind: PageOptions['page'], options: OpenOptions = {}): Promise<WebviewPage> {
    const script = await webviewBundle();
    const sheets = options.standalone ? [STANDALONE_THEME, PAGE_STYLE_SHEETS[kind]] : [PAGE_STYLE_SHEETS[kind]];
    const styles = await Promise.all(sheets.map(async (file) => ({ inline: await fs.readFile(path.join(ROOT, file), 'utf8') })));
    const html = renderPage({ title: `GradLens ${kind}`, nonce: createNonce(), script: { inline: script }, styles, page: kind, data: options.standalone?.data });
    const page = await this.browser.newPage({ viewport: options.viewport ?? { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    await page.route('**/*', (route) => (route.request().url().split('?')[0] === PAGE_URL ? route.fulfill({ status: 200, contentType: 'text/html', body: html }) : route.abort()));
    await page.addInitScript({ path: PAGE_SCRIPT });
    if (!options.standalone) await page.addInitScript({ content: 'gradlensHarness.installVsCodeApi();' });
    const view = new WebviewPage(page, (state) => this.open(kind, { ...options, state }));
    const query = options.state === undefined ? '' : `?vscodeState=${encodeURIComponent(JSON.stringify(options.state))}`;
    await page.goto(PAGE_URL + query);
    if (!options.standalone) await view.setTheme(options.theme ?? 'dark');
    else if (options.theme) await page.emulateMedia({ colorScheme: options.theme === 'light' ? 'light' : 'dark' });
    return view;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

export async function launchHarness(): Promise<Harness> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return new Harness(browser);
}

/** The runs in a log file or folder, as the host would send them. Paths are relative to the repository. */
export async function fixtureRuns(relativePath: string): Promise<RunPayload[]> {
  const runs = await openRuns(path.join(ROOT, relativePath));
  return runs.map((run) => toRunPayload(run, diagnose(run)));
}
