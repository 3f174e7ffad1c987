import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import { PythonWorker } from '../../src/server/python-analysis';
import { bundleServer, removeBundle } from './harness';

const CORPUS = path.resolve(__dirname, '..', 'python-rules', 'corpus');
const PLAIN_LOOP = readFileSync(path.join(CORPUS, 'plain_loop.py'), 'utf8');
const URI = 'file:///scripts/train.py';

describe("language server: the Python analysis worker's queue", function () {
  let bundle: { dir: string; script: string };
  let workerPath: string;
  let reports: string[];
  let worker: PythonWorker;

  before(async () => {
    bundle = await bundleServer();
    workerPath = path.join(bundle.dir, 'python-worker.js');
  });
  beforeEach(() => {
    reports = [];
    worker = new PythonWorker(workerPath, bundle.dir, (message) => reports.push(message));
  });
  afterEach(() => worker.dispose());
  after(() => removeBundle(bundle.dir));

  it('analyses off the calling thread with the same findings as the rules', async () => {
    const findings = await worker.analyze(URI, PLAIN_LOOP, 0.5);
    assert.deepEqual(findings?.map((finding) => [finding.code, finding.range.start.line]), [['GL001', 29]]);
    assert.match(findings[0].fixes[0].title, /max_norm=0\.5/);
  });

  it('answers a superseded version with undefined, also while the worker is parsing it, and the newest with its findings', async () => {
    const huge = Array.from({ length: 1500 }, () => PLAIN_LOOP).join('\n');
    const order: string[] = [];
    const old = worker.analyze(URI, huge, undefined).then((findings) => (order.push('old'), findings));
    const queued = worker.analyze(URI, huge, undefined).then((findings) => (order.push('queued'), findings));
    const newest = worker.analyze(URI, PLAIN_LOOP, undefined).then((findings) => (order.push('newest'), findings));
    const other = worker.analyze('file:///scripts/other.py', PLAIN_LOOP, undefined);
    assert.equal(await old, undefined);
    assert.equal(await queued, undefined);
    assert.equal((await newest)?.length, 1);
    assert.equal((await other)?.length, 1, 'another document is not superseded');
    assert.deepEqual(order, ['queued', 'old', 'newest']);
  });

  it('drops a cancelled request and abandons a closed document', async () => {
    const source = new CancellationTokenSource();
    const cancelled = worker.loggerInsertion(URI, PLAIN_LOOP, 24, source.token);
    source.cancel();
    assert.equal(await cancelled, undefined);
    const closed = worker.analyze(URI, PLAIN_LOOP, undefined);
    worker.abandon(URI);
    assert.equal(await closed, undefined);
    assert.ok((await worker.loggerInsertion(URI, PLAIN_LOOP, 24, new CancellationTokenSource().token))?.length);
  });

  it("answers the server's own requests, which a code action on the same document does not supersede", async () => {
    const token = new CancellationTokenSource().token;
    const plan = worker.loggerPlan(PLAIN_LOOP, { line: 0, orFirstLoop: true }, token);
    const codeAction = worker.loggerInsertion(URI, PLAIN_LOOP, 0, token);
    assert.equal((await plan)?.type, 'insertion');
    assert.deepEqual(await codeAction, [], 'line 0 is in no loop, and the code action does not fall back to the first');
    const location = await worker.hintLocation(PLAIN_LOOP, 'log-gradients', undefined, token);
    assert.equal(PLAIN_LOOP.split('\n')[location?.range.start.line ?? -1]?.trim(), 'loss.backward()');
    assert.equal(await worker.hintLocation('print(1)\n', 'log-gradients', undefined, token), null);
    assert.deepEqual(await Promise.all([worker.hasTrainingStep(PLAIN_LOOP, token), worker.hasTrainingStep('print(1)\n', token)]), [true, false]);
  });

  it('starts a new worker for the next request when one dies, answering the request it died on with undefined', async () => {
    // A worker that exits the first time it starts, and is the real one after.
    const diedOnce = path.join(bundle.dir, 'died-once');
    const flaky = path.join(bundle.dir, 'flaky-worker.js');
    writeFileSync(flaky, `const fs = require('fs');\nif (!fs.existsSync(${JSON.stringify(diedOnce)})) { fs.writeFileSync(${JSON.stringify(diedOnce)}, ''); process.exit(3); }\nrequire(${JSON.stringify(workerPath)});\n`);
    worker = new PythonWorker(flaky, bundle.dir, (message) => reports.push(message));
    assert.equal(await worker.analyze(URI, PLAIN_LOOP, undefined), undefined);
    assert.ok(existsSync(diedOnce));
    assert.match(reports.join('\n'), /stopped \(exit code 3\)/);
    assert.equal((await worker.analyze(URI, PLAIN_LOOP, undefined))?.length, 1);
  });

  it('keeps the server alive when the thread runs out of memory, and starts a new one for the next request', async () => {
    // A thread that fills its heap the first time it starts, and is the real one after.
    const ateOnce = path.join(bundle.dir, 'ate-once');
    const hungry = path.join(bundle.dir, 'hungry-worker.js');
    writeFileSync(hungry, `const fs = require('fs');\nif (!fs.existsSync(${JSON.stringify(ateOnce)})) { fs.writeFileSync(${JSON.stringify(ateOnce)}, ''); const kept = []; for (;;) kept.push({ text: 'x'.repeat(20) + kept.length }); }\nrequire(${JSON.stringify(workerPath)});\n`);
    worker = new PythonWorker(hungry, bundle.dir, (message) => reports.push(message), 32);
    assert.equal(await worker.analyze(URI, PLAIN_LOOP, undefined), undefined);
    assert.match(reports.join('\n'), /memory limit/);
    assert.equal((await worker.analyze(URI, PLAIN_LOOP, undefined))?.length, 1);
  });
});
