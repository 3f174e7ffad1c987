import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('memory', () => {
  it('reads, diagnoses and hovers a log of 20,000 parameters each logged at one step in under 1 GB', function () {
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-sparse-'));
    try {
      // 1.4 MB: a total norm at every step, and each step one parameter of its own (a model logging a rotating sample of layers).
      const file = path.join(dir, 'sparse.jsonl');
      const lines = Array.from({ length: 20_000 }, (_, step) => JSON.stringify({ step, loss: 2 - step / 20_000, grad_norm: 1 + (step % 7) / 10, [`grad_norm/layers.${step}.weight`]: 0.5 }));
      writeFileSync(file, lines.join('\n') + '\n');
      const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'sparse-run.ts'), file], { encoding: 'utf8', maxBuffer: 1 << 20 });
      assert.equal(child.status, 0, child.stderr);
      const result = JSON.parse(child.stdout) as { parameters: number; steps: number; hovered: number; peakBytes: number };
      assert.equal(result.steps, 20_000);
      assert.equal(result.hovered, 20_000);
      assert.ok(result.peakBytes < 1 << 30, `peak ${(result.peakBytes / 2 ** 20).toFixed(0)} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
