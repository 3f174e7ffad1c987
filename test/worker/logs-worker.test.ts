import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { openRuns } from '../../src/logs/open';
import { buildBundles } from '../bundles';
import { writeSweep } from '../sweep-folder';
import { hostToDashboardSchema, runPayloadSchema } from '../../src/protocol/dashboard';
import { decodeWire } from '../../src/protocol/wire';
import { LogsWorkerClient, type LogsWorkerListener } from '../../src/worker/logs-client';
import { logsToHostSchema, type RunSummary } from '../../src/worker/logs-protocol';
import { DEFAULT_LOGS_SETTINGS, REDISCOVER_MS } from '../../src/worker/logs-service';

const REAL = path.join(__dirname, '../fixtures/real');
// Worker threads cannot load TypeScript: the worker is bundled from source by the build script.
let WORKER: string;
const tempDir = (name: string) => mkdtempSync(path.join(os.tmpdir(), `gradlens-${name}-`));

/** Stands in for the extension host: keeps the runs the worker reports and waits for what a user would see. */
class Host implements LogsWorkerListener {
  readonly runs = new Map<string, RunSummary>();
  readonly logs: string[] = [];
  readonly exits: string[] = [];
  private waiters: (() => void)[] = [];

  onRuns(runs: RunSummary[]): void {
    for (const run of runs) this.runs.set(run.key, run);
    this.wake();
  }
  onRemoved(keys: string[]): void {
    for (const key of keys) this.runs.delete(key);
    this.wake();
  }
  onLog(level: string, message: string): void {
    this.logs.push(`${level}: ${message}`);
    this.wake();
  }
  onExit(reason: string): void {
    this.exits.push(reason);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves with the probe's value once it has one, re-checked at each message from the worker. */
  until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; runs: ${[...this.runs.values()].map((r) => `${r.title} ${r.status} ${r.steps}`).join(', ')}; log: ${this.logs.join(' | ')}`)), timeoutMs);
      const check = (): void => {
        const value = probe();
        if (value !== undefined && value !== false) {
          clearTimeout(timer);
          resolve(value);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  byTitle(title: string): RunSummary | undefined {
    return [...this.runs.values()].find((run) => run.title === title);
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

const jsonLine = (step: number, gradNorm: number) => `${JSON.stringify({ step, loss: 1 / (step + 1), grad_norm: gradNorm, layers: { 'rnn.weight_hh_l0': gradNorm * 0.8, 'rnn.weight_ih_l0': gradNorm * 0.6 } })}\n`;
const jsonLines = (from: number, to: number, gradNorm: (step: number) => number = () => 0.5) => Array.from({ length: to - from }, (_, i) => jsonLine(from + i, gradNorm(from + i))).join('');

describe('logs worker', function () {
  let host: Host;
  let client: LogsWorkerClient;

  before(() => {
    WORKER = path.join(buildBundles(['logs-worker']), 'logs-worker.js');
  });
  beforeEach(() => {
    host = new Host();
    client = new LogsWorkerClient(WORKER, host);
  });
  afterEach(async () => {
    await client.dispose();
    assert.deepEqual(host.exits, [], 'the worker kept running');
  });

  it('lists the runs of the matched files, one per run folder or loose log, with their status', async () => {
    const workspace = tempDir('workspace');
    for (const run of ['torch_lstm_sgd_noclip', 'torch_rnn_orthogonal_clip1', 'torch_rnn_radius1.6_noclip', 'hf_gpt2_lr3e-4_clip1']) {
      cpSync(path.join(REAL, run), path.join(workspace, 'runs', run), { recursive: true, preserveTimestamps: true });
    }
    // As if the exclude setting left out the text logs: they are not listed, though they sit next to listed runs.
    const files = listFiles(workspace).filter((file) => !file.endsWith('train.log'));
    const started = performance.now();
    const keys = await client.followWorkspace([{ path: workspace, name: 'workspace', qualify: false, files }]);
    const readMs = performance.now() - started;

    const listed = [...host.runs.values()].map((r) => `${r.group} | ${r.label} | ${r.format} | ${r.status} | ${r.steps} | ${r.live}`).sort();
    assert.deepEqual(listed, [
      'runs | hf_gpt2_lr3e-4_clip1 | hf-trainer-state | healthy | 300 | false',
      'runs/hf_gpt2_lr3e-4_clip1 | runs | tfevents | healthy | 300 | false',
      'runs/torch_lstm_sgd_noclip | grads.jsonl | jsonl | exploding | 400 | false',
      'runs/torch_lstm_sgd_noclip | tb | tfevents | exploding | 400 | false',
      'runs/torch_rnn_orthogonal_clip1 | grads.jsonl | jsonl | healthy | 300 | false',
      'runs/torch_rnn_orthogonal_clip1 | tb | tfevents | healthy | 300 | false',
      'runs/torch_rnn_radius1.6_noclip | grads.jsonl | jsonl | nonfinite | 300 | false',
      'runs/torch_rnn_radius1.6_noclip | tb | tfevents | nonfinite | 300 | false',
    ]);
    assert.deepEqual([...keys].sort(), [...host.runs.keys()].sort());
    const lstm = host.byTitle('runs/torch_lstm_sgd_noclip/grads.jsonl');
    assert.equal(lstm?.origin, 'workspace');
    assert.equal(lstm?.diagnosis.gradNorm.maxStep, 4);
    console.log(`      read and diagnosed ${host.runs.size} runs (${files.length} files) in ${readMs.toFixed(0)} ms`);
  });

  it('states each run’s hyperparameters in its summary: from its configuration, else from what its log records', async () => {
    const sweep = tempDir('sweep');
    const files = writeSweep(sweep, 4);
    await client.followWorkspace([{ path: sweep, name: 'sweep', qualify: false, files }]);
    const stated = Object.fromEntries([...host.runs.values()].map((r) => [r.title, r.hyperparameters]));
    assert.deepEqual(stated, {
      // The logged learning rate's peak.
      'lr-0/grads.jsonl': { learningRate: 1e-4 },
      // Lightning's hparams.yaml beside the CSV.
      'lr-1/metrics.csv': { learningRate: 3e-4, batchSize: 64, clipNorm: 1, precision: 'fp16' },
      // This TensorBoard log records neither a learning rate nor a clip threshold, and nothing beside it states them.
      'lr-2/tb': {},
      'lr-3': { learningRate: 3e-4, batchSize: 16, clipNorm: 1, precision: 'fp32', warmupSteps: 0 },
    });
  });

  it('sends a run’s data on request as the dashboard’s update message, wire-encoded, with NaN kept', async () => {
    const file = path.join(tempDir('payload'), 'grads.jsonl');
    cpSync(path.join(REAL, 'torch_rnn_radius1.6_noclip/grads.jsonl'), file, { preserveTimestamps: true });
    const [key] = await client.open(file, 'opened');
    const message = hostToDashboardSchema.parse(decodeWire((await client.dashboardMessage({ kind: 'update', keys: [key] })).text));
    assert.ok(message?.type === 'update', 'the update follows the dashboard protocol');
    const payload = message.run;
    const [expected] = await openRuns(file);
    assert.deepEqual(
      payload.series.map((s) => [s.tag, s.role, [...s.steps], [...s.values]]),
      expected.series.map((s) => [s.tag, s.role, [...s.steps], [...s.values]]),
    );
    assert.ok(payload.series.find((s) => s.tag === 'loss')?.values.some(Number.isNaN), 'the NaN losses arrive as NaN');
    assert.equal(payload.key, key);
    assert.equal(payload.label, 'grads.jsonl');
    assert.equal(payload.status, 'nonfinite');
    assert.equal(payload.diagnosis.gradNorm.firstNonFiniteStep, host.runs.get(key)?.diagnosis.gradNorm.firstNonFiniteStep);
    await assert.rejects(client.dashboardMessage({ kind: 'update', keys: [`${file}#nope`] }), /no run .* is followed/);
  });

  it('shows several runs with different step ranges, each on its own steps, and names the runs it could not read', async () => {
    const dir = tempDir('compare');
    const line = (step: number) => JSON.stringify({ step, loss: 1 / (step + 1), grad_norm: step / 10, layers: { 'rnn.weight_hh_l0': step / 20 } });
    const early = path.join(dir, 'early.jsonl');
    const late = path.join(dir, 'late.jsonl');
    writeFileSync(early, Array.from({ length: 30 }, (_, i) => line(i)).join('\n') + '\n');
    writeFileSync(late, Array.from({ length: 50 }, (_, i) => line(1000 + 2 * i)).join('\n') + '\n');
    const keys = [...(await client.open(early, 'opened')), ...(await client.open(late, 'opened'))];
    const { text, unreadable } = await client.dashboardMessage({ kind: 'show', keys: [...keys, `${late}#nope`], focus: { key: keys[1], step: 1010 } });
    const message = hostToDashboardSchema.parse(decodeWire(text));
    assert.ok(message?.type === 'show', 'the show follows the dashboard protocol');
    assert.deepEqual(message.focus, { key: keys[1], step: 1010 });
    assert.deepEqual(unreadable.map((u) => u.key), [`${late}#nope`]);
    const expected = [...(await openRuns(early)), ...(await openRuns(late))];
    assert.deepEqual(
      message.runs.map((run) => run.series.map((s) => [s.tag, [...s.steps], [...s.values]])),
      expected.map((run) => run.series.map((s) => [s.tag, [...s.steps], [...s.values]])),
      'every run is drawn on its own steps',
    );
    assert.deepEqual(message.runs.map((run) => run.diagnosis.firstStep), [0, 1000]);
  });

  it('builds Export Report’s HTML, CSV and Markdown for followed runs, so the host only writes bytes', async () => {
    // The package layout the report reads its assets from: dist/webview.js and media/.
    const root = tempDir('assets');
    buildBundles(['webview'], { outdir: path.join(root, 'dist') });
    cpSync(path.join(__dirname, '../../media'), path.join(root, 'media'), { recursive: true });
    const file = path.join(tempDir('report'), 'grads.jsonl');
    cpSync(path.join(REAL, 'torch_lstm_sgd_noclip/grads.jsonl'), file);
    const [key] = await client.open(file, 'opened');
    const report = await client.report([key], root);
    const utf8 = new TextDecoder();
    const html = utf8.decode(report.html);
    const embedded = decodeWire(/<script type="application\/json" id="gradlens-data">(.*?)<\/script>/s.exec(html)![1].replace(/\\u003c/g, '<')) as { runs: unknown[] };
    assert.equal(runPayloadSchema.parse(embedded.runs[0])?.status, 'exploding');
    assert.equal(utf8.decode(report.csv).trim().split('\n').length, 1 + 400, 'a header and a row per step');
    assert.match(utf8.decode(report.markdown), /\*\*Error: explosion, steps 3–4\.\*\*/);
    await assert.rejects(client.report([`${file}#nope`], root), /no run .* is followed/);
  });

  it('follows a growing log: new steps within a poll, live while it grows, a bad line as a warning', async () => {
    client.configure({ ...DEFAULT_LOGS_SETTINGS, pollIntervalMs: 100 });
    const file = path.join(tempDir('live'), 'train.jsonl');
    writeFileSync(file, jsonLines(0, 3));
    const [key] = await client.open(file, 'experiment');
    assert.deepEqual(
      (({ label, group, steps, live, status }) => ({ label, group, steps, live, status }))(host.runs.get(key)!),
      { label: 'train.jsonl', group: 'Experiments', steps: 3, live: true, status: 'healthy' },
    );

    const appended = performance.now();
    appendFileSync(file, jsonLines(3, 8));
    await host.until('the appended steps', () => host.runs.get(key)?.steps === 8);
    const shownMs = performance.now() - appended;

    appendFileSync(file, 'Traceback (most recent call last):\n' + jsonLines(8, 20, (step) => 10 ** (step - 8)));
    const run = await host.until('the explosion', () => host.runs.get(key)?.steps === 20 && host.runs.get(key));
    assert.equal(run.status, 'exploding');
    assert.equal(run.live, true);
    assert.ok(run.warnings.some((w) => w.includes('train.jsonl:9: not a JSON object')), run.warnings.join('\n'));
    console.log(`      an appended step showed after ${shownMs.toFixed(0)} ms (poll every 100 ms)`);
  });

  it('sends a grown log as its new points alone, given what the page holds, and whole after a restart or a rewrite', async () => {
    client.configure({ ...DEFAULT_LOGS_SETTINGS, pollIntervalMs: 100 });
    const file = path.join(tempDir('deltas'), 'train.jsonl');
    writeFileSync(file, jsonLines(0, 50));
    const [key] = await client.open(file, 'opened');
    const shown = await client.dashboardMessage({ kind: 'show', keys: [key] });
    const since = shown.cursors[key];
    assert.equal(since?.series.loss, 50);
    const decoded = (text: string) => hostToDashboardSchema.parse(decodeWire(text));

    appendFileSync(file, jsonLines(50, 60));
    await host.until('the appended steps', () => host.runs.get(key)?.steps === 60);
    const grown = await client.dashboardMessage({ kind: 'update', keys: [key], since });
    const append = decoded(grown.text);
    assert.ok(append?.type === 'append', `an append, not a ${append?.type}`);
    const loss = append.run.series.find((s) => s.tag === 'loss');
    assert.deepEqual([...(loss?.steps ?? [])], [50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    assert.equal(loss?.keep, 50, 'the page keeps the 50 points it has');
    assert.equal(append.run.diagnosis.steps, 60, 'the diagnosis is the whole run’s');
    assert.equal(grown.cursors[key]?.series.loss, 60);
    // Unchanged since: nothing new to add, yet the (small) diagnosis still comes.
    const same = decoded((await client.dashboardMessage({ kind: 'update', keys: [key], since: grown.cursors[key] })).text);
    assert.ok(same?.type === 'append' && same.run.series.length === 0);

    // Training restarted from a checkpoint: steps 55 on are written again, so what the page holds from 55 on is gone.
    appendFileSync(file, jsonLines(55, 58));
    await host.until('the restart', () => host.runs.get(key)?.steps === 58);
    const restarted = decoded((await client.dashboardMessage({ kind: 'update', keys: [key], since: grown.cursors[key] })).text);
    assert.equal(restarted?.type, 'update', 'a restart sends the run whole');
    // Without a cursor (the page lost a message), the run goes whole too.
    const whole = await client.dashboardMessage({ kind: 'update', keys: [key] });
    assert.equal(decoded(whole.text)?.type, 'update');
    // The file rewritten in place, as long as before but with other values: read again, sent whole.
    writeFileSync(file, jsonLines(0, 58, () => 7));
    await host.until('the rewrite', () => host.runs.get(key)?.diagnosis.gradNorm.max === 7);
    assert.equal(decoded((await client.dashboardMessage({ kind: 'update', keys: [key], since: whole.cursors[key] })).text)?.type, 'update', 'a rewrite sends the run whole');
  });

  it('drops the run of a deleted file, and lists a run that starts in an opened folder', async function () {
    this.timeout(REDISCOVER_MS * 4);
    client.configure({ ...DEFAULT_LOGS_SETTINGS, pollIntervalMs: 100 });
    const folder = tempDir('folder');
    writeFileSync(path.join(folder, 'first.jsonl'), jsonLines(0, 5));
    const keys = await client.open(folder, 'opened');
    assert.deepEqual(keys, [path.join(folder, 'first.jsonl')]);

    mkdirSync(path.join(folder, 'second'));
    writeFileSync(path.join(folder, 'second', 'grads.jsonl'), jsonLines(0, 7));
    const second = await host.until('the new run', () => host.byTitle(`${path.basename(folder)}/second/grads.jsonl`));
    assert.deepEqual([second.group, second.label, second.steps], ['Opened', 'grads.jsonl', 7]);

    unlinkSync(path.join(folder, 'first.jsonl'));
    await host.until('the deleted run to go', () => !host.runs.has(keys[0]));
    assert.deepEqual([...host.runs.keys()], [second.key]);
  });

  it('lists an opened log again when it is deleted and created again', async function () {
    this.timeout(REDISCOVER_MS * 4);
    client.configure({ ...DEFAULT_LOGS_SETTINGS, pollIntervalMs: 100 });
    const file = path.join(tempDir('reopened'), 'grads.jsonl');
    writeFileSync(file, jsonLines(0, 5));
    const [key] = await client.open(file, 'opened');
    unlinkSync(file);
    await host.until('the deleted run to go', () => !host.runs.has(key));
    writeFileSync(file, jsonLines(0, 9));
    const back = await host.until('the run to come back', () => host.runs.get(key));
    assert.deepEqual([back.group, back.steps], ['Opened', 9]);
  });

  it('replaces the workspace runs when the matched files change', async () => {
    const workspace = tempDir('rescan');
    const a = path.join(workspace, 'a.jsonl');
    const b = path.join(workspace, 'logs', 'b.csv');
    writeFileSync(a, jsonLines(0, 4));
    mkdirSync(path.dirname(b));
    writeFileSync(b, 'step,loss,grad_norm\n0,1.0,0.5\n1,0.9,0.4\n');
    const folder = { path: workspace, name: 'proj', qualify: true };
    assert.deepEqual(await client.followWorkspace([{ ...folder, files: [a] }]), [a]);
    assert.equal(host.runs.get(a)?.group, 'proj');
    await client.followWorkspace([{ ...folder, files: [a, b] }]);
    assert.deepEqual([...host.runs.values()].map((r) => [r.title, r.group, r.format, r.steps]).sort(), [['proj/a.jsonl', 'proj', 'jsonl', 4], ['proj/logs/b.csv', 'proj/logs', 'csv', 2]]);
    await client.followWorkspace([{ ...folder, files: [b] }]);
    assert.deepEqual([...host.runs.keys()], [b]);
  });

  it('applies new settings: tag rules re-read the logs, thresholds re-diagnose them', async () => {
    const folder = tempDir('settings');
    const custom = path.join(folder, 'custom.jsonl');
    // A norm under a name no built-in rule knows, rising slowly from 1 to 500, while the loss still falls.
    const norm = (step: number) => Math.min(500, 1.13 ** Math.max(0, step - 20));
    writeFileSync(custom, Array.from({ length: 80 }, (_, step) => `{"step": ${step}, "loss": ${2 - step / 100}, "my_total_norm": ${norm(step)}}\n`).join(''));
    await client.open(custom, 'opened');
    assert.equal(host.runs.get(custom)?.diagnosis.gradNormSource, 'none');

    const rules = [{ pattern: 'my_*_norm', role: 'gradNorm' as const }];
    client.configure({ ...DEFAULT_LOGS_SETTINGS, tagRules: rules });
    const read = await host.until('the custom norm', () => host.runs.get(custom)?.diagnosis.gradNormSource === 'logged' && host.runs.get(custom));
    assert.equal(read.diagnosis.gradNorm.max, 500);
    assert.equal(read.status, 'exploding');

    client.configure({ ...DEFAULT_LOGS_SETTINGS, tagRules: rules, warnThreshold: 1e4, alertThreshold: 1e5 });
    const relaxed = await host.until('the higher thresholds', () => host.runs.get(custom)?.status !== 'exploding' && host.runs.get(custom));
    assert.equal(relaxed.status, 'healthy');
  });

  it('refuses a FIFO named like a log at once, lists none matched by the globs, and answers what comes next', async function () {
    this.timeout(15_000);
    const folder = tempDir('fifo');
    const fifos = ['grads.jsonl', 'metrics.csv', 'train.log', 'trainer_state.json'].map((name) => path.join(folder, name));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    await assert.rejects(client.open(fifos[0], 'opened'), /grads\.jsonl: not a regular file/);
    assert.deepEqual(await client.followWorkspace([{ path: folder, name: 'fifo', qualify: false, files: fifos }]), []);
    assert.deepEqual(await client.open(folder, 'opened'), []);
    const keys = await client.open(path.join(REAL, 'torch_lstm_sgd_noclip', 'grads.jsonl'), 'opened');
    assert.equal(keys.length, 1);
  });

  it('fails to open what it cannot read, with the reason', async () => {
    const folder = tempDir('unreadable');
    const binary = path.join(folder, 'weights.bin');
    writeFileSync(binary, Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    await assert.rejects(client.open(binary, 'opened'), /weights\.bin: binary content in no format GradLens reads/);
    await assert.rejects(client.open(path.join(folder, 'missing.jsonl'), 'opened'), /ENOENT/);
    assert.equal(host.runs.size, 0);
  });
});

describe('logs worker protocol', () => {
  it('drops a message it does not know, says so, and keeps working', async () => {
    const worker = new Worker(WORKER);
    try {
      const messages: unknown[] = [];
      worker.on('message', (message: unknown) => messages.push(message));
      const answered = new Promise<void>((resolve) => worker.on('message', (message: { type?: string }) => message.type === 'failed' && resolve()));
      worker.postMessage({ type: 'open', requestId: 'one', path: 3 });
      worker.postMessage({ type: 'open', requestId: 1, path: path.join(tempDir('protocol'), 'missing'), origin: 'opened' });
      await answered;
      assert.deepEqual(messages.map((m) => logsToHostSchema.parse(m)?.type), ['log', 'failed']);
      assert.match(JSON.stringify(messages[0]), /dropped a message that does not follow the protocol/);
    } finally {
      await worker.terminate();
    }
  });

  it('stops a worker that does not answer within the request timeout, and reports it as stopped', async () => {
    const silent = path.join(tempDir('silent'), 'silent.js');
    writeFileSync(silent, 'setInterval(() => {}, 1000);\n');
    const host = new Host();
    const client = new LogsWorkerClient(silent, host, { requestTimeoutMs: 300 });
    await assert.rejects(client.open('/tmp', 'opened'), /the logs worker did not answer "open" within 0\.3 s/);
    assert.deepEqual(host.exits, ['the logs worker did not answer "open" within 0.3 s']);
    await assert.rejects(client.dashboardMessage({ kind: 'update', keys: ['any'] }), /not running/);
  });

  it('reports a worker that runs out of memory, which stops the worker and not this process', async () => {
    const hungry = path.join(tempDir('hungry'), 'hungry.js');
    writeFileSync(hungry, "const kept = [];\nsetInterval(() => { for (let i = 0; i < 1e5; i++) kept.push({ i, text: 'x'.repeat(20) + i }); }, 1);\n");
    const host = new Host();
    const client = new LogsWorkerClient(hungry, host, { maxHeapMb: 32 });
    await assert.rejects(client.open('/tmp', 'opened'), /the logs worker stopped \(exit code 1: it ran out of memory \(its limit is 32 MB\)\)/);
    assert.deepEqual(host.exits, ['the logs worker stopped (exit code 1: it ran out of memory (its limit is 32 MB))']);
  });

  it('reports a worker that dies, and fails what was asked of it', async () => {
    const dying = path.join(tempDir('dying'), 'dying.js');
    writeFileSync(dying, "setTimeout(() => { throw new Error('out of luck'); }, 50);\n");
    const host = new Host();
    const client = new LogsWorkerClient(dying, host);
    await assert.rejects(client.open('/tmp', 'opened'), /the logs worker stopped \(exit code 1: out of luck\)/);
    assert.deepEqual(host.exits, ['the logs worker stopped (exit code 1: out of luck)']);
    assert.ok(host.logs.some((line) => line.startsWith('error: logs worker: Error: out of luck')), host.logs.join('\n'));
  });
});
