/**
 * The dashboard webview in headless Chromium, fed the real runs in
 * test/fixtures/real through the same wire messages the host sends.
 * Screenshots go to test-results/screenshots/; with
 * GRADLENS_UPDATE_SCREENSHOTS=1 the README's two (the top of the page, dark
 * theme: one run, and two compared) are refreshed in docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import { openRuns } from '../../src/logs/open';
import type { Run } from '../../src/logs/run';
import type { HostToDashboard, RunPayload } from '../../src/protocol/dashboard';
import { encodeWire } from '../../src/protocol/wire';
import { runChange, toRunPayload } from '../../src/report/payload';
import { FIRST_DRAW_MARK } from '../../src/webview/dashboard/marks';
import { runPrefix, syntheticRun } from './synthetic-run';
import { fixtureRuns, launchHarness, ROOT, SCREENSHOTS, THEME_VARIABLES, type Harness, type WebviewPage } from './harness';

const LSTM_NOCLIP = 'test/fixtures/real/torch_lstm_sgd_noclip/grads.jsonl';
const LSTM_CLIP = 'test/fixtures/real/torch_lstm_sgd_clip1/grads.jsonl';
const RNN_NAN = 'test/fixtures/real/torch_rnn_radius1.6_noclip/grads.jsonl';
const LIGHTNING_CSV = 'test/fixtures/real/lightning_rnn_noclip/csv';
const HF_STATE = 'test/fixtures/real/hf_gpt2_lr3e-4_clip1/trainer_state.json';
const TENSORBOARD = 'test/fixtures/real/torch_lstm_sgd_noclip/tb';
const XSS = '<img src=x onerror=alert(1)>';

const NORM_CANVAS = '.chart-norm .chart-canvas';

async function single(path: string): Promise<RunPayload> {
  const [run] = await fixtureRuns(path);
  return run;
}

/** The run as it looked when its log ended at `lastStep`: a live log, earlier. */
function truncated(run: Run, lastStep: number): RunPayload {
  const cut = (steps: Float64Array): number => steps.findIndex((s) => s > lastStep) >>> 0;
  const partial: Run = {
    ...run,
    series: run.series.map((s) => ({ ...s, steps: s.steps.slice(0, cut(s.steps)), values: s.values.slice(0, cut(s.steps)) })),
    histograms: [],
  };
  return toRunPayload(partial, diagnose(partial), true);
}

const texts = (view: WebviewPage, selector: string): Promise<string[]> => view.page.locator(selector).allTextContents();

async function showRuns(view: WebviewPage, runs: RunPayload[]): Promise<void> {
  await view.drawnAfter(() => view.deliver({ type: 'show', runs }));
}

/** Drags across the norm chart from one share of its width to another. */
async function dragAcrossNorm(view: WebviewPage, from: number, to: number): Promise<void> {
  await view.page.locator('.chart-norm').scrollIntoViewIfNeeded();
  const box = await view.page.locator('.chart-norm').boundingBox();
  assert.ok(box);
  const y = box.y + box.height / 2;
  await view.drawnAfter(async () => {
    await view.page.mouse.move(box.x + box.width * from, y);
    await view.page.mouse.down();
    await view.page.mouse.move(box.x + box.width * ((from + to) / 2), y, { steps: 3 });
    await view.page.mouse.move(box.x + box.width * to, y, { steps: 3 });
    await view.page.mouse.up();
  });
}

