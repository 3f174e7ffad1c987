import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRuns } from '../../src/logs/open';
import { applyEdits, type PythonAnalyzer } from '../../src/python';
import type { LoggerPlan } from '../../src/python/logger-insertion';
import { loadAnalyzer } from '../python-rules/helpers';

/**
 * "Insert Gradient Logger" (the command and the language server's "Log
 * gradient norms with GradLens", one insertion in src/python) on realistic
 * training scripts: the edits land where media/gradlens_logger.py says the
 * calls belong, the edited script runs under Debian's PyTorch, and GradLens
 * reads the log it writes.
 */
const ROOT = path.join(__dirname, '../..');
const PYTHON = '/usr/bin/python3';
const script = (name: string): string => readFileSync(path.join(__dirname, 'scripts', name), 'utf8');

let analyzer: PythonAnalyzer;

/** The command's plan for the loop at `cursorLine` (else the first one), and the script with its edits applied as an editor does. */
function insert(text: string, cursorLine = 0): { plan: LoggerPlan; result: string } {
  const plan = analyzer.loggerPlan(text, { line: cursorLine, orFirstLoop: true });
  return { plan, result: plan.type === 'insertion' ? applyEdits(text, plan.edits) : text };
}

/** The line (trimmed) after the one that matches, in the edited script. */
function lineAfter(text: string, pattern: RegExp): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => pattern.test(l));
  assert.ok(at >= 0, `no line matches ${pattern}`);
  return lines[at + 1].trim();
}

/** The line (trimmed) before the one that matches. */
function lineBefore(text: string, pattern: RegExp): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => pattern.test(l));
  assert.ok(at > 0, `no line after the first matches ${pattern}`);
  return lines[at - 1].trim();
}

