import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CodeLens, Diagnostic, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { bundleServer, fileUri, removeBundle, ServerSession } from './harness';

const REAL = path.resolve(__dirname, '..', 'fixtures', 'real');
const LSTM_NOCLIP = path.join(REAL, 'torch_lstm_sgd_noclip', 'grads.jsonl');
const RNN_RADIUS = path.join(REAL, 'torch_rnn_radius1.6_noclip');
const LIGHTNING_CSV = path.join(REAL, 'lightning_rnn_noclip', 'csv', 'version_0', 'metrics.csv');
const HF_STATE = path.join(REAL, 'hf_gpt2_lr3e-4_clip1', 'trainer_state.json');

const ERROR = 1;
const INFORMATION = 3;

function summary(diagnostics: Diagnostic[]): [number, string, number | undefined][] {
  return diagnostics.map((d) => [d.range.start.line, String(d.code), d.severity]);
}

function hoverText(hover: Hover | null): string {
  assert.ok(hover, 'a hover');
  return (hover.contents as MarkupContent).value;
}

/** A trainer_state.json as the Trainer writes it (indent 2, sorted keys), with a NaN norm at `nanStep`. */
function trainerState(steps: number, nanStep: number): string {
  const history = Array.from({ length: steps }, (_, i) => ({
    epoch: (i + 1) / steps,
    grad_norm: i + 1 === nanStep ? 'NaN_PLACEHOLDER' : 1 + 0.1 * Math.sin(i),
    learning_rate: 0.001,
    loss: 3 - i / steps,
    step: i + 1,
  }));
  return JSON.stringify({ global_step: steps, log_history: history }, null, 2).replace('"NaN_PLACEHOLDER"', 'NaN');
}

