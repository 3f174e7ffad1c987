/**
 * `npm run bench:webview`: the dashboard with a 1,000,000-step run, in
 * headless Chromium (the test harness: real bundle, real page, real CSP).
 *
 * It builds a run in Node — total norm, loss, learning rate, clipped flag,
 * max_norm and 8 per-parameter norms at every step, with an explosion that
 * ends in non-finite steps — diagnoses it and encodes the 'show' message as
 * the host does, then measures in the page:
 * - data → first chart: from posting the message to the dashboard's
 *   FIRST_DRAW_MARK (decode, validate, models, DOM, first frame); the first
 *   time (cold) and the median of the next --rounds shows;
 * - one zoom: a wheel event on the norm chart → the end of the frame that
 *   redrew every chart (they share the step axis), the median and the
 *   slowest of a series of zooms in and out around the explosion;
 * and the size of dist/webview.js (built by scripts/build.mjs, plain and
 * minified as in the .vsix). Goals: first chart ≤ 1 s, a zoom ≤ 50 ms.
 *
 * Options: --steps=N (default 1,000,000), --rounds=N (default 3),
 * --no-write (print only). Nothing asserts on a time: this is a report.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { diagnose } from '../src/diagnosis/diagnose';
import { encodeWire } from '../src/protocol/wire';
import type { Run } from '../src/logs/run';
import { runChange, toRunPayload } from '../src/report/payload';
import { FRAME_MEASURE } from '../src/webview/charts/marks';
import { FIRST_DRAW_MARK, SHOW_MARK } from '../src/webview/dashboard/marks';
import { buildBundles } from '../test/bundles';
import { launchHarness, type WebviewPage } from '../test/webview/harness';
import { runPrefix, SYNTHETIC_PARAMETERS, syntheticRun } from '../test/webview/synthetic-run';
import { cpuModel, writeSection } from './report';

const SECTION = 'Dashboard';
const VIEWPORT = { width: 1400, height: 900 };
const ZOOMS = 12;
const FIRST_CHART_GOAL_MS = 1000;
const ZOOM_GOAL_MS = 50;
const LIVE_UPDATES = 8;
const LIVE_STEPS = 250;
const LIVE_GOAL_MS = 50;

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } });
const STEPS = Number(args.steps);
const ROUNDS = Number(args.rounds);
const log = (line: string) => process.stderr.write(`${line}\n`);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value: number): string => `${Math.round(value)} ms`;
const kb = (bytes: number): string => `${Math.round(bytes / 1024)} kB`;

interface FirstDraw {
  total: number;
  /** Posting → the 'show' handler began (structured clone, decode, validation). */
  receive: number;
  /** The 'show' handler → the first drawn timeline (models, DOM, first frame). */
  render: number;
}

async function firstDraw(view: WebviewPage, text: string): Promise<FirstDraw> {
  const posted = await view.deliverLarge(text);
  await view.waitForEntry(FIRST_DRAW_MARK, posted);
  const [shown] = (await view.call('latestEntry', SHOW_MARK)) ?? [NaN];
  const [drawn] = (await view.call('latestEntry', FIRST_DRAW_MARK)) ?? [NaN];
  return { total: drawn - posted, receive: shown - posted, render: drawn - shown };
}

/** Wheel zooms on the norm chart, in then out around the explosion: event → frame drawn, and the frame's drawing alone. */
async function zooms(view: WebviewPage): Promise<{ latency: number[]; drawing: number[] }> {
  const latency: number[] = [];
  const drawing: number[] = [];
  for (let i = 0; i < ZOOMS; i++) {
    const deltaY = i < ZOOMS / 2 ? -200 : 200;
    const start = await view.call('wheel', '.chart-norm', 0.6, deltaY);
    await view.waitForEntry(FRAME_MEASURE, start);
    const frame = await view.call('latestEntry', FRAME_MEASURE);
    if (!frame) throw new Error('no frame after a zoom');
    latency.push(frame[0] + frame[1] - start);
    drawing.push(frame[1]);
  }
  return { latency, drawing };
}

/**
 * A live run growing by LIVE_STEPS steps per update, as the host sends it:
 * each update an `append` of the new points (the diagnosis made in Node
 * first, as the logs worker does); message posted → every chart redrawn.
 * Then one whole `update` of the same run, as before appends, for contrast.
 */
async function liveUpdates(view: WebviewPage, run: Run): Promise<{ append: number[]; appendBytes: number; whole: number; wholeBytes: number }> {
  const total = run.series[0].steps.length;
  const start = total - LIVE_UPDATES * LIVE_STEPS;
  const first = runPrefix(run, start);
  const shown = runChange(first, diagnose(first), true, 'live');
  if (shown.message.type !== 'update') throw new Error('the first message of a run is whole');
  await firstDraw(view, encodeWire({ type: 'show', runs: [shown.message.run] }));
  let since = shown.cursor;
  const append: number[] = [];
  let appendBytes = 0;
  for (let points = start + LIVE_STEPS; points <= total; points += LIVE_STEPS) {
    const grown = runPrefix(run, points);
    const change = runChange(grown, diagnose(grown), true, 'live', since);
    if (change.message.type !== 'append') throw new Error('a run that only grew goes as an append');
    since = change.cursor;
    const text = encodeWire(change.message);
    appendBytes = text.length;
    append.push(await redrawAfter(view, text));
  }
  const text = encodeWire(runChange(run, diagnose(run), true, 'live').message);
  return { append, appendBytes, whole: await redrawAfter(view, text), wholeBytes: text.length };
}