/** Runs the edited script next to a copy of the logger and reads back the steps GradLens sees in its log. */
async function runAndRead(text: string, args: string[] = []): Promise<{ steps: number[]; maxNorm?: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-insert-'));
  try {
    writeFileSync(path.join(dir, 'train.py'), text);
    copyFileSync(path.join(ROOT, 'media/gradlens_logger.py'), path.join(dir, 'gradlens_logger.py'));
    const result = spawnSync(PYTHON, ['train.py', ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `the edited script failed:\n${result.stderr}`);
    const [run] = await openRuns(path.join(dir, 'gradlens.jsonl'));
    const norm = run.series.find((s) => s.role === 'gradNorm');
    assert.ok(norm, `no gradient norm in the log; tags: ${run.series.map((s) => s.tag).join(', ')}`);
    const maxNorm = run.series.find((s) => s.role === 'maxNorm');
    return { steps: [...norm.steps], maxNorm: maxNorm && [...maxNorm.values] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const range = (from: number, to: number, by = 1): number[] => Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);

describe('insert gradient logger', () => {
  before(async () => {
    analyzer = await loadAnalyzer();
  });

  it('instruments a plain loop over epochs of batches', async () => {
    const { plan, result } = insert(script('char_lstm.py'));
    assert.equal(plan.type, 'insertion');
    assert.equal(lineAfter(result, /^from torch\.utils\.data import/), 'from gradlens_logger import GradLensLogger');
    assert.equal(lineAfter(result, /^ {4}model\.train\(\)/), 'grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=args.clip)');
    assert.equal(lineAfter(result, /loss\.backward\(\)/), 'grad_logger.log(epoch * len(loader) + i, loss)');
    assert.match(lineAfter(result, /grad_logger\.log\(/), /clip_grad_norm_/);
    // Two epochs of five batches, numbered on across epochs, with the clip threshold from the command line.
    const { steps, maxNorm } = await runAndRead(result, ['--epochs', '2', '--clip', '0.5']);
    assert.deepEqual(steps, range(0, 9));
    assert.deepEqual(maxNorm, new Array(10).fill(0.5));
  });

  it('logs after unscale_ and before clipping in an AMP loop, with the loop\'s own step counter', async () => {
    const { result } = insert(script('amp_classifier.py'));
    assert.equal(lineAfter(result, /^from torch import nn$/), 'from gradlens_logger import GradLensLogger');
    assert.equal(lineAfter(result, /^global_step = 0/), 'grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=opt, max_norm=1.0, scaler=scaler)');
    assert.equal(lineAfter(result, /scaler\.unscale_\(opt\)/), 'grad_logger.log(global_step, loss)');
    assert.deepEqual((await runAndRead(result)).steps, range(0, 23));
  });

  it('logs once per optimizer step under gradient accumulation, in the function that trains', async () => {
    const { result } = insert(script('rnn_accumulate.py'));
    assert.equal(lineBefore(result, /^ {4}for x, target in batches/), 'grad_logger = GradLensLogger("gradlens.jsonl", net, optimizer=opt)');
    const log = lineAfter(result, /if micro_batches % accumulate == 0:/);
    assert.equal(log, 'grad_logger.log(micro_batches, loss)');
    assert.equal(lineAfter(result, /grad_logger\.log\(/), 'opt.step()');
    assert.deepEqual((await runAndRead(result)).steps, range(2, 24, 2));
  });

  it('counts steps itself when the loop has no index, after a shebang and before value clipping', async () => {
    const { result } = insert(script('mlp_epochs.py'));
    assert.match(result, /^#!\/usr\/bin\/env python3\n/);
    assert.equal(lineBefore(result, /^grad_logger_step = 0/), 'grad_logger = GradLensLogger("gradlens.jsonl", net, optimizer=optimizer)');
    assert.equal(lineAfter(result, /^grad_logger_step = 0/), 'for epoch in range(3):');
    assert.equal(lineAfter(result, /loss\.backward\(\)/), 'grad_logger.log(grad_logger_step, loss)');
    assert.equal(lineAfter(result, /grad_logger\.log\(/), 'grad_logger_step += 1');
    assert.match(lineAfter(result, /grad_logger_step \+= 1/), /clip_grad_value_/);
    assert.deepEqual((await runAndRead(result)).steps, range(0, 8));
  });

  it('does not take a counter that skips passes for the step', () => {
    const text = script('char_lstm.py')
      .replace('    model.train()\n', '    model.train()\n    spikes = 0\n')
      .replace('            optimizer.step()\n', '            optimizer.step()\n            if loss.item() > 5:\n                spikes += 1\n');
    assert.equal(lineAfter(insert(text).result, /loss\.backward\(\)/), 'grad_logger.log(epoch * len(loader) + i, loss)');
  });

  it('never inserts twice', () => {
    for (const name of ['char_lstm.py', 'amp_classifier.py', 'rnn_accumulate.py', 'mlp_epochs.py']) {
      const once = insert(script(name)).result;
      assert.deepEqual(insert(once).plan, { type: 'nothing', reason: 'The gradient logger is already in this script.' }, name);
    }
    // The project's own logger test script already uses the logger.
    assert.deepEqual(insert(readFileSync(path.join(ROOT, 'test/python/train_tiny.py'), 'utf8')).plan.type, 'nothing');
  });

  it('adds only what is missing when the import is already there', () => {
    const text = script('char_lstm.py').replace('import torch\n', 'import torch\nfrom gradlens_logger import GradLensLogger\n');
    const { result } = insert(text);
    assert.equal(result.match(/from gradlens_logger import GradLensLogger/g)?.length, 1);
    assert.equal(lineAfter(result, /loss\.backward\(\)/), 'grad_logger.log(epoch * len(loader) + i, loss)');
  });

  it('uses the logger the script already creates', () => {
    const text = script('char_lstm.py')
      .replace('import torch\n', 'import torch\nfrom gradlens_logger import GradLensLogger\n')
      .replace('    model.train()\n', "    model.train()\n    norms = GradLensLogger('runs/grads.jsonl', model, optimizer=optimizer)\n");
    const { plan, result } = insert(text);
    assert.ok(plan.type === 'insertion' && plan.edits.length === 1);
    assert.equal(lineAfter(result, /loss\.backward\(\)/), 'norms.log(epoch * len(loader) + i, loss)');
  });

  it('keeps the file\'s CRLF line endings', () => {
    const crlf = script('char_lstm.py').replace(/\n/g, '\r\n');
    assert.equal(insert(crlf).result, insert(script('char_lstm.py')).result.replace(/\n/g, '\r\n'));
  });

  it('inserts what goes at one place as one edit, in order, so every editor applies it alike', () => {
    const loop = ['for x in data:', '    loss = model(x)', '    loss.backward()', '    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)', '    opt.step()', ''];
    const { plan, result } = insert(['import torch', ...loop].join('\n'));
    assert.ok(plan.type === 'insertion');
    // The import (after line 0) and the logger (before the loop on line 1) go at one position.
    assert.deepEqual(plan.edits.map(({ range }) => range.start), [{ line: 1, character: 0 }, { line: 4, character: 0 }]);
    const created = ['from gradlens_logger import GradLensLogger', 'grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=opt, max_norm=1.0)', 'grad_logger_step = 0'];
    assert.equal(result, ['import torch', ...created, ...loop.slice(0, 3), '    grad_logger.log(grad_logger_step, loss)', '    grad_logger_step += 1', ...loop.slice(3)].join('\n'));
  });

  it('instruments the training loop at the cursor, else the first one, and says why when there is none', () => {
    const loop = (optimizer: string) => [`for x in data:`, `    loss = net(x).sum()`, `    loss.backward()`, `    ${optimizer}.step()`];
    const text = ['import torch', 'net = torch.nn.Linear(2, 1)', 'first = torch.optim.SGD(net.parameters(), lr=0.1)', 'second = torch.optim.SGD(net.parameters(), lr=0.1)', ...loop('first'), ...loop('second'), ''].join('\n');
    assert.match(insert(text, 9).result, /optimizer=second\)\ngrad_logger_step = 0\nfor x in data:\n {4}loss = net\(x\)\.sum\(\)\n {4}loss\.backward\(\)\n {4}grad_logger\.log\(grad_logger_step, loss\)\n {4}grad_logger_step \+= 1\n {4}second\.step/);
    assert.match(insert(text, 1).result, /optimizer=first\)/);
    // The code action is offered on a training loop only.
    assert.deepEqual(analyzer.loggerInsertion(text, 1), []);
    const noLoop = 'import torch\n\ndef train_step(model, batch, optimizer):\n    loss = model(batch).pow(2).mean()\n    loss.backward()\n    optimizer.step()\n';
    assert.deepEqual(insert(noLoop, 3).plan, { type: 'nothing', reason: 'No training loop found: GradLens looks for backward() followed by an optimizer step() inside a for or while loop.' });
  });
});
