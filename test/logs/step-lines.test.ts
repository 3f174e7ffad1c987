import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { readJsonLines } from '../../src/logs/formats/jsonl';
import { findStepLine, findStepLines, stepAtLine } from '../../src/logs/step-lines';
import { readBytes, series } from './read';

/** "Open the log at this step": the line found is where the log says that step. */
const REAL = path.join(__dirname, '../fixtures/real');
const lineOf = (file: string, line: number | undefined): string => {
  assert.notEqual(line, undefined, `no line found in ${file}`);
  return readFileSync(file, 'utf8').split('\n')[line!];
};

describe('log line of a step', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-lines-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the JSON line of a step', async () => {
    const file = path.join(REAL, 'torch_lstm_sgd_clip1/grads.jsonl');
    for (const step of [0, 3, 57]) assert.match(lineOf(file, await findStepLine(file, 'jsonl', step)), new RegExp(`^\\{"step": ${step}, `));
  });

  it('finds the console line of a step', async () => {
    const file = path.join(REAL, 'torch_rnn_radius1.6_noclip/train.log');
    assert.match(lineOf(file, await findStepLine(file, 'text', 1)), /^Step {3}1: loss=9\.8657, grad_norm=nan/);
  });

  it("finds the header of a step's block in OLMo's and Composer's console logs, not the first value below it", async () => {
    const olmo = path.join(__dirname, '../fixtures/public/olmo/console.log');
    assert.match(lineOf(olmo, await findStepLine(olmo, 'text', 37)), /\tINFO\t\[step=37\/739328\]$/);
    const composer = path.join(__dirname, '../fixtures/public/composer/console.log');
    assert.equal(lineOf(composer, await findStepLine(composer, 'text', 12)), '[batch=12/100]:');
  });

  it('finds the CSV row of a step by its step column', async () => {
    const file = path.join(REAL, 'lightning_rnn_noclip/csv/version_0/metrics.csv');
    const header = lineOf(file, 0).split(',');
    const row = lineOf(file, await findStepLine(file, 'csv', 3)).split(',');
    assert.equal(row[header.indexOf('step')], '3');
  });

  it('finds the log_history entry of a step in trainer_state.json', async () => {
    const file = path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json');
    assert.match(lineOf(file, await findStepLine(file, 'hf-trainer-state', 10)), /^\s*"step": 10$/);
  });

  it('finds nothing for a step the log does not have, or a binary log', async () => {
    assert.equal(await findStepLine(path.join(REAL, 'torch_lstm_sgd_clip1/grads.jsonl'), 'jsonl', 100_000), undefined);
    const events = path.join(REAL, 'torch_lstm_sgd_clip1/tb', 'events.out.tfevents.1795340642.vm.442.1');
    assert.equal(await findStepLine(events, 'tfevents', 3), undefined);
  });

  it('after a restart from a checkpoint, finds the line whose data is shown', async () => {
    const file = path.join(dir, 'resumed.jsonl');
    const steps = [0, 1, 2, 3, 4, 5, 3, 4, 5, 6];
    writeFileSync(file, steps.map((step, i) => JSON.stringify({ step, loss: i, grad_norm: 1 })).join('\n') + '\n');
    assert.equal(await findStepLine(file, 'jsonl', 4), 7);
    assert.equal(await findStepLine(file, 'jsonl', 1), 1);
  });

  it('finds the line of one rank in a distributed console log', async () => {
    const file = path.join(dir, 'torchrun.log');
    writeFileSync(file, ['[default0]:step 1: loss=2.0 grad_norm=1.0', '[default1]:step 1: loss=2.1 grad_norm=1.1', '[default1]:step 2: loss=2.2 grad_norm=9.0', '[default0]:step 2: loss=1.9 grad_norm=0.9', ''].join('\n'));
    assert.equal(await findStepLine(file, 'text', 2, 'rank 1'), 2);
    assert.equal(await findStepLine(file, 'text', 2, 'rank 0'), 3);
  });

  it('for any JSON-lines log with restarts and step-less lines, finds for every step shown the line its value came from, and back', async () => {
    const entry = fc.oneof(
      { weight: 4, arbitrary: fc.nat({ max: 30 }).map((step) => ({ step })) },
      { weight: 1, arbitrary: fc.constant({ step: undefined }) },
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 40 }), async (entries) => {
        const file = path.join(dir, `property${round++}.jsonl`);
        // A step-less line is a summary (or a config line when it comes first); each line's loss is its index.
        const text = entries.map(({ step }, i) => JSON.stringify(step === undefined ? { loss: i, train_runtime: 1.5 } : { step, loss: i })).join('\n') + '\n';
        writeFileSync(file, text);
        const shown = series(readBytes(readJsonLines, [new TextEncoder().encode(text)], 'jsonl', file)[0] ?? { series: [] }, 'loss');
        const lines = await findStepLines(file, 'jsonl', new Set(shown.steps));
        for (const [index, step] of shown.steps.entries()) {
          const line = lines.get(step)?.line;
          assert.equal(line, shown.values[index], `step ${step}: the line whose loss is shown`);
          assert.equal(await stepAtLine(file, 'jsonl', line!), step);
        }
      }),
      { numRuns: 50 },
    );
  });
});
