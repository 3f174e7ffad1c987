import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePythonJson } from '../../src/logs/formats/python-json';
import { openRuns } from '../../src/logs/open';
import { defaultLogPath, scriptStem } from '../../src/instrument/launch';
import { PYTHON, pythonWithoutTorch } from '../python/interpreters';

/** `gradlens run`, from its sources (tsx), on the training scripts of test/python/instrument under Debian's PyTorch. */
const ROOT = path.join(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const SHAPES = path.join(ROOT, 'test/python/instrument/train_shapes.py');

describe('gradlens run', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-run-'));

  function gradlens(...args: string[]) {
    return spawnSync(TSX, [MAIN, 'run', ...args], { encoding: 'utf8', cwd: dir, timeout: 100_000 });
  }

  it('runs the command with its own arguments, says where the log goes, and logs every --every-th step', async () => {
    const out = path.join(dir, 'plain.jsonl');
    writeFileSync(out, 'a previous run\n');
    const r = gradlens('--out', out, '--every', '2', '--weights-every', '0', '--', PYTHON, SHAPES, 'plain', '--steps', '7');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^gradlens run: logging gradients to ${out}\n`));
    assert.match(r.stderr, new RegExp(`gradlens run: the log is ${out}; diagnose it with: gradlens analyze "${out}"\n$`));
    // The script's --steps reached the script: 7 steps, every 2nd logged, the old file replaced.
    const records = readFileSync(out, 'utf8').trim().split('\n').map((line) => parsePythonJson(line) as { step: number; weight_norms?: unknown });
    assert.deepEqual(
      records.map((record) => record.step),
      [0, 2, 4, 6],
    );
    assert.ok(records.every((record) => record.weight_norms === undefined));
    const [run] = await openRuns(out);
    assert.deepEqual(run.warnings, []);
  });

  it('passes the exit code through: a crash keeps its log, an early exit is told nothing was logged', async () => {
    const crash = gradlens('--out', 'crash.jsonl', '--', PYTHON, SHAPES, 'crash');
    assert.equal(crash.status, 1);
    assert.match(crash.stderr, /RuntimeError: the data loader failed at step 5/);
    const [run] = await openRuns(path.join(dir, 'crash.jsonl'));
    assert.equal(run.series.find((s) => s.role === 'gradNorm')!.steps.length, 5);

    const early = gradlens('--out', 'exit.jsonl', '--', PYTHON, SHAPES, 'exit');
    assert.equal(early.status, 3);
    assert.match(early.stderr, /nothing was logged \(.*exit\.jsonl was not written\): the command exited with code 3 before any torch\.optim optimizer stepped/);
    assert.ok(!existsSync(path.join(dir, 'exit.jsonl')));
  });

  it('names the log after the script under gradlens-runs/ by default', () => {
    const r = gradlens('--', PYTHON, SHAPES, 'value', '--steps', '2');
    assert.equal(r.status, 0, r.stderr);
    const [log] = readdirSync(path.join(dir, 'gradlens-runs'));
    assert.match(log, /^train_shapes-\d{8}-\d{6}\.jsonl$/);
    assert.equal(readFileSync(path.join(dir, 'gradlens-runs', log), 'utf8').trim().split('\n').length, 2);
    assert.equal(defaultLogPath(['python3', 'train.py', '--lr', '1'], new Date(2026, 11, 3, 6, 14, 18)), path.join('gradlens-runs', 'train-20261203-061418.jsonl'));
    assert.equal(scriptStem(['python', '-m', 'pkg.trainer', '--x']), 'trainer');
    assert.equal(scriptStem(['torchrun', '--nproc-per-node', '2', 'scripts/fit.py']), 'fit');
  });

  it('a missing interpreter exits 127, an interpreter without torch is named, bad usage exits 2', () => {
    const missing = gradlens('--out', 'missing.jsonl', '--', path.join(dir, 'no-such-python'), 'train.py');
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /cannot start ".*no-such-python": no such program/);

    const bare = gradlens('--out', 'bare.jsonl', '--', pythonWithoutTorch(dir), SHAPES, 'plain');
    assert.equal(bare.status, 1);
    assert.match(bare.stderr, /ModuleNotFoundError: No module named 'torch'/);
    assert.match(bare.stderr, /nothing was logged: .*python cannot import torch\. Install PyTorch for this interpreter/);

    assert.equal(gradlens().status, 2);
    const unknown = gradlens('--bogus', '--', PYTHON, 'train.py');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option --bogus/);
  });
});