describe('language server: log files, through the protocol', function () {
  let bundle: { dir: string; script: string };
  let server: ServerSession;
  let scratch: string;

  before(async () => {
    bundle = await bundleServer();
    server = await ServerSession.start(bundle.script);
    scratch = mkdtempSync(path.join(tmpdir(), 'gradlens-logs-'));
  });

  after(async () => {
    if (server.alive) await server.stop();
    removeBundle(bundle.dir);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('declares hover and CodeLens, and marks the LSTM run where it explodes, vanishes, spikes and diverges', async () => {
    const uri = fileUri(LSTM_NOCLIP);
    const diagnostics = await server.open(uri, 'jsonl', '');
    assert.deepEqual(summary(diagnostics), [
      [3, 'explosion', ERROR],
      [5, 'vanishing', ERROR],
      [258, 'spike', INFORMATION],
      [360, 'divergence', ERROR],
    ]);
    const explosion = diagnostics[0];
    assert.equal(explosion.source, 'GradLens');
    assert.equal(explosion.codeDescription?.href, 'https://github.com/gradlens/gradlens#what-the-diagnosis-says');
    assert.match(explosion.message, /exploded at step 3/);
    // The diagnostic covers exactly the step's line, read from disk even though the document sent was empty.
    assert.deepEqual(explosion.range, { start: { line: 3, character: 0 }, end: { line: 3, character: 529 } });
  });

  it('shows a step\'s norm against the threshold and its top parameters on hover', async () => {
    const uri = fileUri(LSTM_NOCLIP);
    const text = hoverText(await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 5 } }));
    assert.match(text, /step 3/);
    assert.match(text, /Gradient norm \*\*118\*\*/);
    assert.match(text, /recommended threshold 3\.38/);
    assert.match(text, /\| `lstm\.weight_hh_l1` \| 84\.3 \| 51% \|/);
    const healthy = hoverText(await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 0 } }));
    assert.match(healthy, /step 1\*\*/);
    assert.doesNotMatch(healthy, /explosion/);
  });

  it('puts a CodeLens on the first line that opens the dashboard on this file', async () => {
    const uri = fileUri(LSTM_NOCLIP);
    const lenses: CodeLens[] = await server.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line, 0);
    assert.deepEqual(lenses[0].command, { title: 'Open in GradLens dashboard · 4 findings', command: 'gradlens.openDashboard', arguments: [{ key: LSTM_NOCLIP }] });
  });

  it('marks the RNN of spectral radius 1.6 at its first step and its first NaN, in JSON lines and in the console log', async () => {
    assert.deepEqual(summary(await server.open(fileUri(path.join(RNN_RADIUS, 'grads.jsonl')), 'jsonl', '')), [
      [0, 'explosion', ERROR],
      [1, 'nonfinite', ERROR],
    ]);
    // The console log has a header line: the steps sit one line lower.
    const text = await server.open(fileUri(path.join(RNN_RADIUS, 'train.log')), 'log', '');
    assert.deepEqual(summary(text), [
      [1, 'explosion', ERROR],
      [2, 'nonfinite', ERROR],
    ]);
    assert.match(text[1].message, /non-finite values at step 1/);
  });

  it('marks the Lightning CSV under its header', async () => {
    assert.deepEqual(summary(await server.open(fileUri(LIGHTNING_CSV), 'csv', '')), [
      [1, 'explosion', ERROR],
      [3, 'vanishing', ERROR],
      [59, 'nonfinite', ERROR],
    ]);
  });

  it('reads a healthy trainer_state.json without findings, and hovers any line of a log_history entry', async () => {
    const uri = fileUri(HF_STATE);
    assert.deepEqual(await server.open(uri, 'json', ''), []);
    const lenses: CodeLens[] = await server.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses[0].command?.title, 'Open in GradLens dashboard · 0 findings');
    // Line 11 is the `{` of the first entry, line 13 its grad_norm: both are step 1's.
    for (const line of [11, 13, 16]) {
      const text = hoverText(await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character: 4 } }));
      assert.match(text, /step 1\*\*/);
      assert.match(text, /Gradient norm \*\*2\.47\*\*/);
      assert.match(text, /recommended threshold 1\.31/);
    }
  });

  it('puts a trainer_state.json finding on its entry\'s "step" line', async () => {
    const file = path.join(scratch, 'trainer_state.json');
    const text = trainerState(60, 40);
    writeFileSync(file, text);
    const stepLine = text.split('\n').findIndex((line) => line.trim() === '"step": 40');
    assert.ok(stepLine > 0);
    const diagnostics = await server.open(fileUri(file), 'json', '');
    const nonfinite = diagnostics.find((d) => d.code === 'nonfinite');
    assert.ok(nonfinite, JSON.stringify(summary(diagnostics)));
    assert.equal(nonfinite.range.start.line, stepLine);
    assert.equal(nonfinite.severity, ERROR);
  });

  it('diagnoses again when a training run appends to the open log on disk', async () => {
    const file = path.join(scratch, 'growing.jsonl');
    const healthy = Array.from({ length: 30 }, (_, i) => JSON.stringify({ step: i, loss: 2, grad_norm: 1 + 0.05 * Math.sin(i) }));
    writeFileSync(file, healthy.join('\n') + '\n');
    const uri = fileUri(file);
    assert.deepEqual(await server.open(uri, 'jsonl', ''), []);
    const next = server.nextDiagnostics(uri);
    appendFileSync(file, '{"step": 30, "loss": NaN, "grad_norm": NaN}\n');
    assert.deepEqual(summary(await next), [[30, 'nonfinite', ERROR]]);
    // Saving from the editor re-reads it too (the text sent is ignored; the file on disk is the log).
    const saved = server.nextDiagnostics(uri);
    await server.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
    assert.deepEqual(summary(await saved), [[30, 'nonfinite', ERROR]]);
    const closed = server.nextDiagnostics(uri);
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    assert.deepEqual(await closed, []);
  });

  it('finds a spike at line 30,000 of a 50,000-line log', async () => {
    const file = path.join(scratch, 'big.jsonl');
    const lines = Array.from({ length: 50000 }, (_, i) =>
      JSON.stringify({ step: i, loss: 2 + 0.1 * Math.cos(i), grad_norm: i === 30000 ? 8 : 1 + 0.1 * Math.sin(i * 1.7) }),
    );
    writeFileSync(file, lines.join('\n') + '\n');
    assert.deepEqual(summary(await server.open(fileUri(file), 'jsonl', '')), [[30000, 'spike', INFORMATION]]);
  });

  it('survives binary content and garbage, answering with nothing, not even a CodeLens', async () => {
    const binary = path.join(scratch, 'weights.log');
    writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const garbage = path.join(scratch, 'notes.csv');
    writeFileSync(garbage, 'step,grad_norm\n"unterminated,\n\u0000\u0001,{{{\n,,,,\nNaN,abc\n');
    for (const file of [binary, garbage]) {
      const uri = fileUri(file);
      assert.deepEqual(await server.open(uri, 'log', ''), []);
      assert.equal(await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 0 } }), null);
      assert.deepEqual(await server.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } }), []);
    }
    assert.ok(server.alive);
  });

  it('answers nothing for FIFOs named like logs, and still reads the logs opened after them', async () => {
    // Four: as many as libuv's file threads, which a blocking open of each would hold for good.
    const fifos = ['a.jsonl', 'b.jsonl', 'c.log', 'd.csv'].map((name) => path.join(scratch, name));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    for (const fifo of fifos) assert.deepEqual(await server.open(fileUri(fifo), 'log', ''), []);
    const real = path.join(scratch, 'after-fifos.jsonl');
    writeFileSync(real, Array.from({ length: 40 }, (_, i) => JSON.stringify({ step: i, loss: 1, grad_norm: i === 30 ? 5000 : 1 })).join('\n') + '\n');
    assert.deepEqual(summary(await server.open(fileUri(real), 'jsonl', '')).map(([line, kind]) => [line, kind]), [[30, 'explosion']]);
    assert.ok(server.alive);
  });

  it('shuts down and exits cleanly', async () => {
    assert.equal(await server.stop(), 0);
  });
});