/** Posts a message to the page; ms until the frame drawn after it ends. */
async function redrawAfter(view: WebviewPage, text: string): Promise<number> {
  const posted = await view.deliverLarge(text);
  await view.waitForEntry(FRAME_MEASURE, posted);
  const frame = await view.call('latestEntry', FRAME_MEASURE);
  if (!frame) throw new Error('no frame after the message');
  return frame[0] + frame[1] - posted;
}

async function bundleSizes(): Promise<{ plain: number; minified: number; gzip: number }> {
  const bundle = (production: boolean) => readFile(path.join(buildBundles(['webview'], { production }), 'webview.js'));
  const [plain, minified] = await Promise.all([bundle(false), bundle(true)]);
  return { plain: plain.byteLength, minified: minified.byteLength, gzip: gzipSync(minified).byteLength };
}

async function main(): Promise<void> {
  log(`generating ${STEPS.toLocaleString('en-US')} steps…`);
  const run = syntheticRun(STEPS);
  const diagnoseStart = performance.now();
  const diagnosis = diagnose(run);
  const diagnoseMs = performance.now() - diagnoseStart;
  const text = encodeWire({ type: 'show', runs: [toRunPayload(run, diagnosis)] });
  const points = run.series.reduce((n, s) => n + s.values.length, 0);
  log(`diagnosed in ${ms(diagnoseMs)}; 'show' message ${(text.length / 1e6).toFixed(0)} MB of wire text`);

  const harness = await launchHarness();
  const view = await harness.open('dashboard', { viewport: VIEWPORT });
  const version = await view.page.context().browser()?.version();
  try {
    const cold = await firstDraw(view, text);
    log(`first chart (cold): ${ms(cold.total)}`);
    const warm: FirstDraw[] = [];
    for (let r = 0; r < ROUNDS; r++) warm.push(await firstDraw(view, text));
    log(`first chart (warm): ${warm.map((w) => ms(w.total)).join(', ')}`);
    const zoom = await zooms(view);
    log(`zooms: ${zoom.latency.map(ms).join(', ')}`);
    const live = await liveUpdates(view, run);
    log(`live appends of ${LIVE_STEPS} steps: ${live.append.map(ms).join(', ')}; one whole update: ${ms(live.whole)}`);
    if (view.errors.length > 0) throw new Error(`page errors: ${view.errors.join('; ')}`);
    const sizes = await bundleSizes();

    const warmTotal = median(warm.map((w) => w.total));
    const zoomMedian = median(zoom.latency);
    const verdict = (value: number, goal: number): string => (value <= goal ? 'met' : '**missed**');
    const table = [
      '| measure | time | goal |',
      '| --- | --- | --- |',
      `| data → first drawn chart, first show (cold) | ${ms(cold.total)} | ≤ 1 s: ${verdict(cold.total, FIRST_CHART_GOAL_MS)} |`,
      `| … of which message → 'show' handled (structured clone, wire decode, schema check) | ${ms(cold.receive)} | |`,
      `| … of which 'show' handled → timeline drawn (models, DOM, first frame) | ${ms(cold.render)} | |`,
      `| data → first drawn chart, median of ${ROUNDS} later shows | ${ms(warmTotal)} | ≤ 1 s: ${verdict(warmTotal, FIRST_CHART_GOAL_MS)} |`,
      `| one zoom (wheel event → every chart redrawn), median of ${ZOOMS} | ${ms(zoomMedian)} | ≤ 50 ms: ${verdict(zoomMedian, ZOOM_GOAL_MS)} |`,
      `| … slowest of those zooms | ${ms(Math.max(...zoom.latency))} | |`,
      `| … drawing alone (all charts in the frame), median | ${ms(median(zoom.drawing))} | |`,
      `| live run: ${LIVE_STEPS} new steps as an \`append\` (message posted → every chart redrawn), median of ${live.append.length} | ${ms(median(live.append))} | ≤ 50 ms: ${verdict(median(live.append), LIVE_GOAL_MS)} |`,
      `| … slowest of those appends | ${ms(Math.max(...live.append))} | |`,
      `| … the same run sent whole as an \`update\` instead (before appends) | ${ms(live.whole)} | |`,
    ].join('\n');
    const report = [
      `\`npm run bench:webview\` on ${cpuModel()}, headless Chromium ${version ?? ''} (playwright-core, \`--disable-gpu\`), viewport ${VIEWPORT.width}×${VIEWPORT.height}.`,
      `The run: ${STEPS.toLocaleString('en-US')} steps, ${run.series.length} series at every step (total norm, loss, learning rate, clipped, max_norm and ${SYNTHETIC_PARAMETERS.length} per-parameter norms; ${(points / 1e6).toFixed(0)} M points), an explosion to 1e8 and 50 non-finite steps; the 'show' message is ${(text.length / 1e6).toFixed(0)} MB of wire text. Diagnosing it in Node took ${ms(diagnoseMs)} (the host does that, in the logs worker).`,
      '',
      table,
      '',
      `A live update is ${(live.appendBytes / 1e3).toFixed(0)} kB of wire text as an \`append\` (the new points, the last stretch of each thinned per-parameter series, the diagnosis) against ${(live.wholeBytes / 1e6).toFixed(0)} MB whole. The first append after a show is the slowest: it copies each series once into an array with room to grow (and summarises it again); later ones write into that room.`,
      '',
      `Webview bundle (dist/webview.js, dashboard and playground): ${kb(sizes.plain)} as \`npm run build\` writes it, ${kb(sizes.minified)} minified, ${kb(sizes.gzip)} minified and gzipped.`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (!args['no-write']) writeSection(SECTION, report);
  } finally {
    await harness.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
