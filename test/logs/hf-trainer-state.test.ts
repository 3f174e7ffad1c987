import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { readTrainerState } from '../../src/logs/formats/hf-trainer-state';
import { assertSameForAnyChunking, readBytes, series } from './read';

const FIXTURE = path.join(__dirname, '../fixtures/real/hf_gpt2_lr3e-4_clip1/trainer_state.json');
const read = (text: string) => readBytes(readTrainerState, [new TextEncoder().encode(text)], 'hf-trainer-state')[0];

describe('Hugging Face trainer_state.json reader', () => {
  it('reads log_history: loss, grad_norm, learning_rate and epoch by step', () => {
    const run = readBytes(readTrainerState, [readFileSync(FIXTURE)], 'hf-trainer-state')[0];
    const norm = run.series.find((s) => s.tag === 'grad_norm')!;
    assert.equal(norm.role, 'gradNorm');
    assert.equal(norm.steps.length, 300);
    assert.equal(norm.steps[0], 1);
    assert.equal(norm.values[0], 2.4659149646759033);
    assert.equal(run.series.find((s) => s.tag === 'learning_rate')?.role, 'lr');
    assert.equal(series(run, 'loss').values[1], 3.9580130577087402);
  });

  it('tells train, eval and summary entries apart by their keys', () => {
    const run = read(
      JSON.stringify({
        global_step: 20,
        log_history: [
          { loss: 2.0, grad_norm: 1.5, learning_rate: 5e-5, epoch: 0.5, step: 10 },
          { eval_loss: 2.2, eval_runtime: 1.0, epoch: 0.5, step: 10 },
          { train_runtime: 100, train_loss: 1.9, total_flos: 1e12, epoch: 1, step: 20 },
        ],
      }),
    );
    assert.deepEqual(series(run, 'loss'), { steps: [10], values: [2.0] });
    assert.equal(run.series.find((s) => s.tag === 'eval_loss')?.role, 'evalLoss');
    const summary = run.series.find((s) => s.tag === 'summary/train_loss')!;
    assert.equal(summary.role, undefined);
  });

  it('reads bare NaN and Infinity as written by json.dump', () => {
    const run = read('{"log_history": [{"loss": NaN, "grad_norm": Infinity, "step": 1}, {"loss": 1.0, "grad_norm": NaN, "step": 2}]}');
    assert.deepEqual(series(run, 'grad_norm').values.map(String), ['Infinity', 'NaN']);
  });

  it('reads a 600 MiB trainer_state.json, past the longest string V8 can hold, holding one entry at a time', function () {
    this.timeout(60_000);
    // A real head, then JSON whitespace: 600 MiB, past the 2^29 characters a string can hold; then a second entry.
    const encode = (text: string) => new TextEncoder().encode(text);
    const padding = new Uint8Array(1 << 20).fill(0x20);
    const chunks = [
      encode('{"global_step": 2, "log_history": [{"loss": 2.5, "grad_norm": 1.2, "step": 1}'),
      ...Array.from({ length: 600 }, () => padding),
      encode(', {"loss": 2.4, "grad_norm": 1.1, "step": 2}], "max_steps": 2}'),
    ];
    const run = readBytes(readTrainerState, chunks, 'hf-trainer-state', 'big/trainer_state.json')[0];
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(series(run, 'grad_norm'), { steps: [1, 2], values: [1.2, 1.1] });
  });

  it('finds log_history among the other keys, whatever they hold, and names the entries it cannot use', () => {
    const run = read(
      '\uFEFF{"trial_params": {"log_history": [{"loss": 9, "step": 9}]}, "note": "log_history", "best_model_checkpoint": "out/checkpoint-\\"2\\"", ' +
        '"log_history": [{"loss": 2.0, "step": 1, "tags": ["a]", {"b": "}"}]}, 3, {"loss": 1.5}, {"loss": 1.0, "step": 4}, {"loss": 0.5, "step": 5}]}',
    );
    assert.deepEqual(series(run, 'loss'), { steps: [1, 4, 5], values: [2.0, 1.0, 0.5] });
    assert.deepEqual(run.warnings.map((w) => w.message), ['log_history[1] has no step; skipped', 'log_history[2] has no step; skipped']);
  });

  it('warns about a half-written file instead of throwing, and gives the same result for any chunking', () => {
    const bytes = readFileSync(FIXTURE);
    const half = readBytes(readTrainerState, [bytes.subarray(0, bytes.length >> 1)], 'hf-trainer-state')[0];
    const norm = series(half, 'grad_norm');
    assert.ok(norm.steps.length > 100 && norm.steps.length < 200, `the entries before the cut: ${norm.steps.length}`);
    assert.deepEqual(norm.steps, norm.steps.map((_, i) => i + 1));
    assert.deepEqual(half.warnings.map((w) => [w.message, w.incomplete]), [[`not complete JSON (ends inside log_history, after ${norm.steps.length} entries); the Trainer may be writing it`, true]]);
    const empty = readBytes(readTrainerState, [new Uint8Array(0)], 'hf-trainer-state')[0];
    assert.deepEqual(empty.warnings.map((w) => w.message), ['not complete JSON (empty); the Trainer may be writing it']);
    assert.deepEqual(read('{"global_step": 3}').warnings.map((w) => w.message), ['no "log_history" list: not a Hugging Face trainer_state.json']);
    assertSameForAnyChunking(readTrainerState, bytes, 'hf-trainer-state', 10, 20);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), (random) => void readBytes(readTrainerState, [random], 'hf-trainer-state')));
  });
});
