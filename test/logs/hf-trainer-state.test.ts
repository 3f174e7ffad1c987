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

  it('names a 600 MiB trainer_state.json it will not read, rather than failing on V8\'s string limit', function () {
    this.timeout(30_000);
    // A real head, then JSON whitespace: 600 MiB, past the 2^29 characters a string can hold.
    const encode = (text: string) => new TextEncoder().encode(text);
    const padding = new Uint8Array(1 << 20).fill(0x20);
    const chunks = [encode('{"global_step": 1, "log_history": [{"loss": 2.5, "grad_norm": 1.2, "step": 1}'), ...Array.from({ length: 600 }, () => padding), encode(']}')];
    const run = readBytes(readTrainerState, chunks, 'hf-trainer-state', 'big/trainer_state.json')[0];
    assert.deepEqual(run.warnings, [{ file: 'big/trainer_state.json', message: '600 MiB: over the 256 MiB GradLens reads of a trainer_state.json; not read', unreadable: true }]);
  });

  it('warns about a half-written file instead of throwing, and gives the same result for any chunking', () => {
    const bytes = readFileSync(FIXTURE);
    const half = readBytes(readTrainerState, [bytes.subarray(0, bytes.length >> 1)], 'hf-trainer-state')[0];
    assert.equal(half.series.length, 0);
    assert.match(half.warnings[0].message, /not complete JSON/);
    assertSameForAnyChunking(readTrainerState, bytes, 'hf-trainer-state', 10, 20);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), (random) => void readBytes(readTrainerState, [random], 'hf-trainer-state')));
  });
});
