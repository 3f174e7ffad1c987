import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compareCase, computeReferenceCase, parseReferenceFile } from '../../src/engine/reference';

const file = parseReferenceFile(JSON.parse(readFileSync(path.join(__dirname, '../fixtures/reference_grads_float64.json'), 'utf8')));

describe('engine against PyTorch float64 reference gradients', () => {
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
});
