import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { readReportAssets, renderReport } from '../../src/report/report';
import { fixtureRuns, ROOT, webviewBundle } from './harness';

describe('exported report in a browser', function () {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  after(() => browser.close());

  it('opens from disk with nothing but the file: both runs compared, charts drawn, no request, no error', async () => {
    // The package layout readReportAssets reads: dist/webview.js (from the current sources) and media/.
    const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-report-'));
    mkdirSync(path.join(root, 'dist'));
    writeFileSync(path.join(root, 'dist', 'webview.js'), await webviewBundle());
    cpSync(path.join(ROOT, 'media'), path.join(root, 'media'), { recursive: true });
    const runs = [...(await fixtureRuns('test/fixtures/real/torch_lstm_sgd_noclip/grads.jsonl')), ...(await fixtureRuns('test/fixtures/real/torch_lstm_sgd_clip1/grads.jsonl'))];
    runs[1] = { ...runs[1], label: 'clipped <b>run</b>' };
    const file = path.join(root, 'report.html');
    writeFileSync(file, renderReport(runs, await readReportAssets(root)));

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('request', (request) => !request.url().startsWith('file:') && problems.push(`request ${request.url()}`));
    await page.goto(pathToFileURL(file).href);
    // Page code as text: this suite compiles without the DOM library.
    await page.waitForFunction("document.querySelectorAll('canvas').length > 0");
    const text = await page.locator('body').innerText();
    assert.match(text, /Comparing 2 runs/);
    assert.match(text, /clipped <b>run<\/b>/, 'a label from the data shows as its characters');
    assert.equal(await page.locator('b').count(), 0, 'and makes no element');
    const drawn = (await page.evaluate(`(() => {
      const canvas = document.querySelector('canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
      return painted;
    })()`)) as number;
    assert.ok(drawn > 1000, `the first chart is drawn (${drawn} pixels)`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
