import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { computePlayground } from '../../src/playground/compute';
import { DEFAULT_PLAYGROUND_PARAMS, playgroundToHostSchema, type PlaygroundToHost } from '../../src/protocol/playground';
import { launchHarness, ROOT, type Harness, type WebviewPage } from './harness';

type Compute = Extract<PlaygroundToHost, { type: 'compute' }>;

const computes = async (view: WebviewPage): Promise<Compute[]> =>
  (await view.posted()).map((m) => playgroundToHostSchema.parse(m)).filter((m): m is Compute => m?.type === 'compute');

/**
 * What the extension host does, in Node: take the newest compute request the
 * page posted, compute it with the engine, post the result back. Resolves
 * once the page has drawn it.
 */
async function serve(view: WebviewPage, after: number): Promise<Compute> {
  await view.waitForPosted((m) => {
    const parsed = playgroundToHostSchema.parse(m);
    return parsed?.type === 'compute' && parsed.id > after;
  });
  await view.page.waitForTimeout(50); // let a burst of slider input settle into its last request
  const newest = (await computes(view)).reduce((a, b) => (b.id > a.id ? b : a));
  await view.drawnAfter(() => view.deliver({ type: 'result', id: newest.id, result: computePlayground(newest.params) }));
  return newest;
}

/** The part of a canvas this file reads (the test runner's types have no DOM). */
type Canvas = { toDataURL(): string };

/** Every chart canvas's pixels, as data URLs, in page order. */
const canvases = (view: WebviewPage): Promise<string[]> => view.page.$$eval('.chart-canvas', (list) => list.map((c) => (c as unknown as Canvas).toDataURL()));
const text = (view: WebviewPage, selector: string): Promise<string> => view.page.$eval(selector, (e) => e.textContent ?? '');

/** The profile's readout: the measured ratio ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ and γ^(T−1), as shown. */
async function growth(view: WebviewPage): Promise<[number, number]> {
  const match = /= (\S+) +\(γ\^\(T−1\) = (\S+)\)/.exec(await text(view, '.readout-growth'));
  assert.ok(match, 'the growth readout');
  return [Number(match[1]), Number(match[2])];
}