describe('dashboard webview (headless Chromium)', function () {
  this.timeout(60_000);
  let harness: Harness;
  let view: WebviewPage;
  let lstm: RunPayload;

  before(async () => {
    [harness, lstm] = await Promise.all([launchHarness(), single(LSTM_NOCLIP)]);
    view = await harness.open('dashboard');
  });

  after(async () => {
    await harness?.close();
  });

  afterEach(() => {
    assert.deepEqual(view.errors, [], 'no errors in the page');
  });

  it('says it is ready and shows an empty state until the host sends runs', async () => {
    assert.deepEqual(await view.posted(), [{ type: 'ready' }]);
    assert.match((await texts(view, '.empty-state'))[0], /No run to show yet/);
  });

  it('draws the timeline of a real exploding LSTM run, with its header and legend', async () => {
    await showRuns(view, [lstm]);
    assert.equal(await view.page.locator('.header h1').textContent(), 'grads.jsonl');
    assert.match((await texts(view, '.header .meta'))[0], /exploding.*JSON lines.*400 logged steps, steps 0–399/);
    assert.match((await texts(view, '.facts'))[0], /max gradient norm2\.57e10 at step 4/);
    assert.match((await texts(view, '.facts'))[0], /written byPyTorch loop/);
    const dark = THEME_VARIABLES.dark;
    const pixels = await view.canvasPixels(NORM_CANVAS, [dark['--vscode-charts-blue'], dark['--vscode-charts-green']]);
    assert.deepEqual(pixels.background, [0x1f, 0x1f, 0x1f], 'the chart is painted with the editor background');
    assert.ok(pixels.drawn > 5000, `the chart drew (${pixels.drawn} pixels)`);
    assert.ok(pixels.near[0] > 500, `the total norm is drawn in charts.blue (${pixels.near[0]} pixels)`);
    assert.ok(pixels.near[1] > 100, `the recommended threshold is drawn in charts.green (${pixels.near[1]} pixels)`);
    const legend = await texts(view, '.section-timeline .legend li');
    assert.deepEqual(legend, ['total norm', 'recommended threshold 3.38', 'steps norm clipping at the replayed τ would rescale']);
    assert.ok((await view.canvasPixels('.chart-loss .chart-canvas')).drawn > 2000, 'the loss chart drew');
    assert.ok((await view.canvasPixels('.chart-lr .chart-canvas')).drawn > 1000, 'the learning-rate chart drew');
    assert.ok((await view.canvasPixels('.chart-heat .chart-canvas')).drawn > 20000, 'the heat map drew');
    await view.screenshot('dashboard-dark');
    await view.screenshot('dashboard-dark-top', { fullPage: false });
  });

  it('lists the problematic parameters as the diagnosis does, and sorts them by header, mouse or keyboard', async () => {
    const rows = (): Promise<string[][]> => view.call('tableText', 'table.parameters tbody tr');
    const expected = lstm.diagnosis.parameters;
    const shown = await rows();
    assert.deepEqual(
      shown.map((r) => r[0]),
      expected.map((p) => p.name),
    );
    assert.deepEqual(shown[0], ['lstm.weight_ih_l0', '1.92e10', '4', '0', '0', '0', '3', '55%']);

    await view.page.getByRole('button', { name: 'Median', exact: true }).click();
    const byMedian = (await rows()).map((r) => r[0]);
    const medians = [...expected].sort((a, b) => (b.medianNorm ?? -1) - (a.medianNorm ?? -1)).map((p) => p.name);
    assert.deepEqual(byMedian, medians, 'largest median first');
    assert.equal(await view.page.locator('th[aria-sort="descending"]').textContent(), 'Median ▼');

    await view.page.getByRole('button', { name: 'Median', exact: true }).press('Enter');
    const ascending = [...expected].sort((a, b) => (a.medianNorm ?? Infinity) - (b.medianNorm ?? Infinity)).map((p) => p.name);
    assert.deepEqual((await rows()).map((r) => r[0]), ascending, 'smallest median first');
    assert.equal(await view.page.locator('th[aria-sort="ascending"]').count(), 1);

    await view.page.getByRole('button', { name: 'Median', exact: true }).press('Enter');
    assert.deepEqual((await rows()).map((r) => r[0]), expected.map((p) => p.name), 'back to the diagnosis order');
  });

  it('shows the findings with their hints; "Show fix" asks the host to open the fix', async () => {
    const heads = await texts(view, '.finding-head');
    assert.deepEqual(heads, ['errorexplosionsteps 3–4', 'errorvanishing gradientssteps 5–399', 'errordivergencesteps 360–399', 'infospikestep 258']);
    const explosion = view.page.locator('.finding').first();
    assert.match((await explosion.locator('.finding-message').textContent()) ?? '', /^The gradient norm exploded at step 3: 118/);
    await explosion.getByRole('button', { name: 'Show fix' }).first().click();
    const posted = await view.waitForPosted((m) => (m as { type: string }).type === 'openHint');
    assert.deepEqual(posted, { type: 'openHint', key: lstm.key, hintId: 'add-norm-clipping', step: 3 });
  });

  it('zooms every chart to a finding chosen in the list, and back with "Reset zoom"', async () => {
    await view.drawnAfter(() => view.page.locator('.finding-head').nth(3).click());
    assert.equal(await view.page.locator('.range-text').textContent(), 'Zoomed to steps 242–274');
    assert.equal(await view.page.locator('table.parameters tr.selected th').textContent(), 'lstm.weight_ih_l1', 'the finding’s first parameter is selected');
    await view.drawnAfter(() => view.page.getByRole('button', { name: 'Reset zoom' }).click());
    assert.equal(await view.page.locator('.range-text').textContent(), 'All steps 0–399');
  });

  it('zooms by dragging, pans with the keyboard, shows values under the pointer, resets on double-click', async () => {
    await dragAcrossNorm(view, 0.3, 0.6);
    const zoomed = await view.page.locator('.range-text').textContent();
    assert.match(zoomed ?? '', /^Zoomed to steps \d+–\d+$/);
    const [from, to] = (zoomed ?? '').match(/\d+/g)!.map(Number);
    assert.ok(from > 80 && to < 260 && to - from > 60, `a range inside the run (${from}–${to})`);
    await view.drawnAfter(() => view.page.locator('.chart-norm').press('ArrowRight'));
    const [panFrom, panTo] = ((await view.page.locator('.range-text').textContent()) ?? '').match(/\d+/g)!.map(Number);
    assert.ok(panFrom > from && panTo - panFrom === to - from, 'panned right by the same width');

    await view.page.locator('.chart-lr').scrollIntoViewIfNeeded();
    const box = (await view.page.locator('.chart-lr').boundingBox())!;
    await view.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const readout = view.page.locator('.chart-lr .chart-readout');
    assert.match((await readout.textContent()) ?? '', /^step \d+learning rate: 40$/);
    assert.ok(await view.page.locator('.chart-norm .chart-overlay').isVisible());

    const norm = (await view.page.locator('.chart-norm').boundingBox())!;
    await view.drawnAfter(() => view.page.mouse.dblclick(norm.x + norm.width / 2, norm.y + norm.height / 2));
    assert.equal(await view.page.locator('.range-text').textContent(), 'All steps 0–399');
  });

  it('focuses a step and a parameter when the host asks (a finding chosen in the sidebar)', async () => {
    await view.drawnAfter(() => view.deliver({ type: 'focus', focus: { key: lstm.key, step: 120, param: 'emb.weight' } }));
    assert.equal(await view.page.locator('.range-text').textContent(), 'Zoomed to steps 104–136');
    assert.equal(await view.page.locator('table.parameters tr.selected th').textContent(), 'emb.weight');
    const state = (await view.state()) as { view: { param: string; range: number[] } };
    assert.equal(state.view.param, 'emb.weight');
    assert.deepEqual(state.view.range.map(Math.round), [104, 136]);
  });

  it('marks non-finite values along the top edge and the first non-finite step (RNN, spectral radius 1.6)', async () => {
    const run = await single(RNN_NAN);
    await showRuns(view, [run]);
    assert.match((await texts(view, '.header .meta'))[0], /^non-finite/);
    assert.equal(await view.page.locator('.range-text').textContent(), 'All steps 0–299', 'a new run starts unzoomed');
    const error = THEME_VARIABLES.dark['--vscode-errorForeground'];
    const strip = (await view.canvasPixels(NORM_CANVAS, [error], 30, 12)).near[0];
    assert.ok(strip > 1000, `the 299 non-finite steps are ticked along the top edge in errorForeground (${strip} pixels)`);
    const legend = await texts(view, '.section-timeline .legend li');
    assert.ok(legend.includes('first non-finite step 1 (ticks on the top edge: NaN or Inf)'), legend.join(' | '));
    const nan = (await view.call('tableText', 'table.parameters tbody tr')).map((cells) => [cells[0], cells[4]]);
    assert.deepEqual(
      nan,
      run.diagnosis.parameters.map((p) => [p.name, String(p.nanSteps)]),
    );
    assert.match((await texts(view, '.stat-nonfinite'))[0], /^299 non-finite steps not shown$/);
  });

  it('reads the Lightning CSV and the Hugging Face trainer_state.json runs', async () => {
    const lightning = await single(LIGHTNING_CSV);
    await showRuns(view, [lightning]);
    assert.match((await texts(view, '.header .meta'))[0], /CSV/);
    assert.equal(await view.page.locator('table.parameters tbody tr').count(), 6);
    assert.deepEqual(await texts(view, '.finding-kind'), ['explosion', 'vanishing gradients', 'non-finite values']);
    assert.match((await texts(view, '.facts'))[0], /recommended clip thresholdnone: no stable stretch.*written byPyTorch Lightning/);

    const hf = await single(HF_STATE);
    await showRuns(view, [hf]);
    assert.match((await texts(view, '.header .meta'))[0], /^healthy.*Hugging Face trainer_state\.json/);
    assert.match((await texts(view, '.facts'))[0], /written byHugging Face Trainer/);
    assert.match((await texts(view, '.section-parameters .hint-text'))[0], /no per-parameter gradient norms/);
    assert.equal(await view.page.locator('.no-findings').textContent(), 'No findings: the gradients look healthy.');
    assert.ok((await view.canvasPixels(NORM_CANVAS)).drawn > 3000);
  });

  it('shows TensorBoard gradient histograms over time, for the parameter chosen', async () => {
    const [run] = await fixtureRuns(TENSORBOARD);
    await showRuns(view, [run]);
    const options = await texts(view, '.section-histograms select option');
    assert.equal(options.length, run.histograms.length);
    assert.ok(options.includes('lstm.weight_hh_l0'));
    await view.drawnAfter(() => view.page.locator('.section-histograms select').selectOption({ label: 'lstm.weight_hh_l0' }));
    assert.equal(await view.page.locator('.section-histograms select').inputValue(), run.histograms.find((h) => h.param === 'lstm.weight_hh_l0')?.tag);
    assert.ok((await view.canvasPixels('.chart-histogram .chart-canvas')).drawn > 5000);
  });

  it('follows a growing log: an update redraws with the new steps and keeps the zoom', async () => {
    const [run] = await openRuns(path.join(ROOT, LSTM_NOCLIP));
    const early = truncated(run, 199);
    await showRuns(view, [early]);
    assert.equal(await view.page.locator('.range-text').textContent(), 'All steps 0–199');
    assert.equal(await view.page.locator('.header .live').count(), 1, 'a live log is marked');
    await view.drawnAfter(() => view.deliver({ type: 'update', run: { ...lstm, live: true } }));
    assert.equal(await view.page.locator('.range-text').textContent(), 'All steps 0–399', 'the whole run, grown');
    assert.match((await texts(view, '.header .meta'))[0], /400 logged steps/);

    await dragAcrossNorm(view, 0.2, 0.4);
    const zoomed = await view.page.locator('.range-text').textContent();
    await view.drawnAfter(() => view.deliver({ type: 'update', run: lstm }));
    assert.equal(await view.page.locator('.range-text').textContent(), zoomed, 'the zoom stays');
    assert.equal(await view.page.locator('.header .live').count(), 0);
  });

  it('grows a live run from append messages, the new points alone, to exactly what showing it whole draws', async () => {
    // 120,000 steps: the charts read summaries at this length, and the per-parameter norms go thinned (replaced whole).
    const full = syntheticRun(120_000);
    const stages = [40_000, 40_016, 40_250, 90_000, 120_000];
    const first = runPrefix(full, stages[0]);
    const shown = runChange(first, diagnose(first), true, 'edition-1');
    assert.equal(shown.message.type, 'update');
    await showRuns(view, [(shown.message as Extract<HostToDashboard, { type: 'update' }>).run]);
    let since = shown.cursor;
    let sentPoints = 0;
    for (const points of stages.slice(1)) {
      const run = runPrefix(full, points);
      const change = runChange(run, diagnose(run), points < full.series[0].steps.length, 'edition-1', since);
      assert.equal(change.message.type, 'append', `${points} steps: only what is new`);
      if (change.message.type !== 'append') return;
      const loss = change.message.run.series.find((s) => s.tag === 'loss');
      assert.equal(loss?.steps.length, points - since.series.loss, 'the loss carries its new points alone');
      sentPoints += loss.steps.length;
      await view.drawnAfter(() => view.deliver(change.message));
      since = change.cursor;
    }
    assert.equal(sentPoints, 80_000);
    const drawing = async () => ({
      canvases: await view.call('canvasImages', '.chart-canvas'),
      header: await texts(view, '.header'),
      range: await view.page.locator('.range-text').textContent(),
      parameters: await view.call('tableText', 'table.parameters tbody tr'),
      findings: await texts(view, '.finding-message'),
    });
    const grown = await drawing();
    assert.equal(grown.range, 'All steps 0–120k');
    await showRuns(view, [toRunPayload(full, diagnose(full))]);
    assert.deepEqual(grown, await drawing(), 'every chart, the header, the table and the findings');
    // A run shown from another edition (re-read, restarted) goes whole.
    assert.equal(runChange(full, diagnose(full), false, 'edition-2', since).message.type, 'update');
  });

  it('draws the clip threshold the diagnosis read (the first max_norm logged), with the total norm it read', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlens-clip-'));
    const log = path.join(dir, 'grads.jsonl');
    // max_norm raised from 1 to 5 half-way: the diagnosis judges clipping by the first.
    const lines = Array.from({ length: 40 }, (_, step) => JSON.stringify({ step, loss: 2 - step / 40, grad_norm: 0.5 + (step % 4), max_norm: step < 20 ? 1 : 5, clipped: step % 4 > 0 }));
    await fs.writeFile(log, lines.join('\n') + '\n');
    const [run] = await openRuns(log);
    const payload = toRunPayload(run, diagnose(run));
    assert.equal(payload.diagnosis.clipThreshold, 1);
    await showRuns(view, [payload]);
    const legend = await texts(view, '.section-timeline .legend li');
    assert.ok(legend.includes('clip threshold 1'), legend.join(' | '));
    assert.ok(legend.includes('total norm'), legend.join(' | '));
  });

  it('replays norm clipping at the τ of a slider over the timeline, with what each spike policy would have done', async () => {
    await showRuns(view, [lstm]);
    const summary = () => view.page.locator('.replay-summary').textContent();
    const yellow = async () => (await view.canvasPixels(NORM_CANVAS, [THEME_VARIABLES.dark['--vscode-charts-yellow']])).near[0];
    // Where the slider starts, it says what the diagnosis's own replay at the advised threshold says.
    const clip = lstm.diagnosis.policies.find((p) => p.name === 'clip-norm')!;
    assert.equal(clip.parameters.tau, lstm.diagnosis.threshold.recommended);
    assert.match((await summary()) ?? '', new RegExp(`^At τ = 3\\.38, norm clipping would rescale ${clip.steps.length} of 400 steps \\(${Math.round(clip.clippedShare! * 100)}%\\)`));
    assert.deepEqual(
      (await texts(view, '.replay-policies li')).map((text) => text.split(' ')[0]),
      ['Lightning', "OLMo-core's", "llm.c's", "Megatron's"],
    );
    const atAdvised = await yellow();
    assert.ok(atAdvised > 100, `the steps clipped at τ are shaded (${atAdvised} pixels)`);
    await view.page.locator('.replay-summary').scrollIntoViewIfNeeded();
    await view.screenshot('dashboard-replay', { fullPage: false });
    const slider = view.page.locator('#replay-tau');
    await view.drawnAfter(() => slider.press('End'));
    assert.match((await summary()) ?? '', /would rescale 0 of 400 steps \(0%\), by 1 on average/);
    await view.drawnAfter(() => slider.press('Home'));
    assert.match((await summary()) ?? '', /would rescale 400 of 400 steps \(100%\)/);
    assert.ok((await yellow()) > 3 * atAdvised, 'every step shaded at the lowest τ');
  });

  it('compares two runs: both in the legend and the table, each in its own colour', async () => {
    const clipped = await single(LSTM_CLIP);
    await showRuns(view, [lstm, clipped]);
    assert.equal(await view.page.locator('.header h1').textContent(), 'Comparing 2 runs');
    assert.deepEqual(await texts(view, '.section-timeline .legend li'), ['torch_lstm_sgd_noclip/grads.jsonl', 'torch_lstm_sgd_clip1/grads.jsonl']);
    const rows = await view.call('tableText', 'table.compare tbody tr');
    assert.deepEqual(rows, [
      ['torch_lstm_sgd_noclip/grads.jsonl', 'exploding', 'steps 0–399', '2.57e10 @ 4', 'none', '3.38', '0%'],
      ['torch_lstm_sgd_clip1/grads.jsonl', 'warning', 'steps 0–399', '1946 @ 4', 'none', '1.77', '17%'],
    ]);
    const dark = THEME_VARIABLES.dark;
    const pixels = await view.canvasPixels(NORM_CANVAS, [dark['--vscode-charts-blue'], dark['--vscode-charts-orange']]);
    assert.ok(pixels.near[0] > 300 && pixels.near[1] > 300, `both runs drawn (${pixels.near.join(', ')} pixels)`);
    assert.equal(await view.page.locator('.section-parameters').count(), 0, 'per-parameter views are for one run');
    await view.screenshot('dashboard-compare');
    await view.screenshot('dashboard-compare-top', { fullPage: false });
  });

  it('re-colours the charts when the theme changes, and draws borders in high contrast', async () => {
    await showRuns(view, [lstm]);
    const { dark, light } = THEME_VARIABLES;
    await view.redrawnInTheme('light');
    const lit = await view.canvasPixels(NORM_CANVAS, [light['--vscode-charts-blue'], dark['--vscode-editor-background']], 8);
    assert.deepEqual(lit.background, [255, 255, 255]);
    assert.ok(lit.near[0] > 500, `the norm is now light theme's charts.blue (${lit.near[0]} pixels)`);
    assert.equal(lit.near[1], 0, 'nothing of the dark background is left');
    await view.screenshot('dashboard-light');

    await view.redrawnInTheme('high-contrast');
    const border = THEME_VARIABLES['high-contrast']['--vscode-contrastBorder'];
    const contrast = await view.canvasPixels(NORM_CANVAS, [border], 8);
    assert.deepEqual(contrast.background, [0, 0, 0]);
    assert.ok(contrast.near[0] > 1000, `the plot has a contrastBorder frame (${contrast.near[0]} pixels)`);
    assert.equal(await view.call('computedStyle', '.section-timeline', 'border-top-color'), 'rgb(111, 195, 223)');
    await view.screenshot('dashboard-high-contrast');
    await view.redrawnInTheme('dark');
  });

  it('drops messages that do not match the protocol, and keeps showing what it showed', async () => {
    const before = await view.droppedMessages();
    await view.deliverText('not json');
    await view.deliver({ type: 'show', runs: 'all of them' });
    await view.deliver({ type: 'delete-everything' });
    await view.deliver({ type: 'update', run: { ...lstm, series: [{ tag: 'x', steps: [1, 2], values: [1, 2] }] } });
    // Messages arrive as tasks after postMessage returns: wait for the count.
    await view.page.waitForFunction((n) => (globalThis as unknown as { gradlensHarness: { droppedMessages(): number } }).gradlensHarness.droppedMessages() === n, before + 4);
    assert.equal(await view.page.locator('.header h1').textContent(), 'grads.jsonl');
  });

  it('shows a parameter named <img src=x onerror=alert(1)> as text, in a log of that name', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlens-xss-'));
    const file = path.join(dir, `${XSS}.jsonl`);
    const lines = Array.from({ length: 30 }, (_, step) => JSON.stringify({ step, loss: 1 / (step + 1), grad_norm: step === 20 ? 5000 : 1 + step / 10, layers: { [XSS]: step === 20 ? 4999 : 1, 'ok.weight': 0.5 } }));
    await fs.writeFile(file, lines.join('\n') + '\n');
    try {
      const [run] = await openRuns(file);
      await showRuns(view, [toRunPayload(run, diagnose(run))]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    assert.equal(await view.page.locator('.header h1').textContent(), `${XSS}.jsonl`);
    assert.equal(await view.page.locator('table.parameters tbody tr').first().locator('th').textContent(), XSS);
    assert.ok((await texts(view, '.finding-layers')).some((t) => t.includes(XSS)), 'the finding names it as text');
    assert.equal(await view.page.locator('img').count(), 0, 'no img element was created');
    await view.page.locator('.chart-heat').scrollIntoViewIfNeeded();
    const heat = (await view.page.locator('.chart-heat').boundingBox())!;
    await view.page.mouse.move(heat.x + heat.width * 0.6, heat.y + 12);
    assert.match((await view.page.locator('.chart-heat .chart-readout').textContent()) ?? '', /^<img src=x onerror=alert\(1\)>step \d+norm /);
    assert.deepEqual(await view.alerts(), []);
  });

  it('comes back as it was after a reload: zoom, sort and parameter from setState', async () => {
    const page = await harness.open('dashboard');
    await showRuns(page, [lstm]);
    await page.page.getByRole('button', { name: 'Max norm', exact: true }).click();
    await page.page.locator('table.parameters tbody tr', { hasText: 'lstm.weight_hh_l1' }).click();
    await dragAcrossNorm(page, 0.4, 0.7);
    const zoomed = await page.page.locator('.range-text').textContent();
    const saved = (await page.state()) as { runs: unknown };
    assert.deepEqual(saved.runs, [{ path: lstm.path }], 'the host can read the runs again from the state');

    const reloaded = await page.reload();
    try {
      assert.deepEqual(await reloaded.posted(), [{ type: 'ready' }]);
      await showRuns(reloaded, [lstm]);
      assert.equal(await reloaded.page.locator('.range-text').textContent(), zoomed);
      assert.equal(await reloaded.page.locator('th[aria-sort="descending"]').textContent(), 'Max norm ▼');
      assert.equal(await reloaded.page.locator('table.parameters tr.selected th').textContent(), 'lstm.weight_hh_l1');
    } finally {
      await reloaded.close();
    }
  });

  it('works as a standalone report: data embedded, no host buttons, nothing posted', async () => {
    const report = await harness.open('dashboard', { standalone: { data: encodeWire({ type: 'show', runs: [lstm] }) }, theme: 'light' });
    try {
      await report.waitForEntry(FIRST_DRAW_MARK);
      assert.equal(await report.page.locator('.header h1').textContent(), 'grads.jsonl');
      assert.equal(await report.page.getByRole('button', { name: 'Export report' }).count(), 0);
      assert.equal(await report.page.getByRole('button', { name: 'Show fix' }).count(), 0);
      assert.ok((await report.page.locator('.hints li').count()) > 0, 'the hints themselves are there');
      const pixels = await report.canvasPixels(NORM_CANVAS);
      assert.deepEqual(pixels.background, [255, 255, 255], 'standalone-theme.css gives the light theme');
      assert.ok(pixels.drawn > 5000);
      assert.deepEqual(await report.posted(), []);
      assert.deepEqual(report.errors, []);
    } finally {
      await report.close();
    }
  });

  after(async function () {
    if (process.env.GRADLENS_UPDATE_SCREENSHOTS !== '1') return;
    const docs = path.join(ROOT, 'docs', 'screenshots');
    await fs.mkdir(docs, { recursive: true });
    for (const name of ['dashboard-dark', 'dashboard-compare']) await fs.copyFile(path.join(SCREENSHOTS, `${name}-top.png`), path.join(docs, `${name}.png`));
  });
});
