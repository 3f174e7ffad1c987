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
import type { Run, Series } from '../src/logs/run';
import type { Role } from '../src/logs/roles';
import { encodeWire } from '../src/protocol/wire';
import { toRunPayload } from '../src/report/payload';
import { FRAME_MEASURE } from '../src/webview/charts/marks';
import { FIRST_DRAW_MARK, SHOW_MARK } from '../src/webview/dashboard/marks';
import { buildBundles } from '../test/bundles';
import { launchHarness, type WebviewPage } from '../test/webview/harness';
import { cpuModel, writeSection } from './report';

const SECTION = 'Dashboard';
const PARAMETERS = ['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'rnn.weight_hh_l1', 'head.weight', 'head.bias'];
const VIEWPORT = { width: 1400, height: 900 };
const ZOOMS = 12;
const FIRST_CHART_GOAL_MS = 1000;
const ZOOM_GOAL_MS = 50;

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } });
const STEPS = Number(args.steps);
const ROUNDS = Number(args.rounds);
const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * A long recurrent-network run: norms wander in log space; at 60 % of the
 * run the recurrent weight's gradient grows ×10 every 200 steps for 2,000
 * steps, the next 50 steps are NaN or Inf, then training goes on clipped.
 */
function syntheticRun(steps: number): Run {
  let seed = 7;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const stepAxis = new Float64Array(steps);
  for (let i = 0; i < steps; i++) stepAxis[i] = i;
  const explosionStart = Math.floor(steps * 0.6);
  const explosionEnd = explosionStart + Math.min(2000, Math.floor(steps / 100));
  const nonFiniteEnd = explosionEnd + 50;
  const layers = PARAMETERS.map(() => new Float64Array(steps));
  const levels = PARAMETERS.map(() => Math.log(0.05 + random()));
  const total = new Float64Array(steps);
  const loss = new Float64Array(steps);
  const lr = new Float64Array(steps);
  const clipped = new Float64Array(steps);
  const maxNorm = new Float64Array(steps).fill(1);
  for (let i = 0; i < steps; i++) {
    let squares = 0;
    for (let p = 0; p < PARAMETERS.length; p++) {
      levels[p] += 0.04 * (random() - 0.5) - 0.0005 * levels[p];
      let norm = Math.exp(levels[p]);
      if (i >= explosionStart && i < explosionEnd && PARAMETERS[p].includes('weight_hh')) norm *= 10 ** ((i - explosionStart) / 200);
      if (i >= explosionEnd && i < nonFiniteEnd) norm = p % 3 === 0 ? Infinity : NaN;
      layers[p][i] = norm;
      squares += norm * norm;
    }
    total[i] = Math.sqrt(squares);
    const progress = i / steps;
    loss[i] = i >= explosionEnd && i < nonFiniteEnd ? NaN : 3 * Math.exp(-3 * progress) + 0.2 + 0.05 * random() + (i >= explosionStart && i < explosionEnd ? 2 : 0);
    lr[i] = 3e-4 * Math.min(1, i / 2000) * (0.5 + 0.5 * Math.cos(Math.PI * progress));
    clipped[i] = total[i] > 1 ? 1 : 0;
  }
  const series = (tag: string, role: Role, values: Float64Array, param?: string): Series => ({ tag, role, ...(param ? { param } : {}), steps: stepAxis, values });
  return {
    id: 'synthetic-1M.jsonl',
    path: '/bench/synthetic-1M.jsonl',
    files: ['/bench/synthetic-1M.jsonl'],
    format: 'jsonl',
    series: [
      series('grad_norm', 'gradNorm', total),
      series('loss', 'loss', loss),
      series('lr', 'lr', lr),
      series('clipped', 'clipped', clipped),
      series('max_norm', 'maxNorm', maxNorm),
      ...PARAMETERS.map((name, p) => series(`layers.${name}`, 'paramGradNorm', layers[p], name)),
    ],
    histograms: [],
    events: [],
    warnings: [],
  };
}

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
    ].join('\n');
    const report = [
      `\`npm run bench:webview\` on ${cpuModel()}, headless Chromium ${version ?? ''} (playwright-core, \`--disable-gpu\`), viewport ${VIEWPORT.width}×${VIEWPORT.height}.`,
      `The run: ${STEPS.toLocaleString('en-US')} steps, ${run.series.length} series at every step (total norm, loss, learning rate, clipped, max_norm and ${PARAMETERS.length} per-parameter norms; ${(points / 1e6).toFixed(0)} M points), an explosion to 1e8 and 50 non-finite steps; the 'show' message is ${(text.length / 1e6).toFixed(0)} MB of wire text. Diagnosing it in Node took ${ms(diagnoseMs)} (the host does that, in the logs worker).`,
      '',
      table,
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
