import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { readCsv } from '../../src/logs/formats/csv';
import { assertSameForAnyChunking, readBytes, series } from './read';

const FIXTURES = path.join(__dirname, '../fixtures/real');
const read = (text: string) => readBytes(readCsv, [new TextEncoder().encode(text)], 'csv')[0];

describe('CSV reader', () => {
  it("reads Lightning's metrics.csv with its per-parameter norms and the total", () => {
    const bytes = readFileSync(path.join(FIXTURES, 'lightning_rnn_noclip/csv/version_0/metrics.csv'));
    const run = readBytes(readCsv, [bytes], 'csv')[0];
    const total = run.series.find((s) => s.tag === 'grad_2.0_norm_total')!;
    assert.equal(total.role, 'gradNorm');
    assert.equal(total.steps.length, 250);
    assert.equal(total.values[0], 1888.5299072265625);
    const hh = run.series.find((s) => s.tag === 'grad_2.0_norm/model.rnn.weight_hh_l0')!;
    assert.equal(hh.param, 'model.rnn.weight_hh_l0');
    assert.equal(hh.values[2], 0);
    assert.equal(run.series.find((s) => s.tag === 'train_loss')?.role, 'loss');
    assert.ok(run.series.every((s) => s.tag !== 'step'));
  });

  it('treats an empty cell as missing, never as 0 (Lightning writes train and validation rows sparsely)', () => {
    const run = read('epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,2.4,\n0,1,,3.1\n');
    assert.deepEqual(series(run, 'train_loss'), { steps: [0, 1], values: [2.5, 2.4] });
    assert.deepEqual(series(run, 'val_loss'), { steps: [1], values: [3.1] });
    assert.equal(run.series.find((s) => s.tag === 'val_loss')?.role, 'evalLoss');
  });

  it("reads Keras's CSVLogger, with epoch as the step and NA as not-a-number", () => {
    const run = read('epoch,loss,val_loss\n0,0.9,NA\n1,inf,0.7\n2,nan,-inf\n');
    assert.deepEqual(series(run, 'loss').steps, [0, 1, 2]);
    assert.deepEqual(series(run, 'loss').values.map(String), ['0.9', 'Infinity', 'NaN']);
    assert.deepEqual(series(run, 'val_loss').values.map(String), ['NaN', '0.7', '-Infinity']);
  });

  it('handles quoted headers, CRLF, and reports rows that do not fit the header', () => {
    const run = read('"step","grad norm, total"\r\n1,"2.5"\r\n2,3,4\r\n3,"unclosed\r\n4,5\r\n');
    assert.deepEqual(series(run, 'grad norm, total'), { steps: [1, 4], values: [2.5, 5] });
    assert.deepEqual(
      run.warnings.map((w) => w.line ?? w.message.split(':')[0]),
      [3, 4, '1 numeric series found, none recognised as a training loss or a gradient norm'],
    );
  });

  it('numbers rows from 0 when there is no step column', () => {
    assert.deepEqual(series(read('loss,grad_norm\n3,1\n2,0.5\n'), 'grad_norm'), { steps: [0, 1], values: [1, 0.5] });
  });

  it('gives the same runs for any chunking, and never throws on damaged input', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'lightning_rnn_noclip/csv/version_0/metrics.csv'));
    assertSameForAnyChunking(readCsv, bytes, 'csv', 20, 30);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: bytes.length }), fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }), (random, truncate, flips) => {
        readBytes(readCsv, [random], 'csv');
        const corrupted = bytes.slice(0, truncate);
        for (const [at, value] of flips) if (at < corrupted.length) corrupted[at] = value;
        readBytes(readCsv, [corrupted], 'csv');
      }),
      { numRuns: 100 },
    );
  });
});
