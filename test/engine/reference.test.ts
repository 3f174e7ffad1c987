import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareCase, computeReferenceCase, parseReferenceFile, type ReferenceFile } from '../../src/engine/reference';

const FIXTURE = path.join(__dirname, '../fixtures/reference_grads_float64.json');
/** The fixture's generator, beside it: real PyTorch (Debian's python3-torch, which CI installs). */
const GENERATOR = path.join(__dirname, '../fixtures/reference_grads_float64.py');
const PYTHON = '/usr/bin/python3';
const EXPECTED_OUTPUTS = ['loss', 'grad_norm', 'grads', 'clip_grad_norm_0.5', 'sgd_lr0.1_after_clip', 'adam_lr0.01_step1_after_clip'] as const;

const readReference = (file: string): ReferenceFile => parseReferenceFile(JSON.parse(readFileSync(file, 'utf8')));
const file = readReference(FIXTURE);

function python(args: string[]): string {
  const result = spawnSync(PYTHON, [GENERATOR, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${GENERATOR} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('engine against PyTorch float64 reference gradients', () => {
  it('has the ten cases, every family of the engine, each stating every output it is checked on', () => {
    assert.deepEqual(
      file.cases.map((c) => c.name),
      ['rnn_1layer_mse', 'rnn_2layer_mse', 'lstm_1layer_mse', 'lstm_2layer_mse', 'gru_1layer_mse', 'gru_2layer_mse', 'rnn_long_radius1.8_mse', 'rnn_relu_mse', 'mlp_bce_with_logits', 'mlp_cross_entropy'],
    );
    for (const c of file.cases) for (const key of EXPECTED_OUTPUTS) assert.ok(c[key] !== undefined, `${c.name} states ${key}`);
  });

  for (const c of file.cases) {
    it(`${c.name}: loss, gradients, clipping, SGD and Adam within 1e-9 (float64)`, () => {
      const { maxRelativeError, where } = compareCase(c, computeReferenceCase(c, 'float64'));
      assert.ok(maxRelativeError < 1e-9, `${c.name}: relative error ${maxRelativeError} at ${where}`);
    });
    it(`${c.name}: within 1e-4 in float32`, () => {
      const { maxRelativeError, where } = compareCase(c, computeReferenceCase(c, 'float32'), 1e-3);
      assert.ok(maxRelativeError < 1e-4, `${c.name}: relative error ${maxRelativeError} at ${where}`);
    });
  }

  describe('the generator beside the fixture, on this machine’s PyTorch', () => {
    it('recomputes every output of the fixture from its inputs and parameters', () => {
      const { cases, maxRelativeError } = JSON.parse(python(['--check', FIXTURE])) as { cases: number; maxRelativeError: number };
      assert.equal(cases, file.cases.length);
      assert.ok(maxRelativeError < 1e-10, `relative error ${maxRelativeError}`);
    });

    it('writes new cases (another seed) that the engine reproduces within 1e-9', () => {
      const fresh = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradlens-reference-')), 'reference.json');
      python(['--out', fresh, '--seed', '7']);
      const generated = readReference(fresh);
      assert.equal(generated.cases.length, file.cases.length);
      for (const c of generated.cases) {
        assert.notDeepEqual(c.input.data, file.cases.find((f) => f.name === c.name)?.input.data, `${c.name} has new inputs`);
        const { maxRelativeError, where } = compareCase(c, computeReferenceCase(c, 'float64'));
        assert.ok(maxRelativeError < 1e-9, `${c.name}: relative error ${maxRelativeError} at ${where}`);
      }
    });
  });
});
