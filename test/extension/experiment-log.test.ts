import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPreset } from '../../src/engine/presets';
import { Trainer } from '../../src/engine/trainer';
import { ExperimentLog } from '../../src/extension/experiment-log';
import { openRuns } from '../../src/logs/open';

/** An experiment's log grows batch by batch, and GradLens reads it at every point, NaN included. */
describe('experiment log', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-experiment-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds every batch appended so far, readable while the run goes on', async () => {
    // rnn-exploding's gradient goes non-finite at about step 60: the log must keep those steps as numbers.
    const trainer = new Trainer(findPreset('rnn-exploding')!.runs[0].config);
    const file = path.join(dir, 'rnn-exploding.jsonl');
    writeFileSync(file, '');
    const errors: Error[] = [];
    const log = new ExperimentLog(file, (e) => errors.push(e));
    const norms: number[] = [];
    for (const size of [1, 7, 32, 40]) {
      const batch = Array.from({ length: size }, () => trainer.step());
      norms.push(...batch.map((r) => r.grad_norm));
      log.append(batch);
      await log.flushed();
      const [run] = await openRuns(file);
      const read = run.series.find((s) => s.role === 'gradNorm')!;
      assert.deepEqual([...read.steps], norms.map((_, i) => i));
      assert.deepEqual([...read.values].map(String), norms.map(String));
    }
    assert.ok(norms.some((n) => Number.isNaN(n)), 'the run was meant to reach NaN');
    assert.deepEqual(errors, []);
  });

  it('reports a write that fails and goes on with the next', async () => {
    const errors: Error[] = [];
    const log = new ExperimentLog(path.join(dir, 'missing-folder', 'run.jsonl'), (e) => errors.push(e));
    const record = new Trainer({ ...findPreset('rnn-clipped')!.runs[0].config, hiddenSize: 4, seqLen: 5, batch: 2 }).step();
    log.append([record]);
    log.append([record]);
    await log.flushed();
    assert.equal(errors.length, 2);
    assert.match(errors[0].message, /ENOENT/);
  });
});
