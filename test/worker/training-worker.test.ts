import assert from 'node:assert/strict';
import path from 'node:path';
import { findPreset } from '../../src/engine/presets';
import type { StepRecord } from '../../src/engine/record';
import { Trainer } from '../../src/engine/trainer';
import { startTraining } from '../../src/worker/training-client';
import { trainingToHostSchema } from '../../src/worker/training-protocol';
import { buildBundles } from '../bundles';

// Worker threads cannot load TypeScript: the worker is bundled from source by the build script.
let WORKER: string;

describe('training worker', () => {
  before(() => {
    WORKER = path.join(buildBundles(['training-worker']), 'training-worker.js');
  });
  const config = { ...findPreset('rnn-clipped')!.runs[0].config, hiddenSize: 8, seqLen: 10, batch: 4, steps: 30 };

  it('streams every step and gives the same numbers as training in-process', async () => {
    const streamed: StepRecord[] = [];
    let parameters: string[] = [];
    const handle = startTraining(WORKER, config, { onStarted: (p) => (parameters = p), onRecords: (r) => streamed.push(...r) });
    const result = await handle.done;
    assert.equal(result.reason, 'completed');
    assert.equal(result.steps, 30);
    assert.deepEqual(parameters, ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias']);
    const trainer = new Trainer(config);
    const local = Array.from({ length: 30 }, () => trainer.step());
    assert.deepEqual(streamed, local);
  });

  it('stops between two steps when cancelled', async () => {
    let received = 0;
    const handle = startTraining(WORKER, { ...config, steps: 1_000_000 }, {
      onRecords: (r) => {
        received += r.length;
        handle.cancel();
      },
    });
    const result = await handle.done;
    assert.equal(result.reason, 'cancelled');
    assert.ok(result.steps < 1_000_000 && result.steps >= received);
  });

  it('applies the stop rule', async () => {
    const exploding = { ...findPreset('rnn-exploding')!.runs[0].config, stopAboveNorm: 1000 };
    const records: StepRecord[] = [];
    const result = await startTraining(WORKER, exploding, { onRecords: (r) => records.push(...r) }).done;
    assert.equal(result.reason, 'stop-rule');
    assert.ok(!(records[records.length - 1].grad_norm <= 1000));
    assert.ok(records.slice(0, -1).every((r) => r.grad_norm <= 1000));
  });

  it('reports a bad configuration as an error, not a crash', async () => {
    await assert.rejects(startTraining(WORKER, { ...config, hiddenSize: 0 }, {}).done, /hiddenSize must be a whole number ≥ 1/);
  });

  it('refuses a configuration it cannot train as asked, naming the fields, rather than train something else', async () => {
    // A host built from other sources (or a hand-written keybinding) can send anything: float16 is not float32.
    const unknown = JSON.parse(JSON.stringify({ ...config, dtype: 'float16', optimizer: 'lion' })) as typeof config;
    await assert.rejects(startTraining(WORKER, unknown, {}).done, /not a configuration GradLens can train: optimizer \(got "lion"\), dtype \(got "float16"\)/);
  });

  it('drops messages that do not follow the protocol', () => {
    const parse = (v: unknown) => trainingToHostSchema.parse(v);
    assert.equal(parse({ type: 'records', runId: 'x', records: [{ step: 'a' }], total: 1 }), undefined);
    assert.equal(parse({ type: 'done', runId: 'x', reason: 'finished', steps: 3, elapsedMs: 1 }), undefined);
    assert.equal(parse({ type: 'unknown', runId: 'x' }), undefined);
    assert.equal(parse('done'), undefined);
    assert.deepEqual(parse({ type: 'done', runId: 'x', reason: 'completed', steps: 3, elapsedMs: 1 }), { type: 'done', runId: 'x', reason: 'completed', steps: 3, elapsedMs: 1 });
  });
});
