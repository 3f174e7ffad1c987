import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { readJsonLines } from '../../src/logs/formats/jsonl';
import { JsonObjectScanner, newScannedRecord } from '../../src/logs/formats/json-scan';
import { assertSameForAnyChunking, readBytes, series } from './read';

const FIXTURES = path.join(__dirname, '../fixtures/real');
const encode = (text: string) => new TextEncoder().encode(text);
const read = (text: string) => readBytes(readJsonLines, [encode(text)], 'jsonl')[0];

describe('JSON-lines reader', () => {
  it('reads the native format written by PyTorch, bare NaN included', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'torch_rnn_radius1.6_noclip/grads.jsonl'));
    const run = readBytes(readJsonLines, [bytes], 'jsonl')[0];
    const norm = series(run, 'grad_norm');
    assert.equal(norm.steps.length, 300);
    assert.equal(norm.values[0], 13519.482804254603);
    assert.ok(Number.isNaN(norm.values[1]));
    const hh = run.series.find((s) => s.tag === 'layers.rnn.weight_hh_l0')!;
    assert.equal(hh.role, 'paramGradNorm');
    assert.equal(hh.param, 'rnn.weight_hh_l0');
    assert.equal(run.series.find((s) => s.tag === 'clipped')?.role, 'clipped');
    assert.deepEqual(run.warnings, []);
  });

  it('keeps a quoted "NaN" a string and bare NaN, Infinity, -Infinity numbers', () => {
    const run = read('{"step": 1, "loss": NaN, "grad_norm": Infinity, "x": -Infinity, "note": "NaN"}\n');
    assert.ok(Number.isNaN(series(run, 'loss').values[0]));
    assert.equal(series(run, 'grad_norm').values[0], Infinity);
    assert.equal(series(run, 'x').values[0], -Infinity);
    assert.equal(run.series.find((s) => s.tag === 'note'), undefined);
  });

  it('reads flat keys such as grad_norm/<param> and train/grad_norm with their roles', () => {
    const run = read('{"train/grad_norm": 2.5, "grad_2.0_norm/layer.weight": 1.5, "global_step": 7}\n');
    assert.deepEqual(series(run, 'train/grad_norm'), { steps: [7], values: [2.5] });
    const param = run.series.find((s) => s.tag === 'grad_2.0_norm/layer.weight')!;
    assert.equal(param.role, 'paramGradNorm');
    assert.equal(param.param, 'layer.weight');
  });

  it('skips a BOM, CRLF and blank lines, and reports garbage lines by number without losing the rest', () => {
    const run = read('\uFEFF{"step": 0, "loss": 1}\r\n\r\nnot json\r\n{"step": 1, "loss": 2}\r\n{"step": 2, "loss": \n{"step": 3, "loss": 4}');
    assert.deepEqual(series(run, 'loss'), { steps: [0, 1, 3], values: [1, 2, 4] });
    assert.deepEqual(
      run.warnings.map((w) => w.line),
      [3, 5],
    );
    assert.match(run.warnings[0].message, /not a JSON object: "not json"/);
  });

  it('numbers records without a step by their position', () => {
    const run = read('{"loss": 3}\n{"loss": 2}\n{"eval_loss": 5}\n');
    assert.deepEqual(series(run, 'loss'), { steps: [0, 1], values: [3, 2] });
    assert.deepEqual(series(run, 'eval_loss'), { steps: [2], values: [5] });
  });

  it('puts a step-less summary line at the end of a stepped log at its latest step, keeping that step’s own values, with a warning, rather than reading it as a restart', () => {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ step: 50 * i, loss: 3 - i / 100 }));
    const run = read([...lines, '{"loss": 0.3, "train_runtime": 123.4}'].join('\n') + '\n');
    assert.equal(series(run, 'loss').steps.length, 100);
    assert.equal(series(run, 'loss').values[99], 3 - 99 / 100);
    assert.deepEqual(series(run, 'train_runtime'), { steps: [4950], values: [123.4] });
    assert.deepEqual(run.warnings.map((w) => [w.line, w.message.split(':')[0]]), [[101, 'no step, where earlier lines have one (a summary line?)']]);
    assert.match(run.warnings[0].message, /put at step 4950, whose own loss is kept/);
  });

  it('puts a record without a step after stepped ones at the latest step, not back at its position', () => {
    // A trailing summary record at position 3 would otherwise replace everything from step 3 on.
    const run = read('{"step": 10, "loss": 3}\n{"step": 20, "loss": 2}\n{"step": 30, "loss": 1.5}\n{"train_loss": 2.1, "train_runtime": 300}\n');
    assert.deepEqual(series(run, 'loss'), { steps: [10, 20, 30], values: [3, 2, 1.5] });
    assert.deepEqual(series(run, 'train_loss'), { steps: [30], values: [2.1] });
    assert.deepEqual(run.warnings, [], 'nothing is lost');
  });

  it('reads a restart (steps going back) as replacing the later data', () => {
    const run = read('{"step": 0, "loss": 5}\n{"step": 1, "loss": 4}\n{"step": 2, "loss": 3}\n{"step": 1, "loss": 9}\n');
    assert.deepEqual(series(run, 'loss'), { steps: [0, 1], values: [5, 9] });
  });

  it('calls a last line cut by the end of the file incomplete, not malformed', () => {
    const run = read('{"step": 0, "loss": 1}\n{"step": 1, "lo');
    assert.deepEqual(series(run, 'loss').steps, [0]);
    assert.deepEqual(run.warnings, [{ file: 'log', line: 2, message: 'incomplete last line (the file ends inside it; it may still be being written): "{\\"step\\": 1, \\"lo"', incomplete: true }]);
    assert.match(read('{"step": 0, "lo\n').warnings[0].message, /^not a JSON object/);
  });

  it('waits for a partial last line until more bytes come', () => {
    const builder = readBytes(readJsonLines, [encode('{"step": 0, "loss": 1}\n{"step": 1, "lo'), encode('ss": 2}\n')], 'jsonl')[0];
    assert.deepEqual(series(builder, 'loss'), { steps: [0, 1], values: [1, 2] });
  });

  it('agrees with JSON.parse on every valid object, and rejects what JSON.parse rejects', () => {
    const scanner = new JsonObjectScanner();
    const record = newScannedRecord();
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string(), fc.constant(null), fc.array(fc.integer()))), (object) => {
        const line = JSON.stringify(object);
        assert.equal(scanner.scanText(line, record), true);
        const expected = Object.entries(JSON.parse(line) as Record<string, unknown>).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean');
        assert.deepEqual(
          record.keys.slice(0, record.length).map((k, i) => [k, record.values[i]]),
          expected.map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]),
        );
      }),
    );
    fc.assert(
      fc.property(fc.string(), (line) => {
        let valid = true;
        try {
          const parsed: unknown = JSON.parse(line);
          valid = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        } catch {
          valid = false;
        }
        // Python's bare NaN/Infinity are accepted on purpose; otherwise the scanner is as strict as JSON.parse.
        if (!/NaN|Infinity/.test(line)) assert.equal(scanner.scanText(line, record), valid, line);
      }),
    );
  });

  it('converts every spelling of a number exactly as JSON.parse does, halfway cases included', () => {
    const scanner = new JsonObjectScanner();
    const record = newScannedRecord();
    const spellings = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).chain((x) => fc.constantFrom(String(x), x.toExponential(), x.toPrecision(17), x.toPrecision(21))),
      fc.tuple(fc.stringMatching(/^-?[0-9]{1,25}$/), fc.stringMatching(/^[0-9]{0,25}$/), fc.integer({ min: -30, max: 30 })).map(([int, fraction, exponent]) => `${int.replace(/^(-?)0+(?=\d)/, '$1')}${fraction ? `.${fraction}` : ''}e${exponent}`),
    );
    fc.assert(
      fc.property(spellings, (spelling) => {
        assert.equal(scanner.scanText(`{"x": ${spelling}}`, record), true, spelling);
        assert.ok(Object.is(record.values[0], JSON.parse(spelling)), `${spelling}: ${record.values[0]} vs ${JSON.parse(spelling)}`);
      }),
      { numRuns: 20000 },
    );
  });

  it('gives the same runs for any chunking of a real log', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'torch_lstm_sgd_noclip/grads.jsonl'));
    assertSameForAnyChunking(readJsonLines, bytes, 'jsonl', 20, 30);
  });

  it('never throws on random or corrupted bytes', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'torch_rnn_orthogonal_clip1/grads.jsonl')).subarray(0, 4000);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }), fc.nat({ max: bytes.length }), (random, flips, truncate) => {
        readBytes(readJsonLines, [random], 'jsonl');
        const corrupted = bytes.slice(0, truncate);
        for (const [at, value] of flips) if (at < corrupted.length) corrupted[at] = value;
        readBytes(readJsonLines, [corrupted], 'jsonl');
      }),
      { numRuns: 100 },
    );
  });

  it('does not overflow the stack on deeply nested input', () => {
    const run = read(`${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}\n`);
    assert.equal(run.warnings.length, 1);
  });
});
