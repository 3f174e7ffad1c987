import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '../..');
const REFERENCE = path.join(ROOT, 'test/fixtures/reference_grads_float64.json');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-cli-'));
const CLI = path.join(dir, 'cli.js');

function gradlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Parses a JSON line the way Python would, bare NaN and Infinity included. */
function parseLine(line: string): Record<string, unknown> {
  return JSON.parse(line.replace(/\bNaN\b/g, '"NaN"').replace(/-?\bInfinity\b/g, (m) => `"${m}"`)) as Record<string, unknown>;
}

describe('gradlens CLI', () => {
  before(() => {
    // The CLI finds its worker beside itself, as in dist/.
    for (const [entry, out] of [['src/cli/main.ts', CLI], ['src/worker/main.ts', path.join(dir, 'worker.js')]]) {
      buildSync({ entryPoints: [path.join(ROOT, entry)], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
    }
  });

  describe('train', () => {
    it('writes one JSON line per step to stdout and a summary to stderr', () => {
      const r = gradlens('train', '--steps', '5', '--hidden', '8', '--seq-len', '10');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map(parseLine);
      assert.deepEqual(lines.map((l) => l.step), [0, 1, 2, 3, 4]);
      for (const l of lines) {
        for (const key of ['loss', 'grad_norm', 'lr', 'clipped', 'layers', 'weight_norms', 'nonfinite']) assert.ok(key in l, `missing ${key}`);
      }
      assert.match(r.stderr, /5 steps; loss/);
    });

    it('writes NaN and Infinity as bare Python-style values, never null', () => {
      const out = path.join(dir, 'nan.jsonl');
      const r = gradlens('train', '--steps', '8', '--hidden', '8', '--seq-len', '10', '--lr', '1e9', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const text = readFileSync(out, 'utf8');
      assert.match(text, /"grad_norm": ?NaN|"grad_norm":NaN/);
      assert.doesNotMatch(text, /null/);
      assert.match(r.stderr, /first became NaN\/Inf at step/);
    });

    it('writes one file per run for a preset with several runs', () => {
      const out = path.join(dir, 'regimes.jsonl');
      const r = gradlens('train', '--preset', 'regimes', '--steps', '2', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      for (const id of ['radius-0.9', 'radius-1.0', 'radius-1.1']) assert.ok(existsSync(path.join(dir, `regimes-${id}.jsonl`)), id);
    });

    it('stops at the stop rule and says so', () => {
      const r = gradlens('train', '--preset', 'rnn-exploding', '--stop-above', '1000');
      assert.equal(r.code, 0, r.stderr);
      const last = parseLine(r.stdout.trim().split('\n').pop()!);
      assert.ok(!((last.grad_norm as number) <= 1000));
      assert.match(r.stderr, /Stopped by the stop rule/);
    });

    it('refuses an --out it cannot write before training, with exit code 2', () => {
      const r = gradlens('train', '--out', path.join(dir, 'no-such-folder', 'x.jsonl'));
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot write .*no-such-folder.*ENOENT/);
    });

    const badOptions: Array<[string[], RegExp]> = [
      [['--hidden', 'abc'], /--hidden expects a whole number ≥ 1 \(got "abc"\)/],
      [['--lr', '-1'], /--lr expects a positive number/],
      [['--model', 'transformer'], /--model expects one of rnn, lstm, gru, mlp/],
      [['--clip', 'norm:-1'], /--clip expects none, norm:X or value:X/],
      [['--wat'], /unknown option --wat/],
      [['--task', 'adding', '--input', '3'], /--task adding has input size 2/],
      [['--steps'], /--steps needs a value/],
      [['--model', 'mlp', '--tbptt', '4'], /tbptt must be 0 for an MLP/],
    ];
    for (const [args, message] of badOptions) {
      it(`rejects ${args.join(' ')} with exit code 2 and a one-line error`, () => {
        const r = gradlens('train', ...args);
        assert.equal(r.code, 2);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      });
    }
  });

  describe('verify-reference', () => {
    it('matches every PyTorch reference case', () => {
      const r = gradlens('verify-reference', REFERENCE);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /10 cases, largest relative error .* all match/);
    });

    it('prints the computed values with --json', () => {
      const r = gradlens('verify-reference', REFERENCE, '--json');
      assert.equal(r.code, 0);
      const out = JSON.parse(r.stdout) as { cases: Array<Record<string, unknown>> };
      assert.equal(out.cases.length, 10);
      assert.deepEqual(Object.keys(out.cases[0]).sort(), ['adam_lr0.01_step1_after_clip', 'clip_grad_norm_0.5', 'grad_norm', 'grads', 'loss', 'name', 'sgd_lr0.1_after_clip']);
    });

    it('exits 1 and names the value when a case does not match', () => {
      const file = JSON.parse(readFileSync(REFERENCE, 'utf8')) as { cases: Array<{ grads: Record<string, { data: number[] }> }> };
      file.cases[2].grads['rnn.weight_hh_l0'].data[3] *= 1 + 1e-6;
      const tampered = path.join(dir, 'tampered.json');
      writeFileSync(tampered, JSON.stringify(file));
      const r = gradlens('verify-reference', tampered);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /FAIL lstm_1layer_mse .* at grads\.rnn\.weight_hh_l0\[3\]/);
    });

    it('exits 2 on a missing or malformed file', () => {
      assert.equal(gradlens('verify-reference', path.join(dir, 'nope.json')).code, 2);
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, '{"format": "something-else"}');
      const r = gradlens('verify-reference', bad);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /gradlens-reference-v1/);
    });
  });

  it('prints help for every command', () => {
    for (const command of ['train', 'verify-reference', 'demo']) {
      const r = gradlens(command, '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: gradlens ${command}`));
    }
    assert.equal(gradlens().code, 2);
    assert.equal(gradlens('frobnicate').code, 2);
  });

  it('demo trains both runs, writes their logs and explains the difference', () => {
    const r = gradlens('demo', '--out-dir', path.join(dir, 'demo'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rnn-exploding\s+none/);
    assert.match(r.stdout, /rnn-clipped\s+norm ≤ 1/);
    assert.match(r.stdout, /What happened/);
    assert.ok(existsSync(path.join(dir, 'demo', 'rnn-exploding.jsonl')));
  });
});