describe('playground webview (Chromium)', () => {
  let harness: Harness;
  before(async () => {
    harness = await launchHarness();
  });
  after(async () => {
    await harness.close();
  });

  it('asks the host for the default settings and draws what the engine computed', async () => {
    const view = await harness.open('playground');
    const first = await serve(view, 0);
    assert.deepEqual(first.params, DEFAULT_PLAYGROUND_PARAMS);
    assert.ok((await view.posted()).some((m) => playgroundToHostSchema.parse(m)?.type === 'ready'));
    const [measured, expected] = await growth(view);
    assert.ok(Math.abs(measured / 1.1 ** 49 - 1) < 0.01 && measured === expected, `${measured} vs ${expected}`);
    assert.match(await text(view, '.readout-radius'), /1\.1000/);
    assert.match(await text(view, '.readout-clip'), /clip_grad_norm_\(τ = 1\): ‖g‖ .* → 1, direction kept/);
    assert.match(await text(view, '.readout-raw-path'), /Without clipping/);
    assert.match(await text(view, '.readout-clipped-path'), /With norm clipping at τ = 1: largest step 1 /);
    assert.equal(await view.page.$$eval('.parameters tbody tr', (rows) => rows.length), 6);
    assert.match(await text(view, '.status'), /Computed by the engine in \d+ ms/);
    assert.deepEqual(view.errors, []);
    await view.screenshot('playground');
    // README's screenshot, refreshed on request only (GRADLENS_UPDATE_SCREENSHOTS=1), as the dashboard's are.
    if (process.env.GRADLENS_UPDATE_SCREENSHOTS === '1') {
      await fs.mkdir(path.join(ROOT, 'docs', 'screenshots'), { recursive: true });
      await fs.copyFile(path.join(ROOT, 'test-results', 'screenshots', 'playground.png'), path.join(ROOT, 'docs', 'screenshots', 'playground.png'));
    }
    await view.close();
  });

  it('recomputes and redraws as the sliders and the mode move, from the keyboard', async () => {
    const view = await harness.open('playground');
    let last = await serve(view, 0);
    const before = await canvases(view);

    await view.page.focus('#control-radius');
    for (let i = 0; i < 10; i++) await view.page.keyboard.press('ArrowRight');
    last = await serve(view, last.id);
    assert.equal(last.params.radius, 1.2);
    const [measured, expected] = await growth(view);
    assert.ok(Math.abs(measured / 1.2 ** 49 - 1) < 0.01 && measured === expected, `${measured} vs ${expected}`);
    const afterRadius = await canvases(view);
    assert.notEqual(afterRadius[0], before[0], 'the profile chart changed');

    await view.page.focus('#control-seqLen');
    await view.page.keyboard.press('Home');
    last = await serve(view, last.id);
    assert.equal(last.params.seqLen, 2);
    assert.notEqual((await canvases(view))[1], afterRadius[1], 'the loss surface changed with T');

    await view.page.selectOption('#control-mode', 'value');
    last = await serve(view, last.id);
    assert.equal(last.params.mode, 'value');
    assert.match(await text(view, '.readout-clip'), /clip_grad_value_\(τ = 1\): .* direction turned by \d+\.\d°/);
    assert.deepEqual(view.errors, []);
    await view.close();
  });

  it('shows the angle by which value clipping turns the 2-D gradient, and none for norm clipping', async () => {
    const view = await harness.open('playground');
    let last = await serve(view, 0);
    assert.equal(await text(view, '.readout-value-angle'), 'Value clipping turns g by 26.6°.');
    assert.equal(await text(view, '.readout-norm-angle'), 'Norm clipping turns g by 0.0°.');
    // Move g with the keyboard, five tenths up: (3, 1) → (3, 1.5).
    await view.page.focus('.clip-plane');
    for (let i = 0; i < 5; i++) await view.page.keyboard.press('ArrowUp');
    last = await serve(view, last.id);
    assert.deepEqual(last.params.vector, { x: 3, y: 1.5 });
    assert.equal(await text(view, '.readout-value-angle'), 'Value clipping turns g by 18.4°.');
    await view.close();
  });

  it('moves the start of the descent paths where the map is clicked', async () => {
    const view = await harness.open('playground');
    const last = await serve(view, 0);
    const map = (await view.page.$('.surface-map canvas'))!;
    const size = (await map.boundingBox())!;
    await map.click({ position: { x: size.width * 0.3, y: size.height * 0.6 } });
    const moved = await serve(view, last.id);
    assert.notDeepEqual(moved.params.start, DEFAULT_PLAYGROUND_PARAMS.start);
    assert.ok(moved.params.start.w > 0 && moved.params.start.w < 10 && moved.params.start.b > -5 && moved.params.start.b < 0);
    await view.close();
  });

  it('re-colours on a theme change', async () => {
    const view = await harness.open('playground');
    await serve(view, 0);
    const dark = await canvases(view);
    await view.redrawnInTheme('light');
    const light = await canvases(view);
    dark.forEach((image, i) => assert.notEqual(light[i], image, `canvas ${i} re-coloured`));
    for (const chart of ['.profile-chart', '.surface-map', '.clip-plane']) {
      assert.deepEqual((await view.canvasPixels(`${chart} canvas`)).background, [255, 255, 255], `${chart}: the light theme’s editor background`);
    }
    await view.redrawnInTheme('high-contrast');
    await view.screenshot('playground-high-contrast');
    await view.close();
  });

  it('comes back with its slider values after a reload', async () => {
    const view = await harness.open('playground');
    let last = await serve(view, 0);
    await view.page.selectOption('#control-nonlinearity', 'tanh');
    await view.page.focus('#control-threshold');
    await view.page.keyboard.press('End');
    last = await serve(view, last.id);
    const restored = await view.reload();
    const first = await serve(restored, 0);
    assert.deepEqual(first.params, last.params);
    assert.equal(first.params.nonlinearity, 'tanh');
    assert.equal(first.params.threshold, 100);
    assert.equal(await restored.page.locator('#control-nonlinearity').inputValue(), 'tanh');
    assert.equal(await text(restored, '.control output[for="control-threshold"]'), '100');
    await restored.close();
  });

  it('drops host messages that do not follow the protocol', async () => {
    const view = await harness.open('playground');
    await serve(view, 0);
    const before = await text(view, '.readout-growth');
    await view.deliverText('{"type":"result","id":99,"result":{"params":{}}}');
    await view.deliver({ type: 'result', id: 100, result: { ...computePlayground(DEFAULT_PLAYGROUND_PARAMS), elapsedMs: '<img src=x onerror=alert(1)>' } });
    await view.deliverText('not json');
    assert.equal(await view.droppedMessages(), 3);
    assert.equal(await text(view, '.readout-growth'), before);
    await view.deliver({ type: 'error', id: 101, message: '<img src=x onerror=alert(1)>' });
    await view.page.locator('.status', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
    assert.deepEqual(await view.alerts(), []);
    assert.equal(await view.page.$$eval('.status img', (images) => images.length), 0);
    await view.close();
  });

  it('says, in a browser without VS Code, that it needs VS Code', async () => {
    const view = await harness.open('playground', { standalone: { data: '' } });
    assert.match(await text(view, '.notice'), /GradLens: Open Playground/);
    assert.equal(await view.page.$$eval('.chart-canvas', (list) => list.length), 0);
    await view.close();
  });
});
