import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parsePythonJson } from '../../src/logs/formats/python-json';
import { MAX_EVENT_BYTES, readTfEvents, tfEventsReaderWith } from '../../src/logs/formats/tfevents';
import { parseLogNumber } from '../../src/logs/numbers';
import { RunBuilder, type Run } from '../../src/logs/run';
import { cut, readBytes, series, snapshot } from './read';
import {
  DataType,
  SessionStatus,
  concatBytes,
  encodeEvent,
  eventFile,
  frameRecord,
  histogramTensor,
  recordHeader,
  scalarEvent,
  tensorContent,
  type EventSpec,
  type TensorSpec,
} from './tfevents-writer';

const REAL = path.join(__dirname, '../fixtures/real');

function findEventFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findEventFiles(full);
    return entry.name.startsWith('events.out.tfevents.') ? [full] : [];
  });
}

/** The one event file of a fixture run. */
function eventFileOf(run: string): string {
  const [file] = findEventFiles(path.join(REAL, run));
  return file;
}

const FILE = 'events.out.tfevents.test';
const read = (bytes: Uint8Array, chunks: Uint8Array[] = [bytes]): Run => readBytes(readTfEvents, chunks, 'tfevents', FILE)[0];
const readFixture = (run: string): Run => read(readFileSync(eventFileOf(run)));

/** Non-finite values compared as strings, so NaN equals NaN. */
const shown = (values: number[]) => values.map(String);
/** The run-level warning a run gets when no tag is a loss or gradient norm, up to its list of tags. */
const unrecognised = (run: Run) => run.warnings.map((w) => w.message.split(':')[0]);

interface GradsLine {
  step: number;
  loss: number;
  grad_norm: number;
  clipped: boolean;
  layers: Record<string, number>;
}

const gradsOf = (run: string): GradsLine[] =>
  readFileSync(path.join(REAL, run, 'grads.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => parsePythonJson(line) as GradsLine);

const TORCH_RUNS = ['torch_lstm_sgd_clip1', 'torch_lstm_sgd_noclip', 'torch_rnn_orthogonal_clip1', 'torch_rnn_radius1.6_noclip'];

describe('TensorBoard event file reader', () => {
  describe('real files', () => {
    for (const name of TORCH_RUNS) {
      it(`${name} (torch SummaryWriter): every scalar agrees with grads.jsonl to float32 precision`, () => {
        const run = readFixture(name);
        const grads = gradsOf(name);
        const steps = grads.map((g) => g.step);
        const params = Object.keys(grads[0].layers);
        assert.deepEqual(run.series.map((s) => s.tag).sort(), ['train/loss', 'grad_norm/total', ...params.map((p) => `grad_norm/${p}`)].sort());
        const expect = (tag: string, values: number[]) => assert.deepEqual(series(run, tag), { steps, values: values.map(Math.fround) }, tag);
        expect('train/loss', grads.map((g) => g.loss));
        expect('grad_norm/total', grads.map((g) => g.grad_norm));
        for (const param of params) expect(`grad_norm/${param}`, grads.map((g) => g.layers[param]));
        assert.deepEqual(run.warnings, []);
      });
    }

    it('keeps NaN as NaN at the steps where the exploding torch run logged NaN', () => {
      const run = readFixture('torch_rnn_radius1.6_noclip');
      const grads = gradsOf('torch_rnn_radius1.6_noclip');
      const nanSteps = (values: number[]) => values.flatMap((v, step) => (Number.isNaN(v) ? [step] : []));
      const total = series(run, 'grad_norm/total').values;
      assert.deepEqual(nanSteps(total), nanSteps(grads.map((g) => g.grad_norm)));
      assert.ok(nanSteps(total).length > 250);
      assert.equal(total[0], Math.fround(13519.482804254603));
    });

    it('reads the gradient histograms torch writes with add_histogram', () => {
      for (const name of TORCH_RUNS) {
        const run = readFixture(name);
        const grads = gradsOf(name);
        const params = Object.keys(grads[0].layers);
        assert.deepEqual(run.histograms.map((h) => h.tag).sort(), params.map((p) => `grad/${p}`).sort(), name);
        for (const series of run.histograms) {
          assert.equal(series.param, series.tag.slice('grad/'.length));
          series.histograms.forEach((histogram, i) => {
            const step = series.steps[i];
            assert.equal(histogram.limits.length, histogram.counts.length);
            assert.equal(histogram.counts.reduce((a, b) => a + b, 0), histogram.count);
            assert.ok(histogram.min <= histogram.max);
            // The histogram is of the gradient whose norm grads.jsonl logged, after clip_grad_norm_(max_norm=1) when it clipped.
            const { layers, clipped, grad_norm } = grads[step];
            const norm = layers[series.param!] * (clipped ? 1 / (grad_norm + 1e-6) : 1);
            assert.ok(Math.abs(Math.sqrt(histogram.sumSquares) - norm) <= 1e-5 * norm, `${name} ${series.tag} step ${step}`);
          });
        }
      }
      const lstm = readFixture('torch_lstm_sgd_clip1');
      assert.deepEqual(lstm.histograms[0].steps, [0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300, 325, 350, 375]);
    });

    it("Lightning's TensorBoardLogger: grad norms and loss agree with the same run's metrics.csv", () => {
      const run = readFixture('lightning_rnn_noclip');
      const [header, ...rows] = readFileSync(path.join(REAL, 'lightning_rnn_noclip/csv/version_0/metrics.csv'), 'utf8').trim().split(/\r?\n/);
      const columns = header.split(',');
      const table = rows.map((row) => row.split(',').map((cell) => parseLogNumber(cell)));
      const column = (name: string) => table.map((row) => row[columns.indexOf(name)]!);
      const steps = column('step');
      assert.equal(steps.length, 250);
      const tags = columns.filter((c) => c !== 'step');
      assert.deepEqual(run.series.map((s) => s.tag).sort(), tags.sort());
      assert.ok(tags.includes('grad_2.0_norm_total') && tags.includes('train_loss') && tags.includes('grad_2.0_norm/model.rnn.weight_hh_l0'));
      for (const tag of tags) {
        const got = series(run, tag);
        assert.deepEqual(got.steps, steps, tag);
        assert.deepEqual(shown(got.values), shown(column(tag).map(Math.fround)), tag);
      }
    });

    it("Hugging Face's TensorBoard callback: loss, grad norm and lr agree with trainer_state.json; text summaries make no scalars", () => {
      const run = readFixture('hf_gpt2_lr3e-4_clip1');
      const state = JSON.parse(readFileSync(path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json'), 'utf8')) as {
        log_history: Record<string, number>[];
      };
      const logged = state.log_history.filter((entry) => 'loss' in entry);
      assert.equal(logged.length, 300);
      for (const key of ['loss', 'grad_norm', 'learning_rate']) {
        assert.deepEqual(series(run, `train/${key}`), { steps: logged.map((e) => e.step), values: logged.map((e) => Math.fround(e[key])) }, key);
      }
      // args/text_summary and model_config/text_summary hold JSON text, not numbers.
      assert.ok(run.series.every((s) => s.tag.startsWith('train/')), run.series.map((s) => s.tag).join());
      assert.deepEqual(series(run, 'train/train_loss').values, [Math.fround(2.324001086950302)]);
      assert.deepEqual(run.warnings, []);
    });

    it('gives the same runs for any chunking of every real file', () => {
      for (const file of findEventFiles(REAL)) {
        const bytes = readFileSync(file);
        const whole = snapshot([read(bytes)]);
        fc.assert(
          fc.property(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), (offsets) => {
            assert.deepEqual(snapshot([read(bytes, cut(bytes, offsets))]), whole);
          }),
          { numRuns: 8 },
        );
        // Byte by byte at the start, where the file_version record and the first events are.
        const head = bytes.subarray(0, 600);
        assert.deepEqual(snapshot([read(head, cut(head, [...Array(600).keys()]))]), snapshot([read(head)]));
      }
    });
  });

  describe('TF2 scalars and histograms', () => {
    const scalarTensor = (step: number, tag: string, tensor: TensorSpec, plugin: string | undefined = 'scalars'): EventSpec => ({
      step,
      values: [{ tag, tensor, plugin }],
    });

    it('reads scalar tensors from float_val, double_val, tensor_content, half_val and int64_val', () => {
      const run = read(
        eventFile([
          scalarTensor(1, 'float_val', { dtype: DataType.FLOAT, shape: [], floatVal: [0.1] }),
          scalarTensor(1, 'double_val', { dtype: DataType.DOUBLE, shape: [], doubleVal: [0.1] }),
          scalarTensor(1, 'content_float', { dtype: DataType.FLOAT, shape: [], content: tensorContent(DataType.FLOAT, [2.5]) }),
          scalarTensor(1, 'content_double', { dtype: DataType.DOUBLE, shape: [], content: tensorContent(DataType.DOUBLE, [1e300]) }),
          scalarTensor(1, 'half', { dtype: DataType.HALF, shape: [], halfVal: [0x3e00] }),
          scalarTensor(1, 'content_half', { dtype: DataType.HALF, shape: [1], content: tensorContent(DataType.HALF, [0xc000]) }),
          scalarTensor(1, 'bfloat16', { dtype: DataType.BFLOAT16, shape: [], halfVal: [0x3fc0] }),
          scalarTensor(1, 'int64', { dtype: DataType.INT64, shape: [], int64Val: [-7] }),
        ]),
      );
      const value = (tag: string) => series(run, tag).values[0];
      assert.equal(value('float_val'), Math.fround(0.1));
      assert.equal(value('double_val'), 0.1);
      assert.equal(value('content_float'), 2.5);
      assert.equal(value('content_double'), 1e300);
      assert.equal(value('half'), 1.5);
      assert.equal(value('content_half'), -2);
      assert.equal(value('bfloat16'), 1.5);
      assert.equal(value('int64'), -7);
      assert.deepEqual(unrecognised(run), ['8 numeric series found, none recognised as a training loss or a gradient norm']);
    });

    it("remembers a tag's plugin from its first value, since TensorFlow's writer drops the metadata after it", () => {
      const run = read(
        eventFile([
          scalarTensor(0, 'epoch_loss', { dtype: DataType.FLOAT, shape: [], floatVal: [3] }),
          scalarTensor(1, 'epoch_loss', { dtype: DataType.FLOAT, shape: [], floatVal: [2] }, undefined),
          { step: 0, values: [{ tag: 'learning_rate', dataClass: 1, tensor: { dtype: DataType.DOUBLE, shape: [], doubleVal: [1e-3] } }] },
          { step: 0, values: [{ tag: 'notes', plugin: 'text', tensor: { dtype: 7, shape: [], stringVal: ['lr=1e-3'] } }] },
          // The hparams plugin writes a float 0.0 placeholder tensor: not a metric.
          { step: 0, values: [{ tag: '_hparams_/session_start_info', plugin: 'hparams', tensor: { dtype: DataType.FLOAT, shape: [], floatVal: [0] } }] },
          { step: 1, values: [{ tag: '_hparams_/session_start_info', tensor: { dtype: DataType.FLOAT, shape: [], floatVal: [0] } }] },
          { step: 0, values: [{ tag: 'embedding', plugin: 'projector', tensor: { dtype: DataType.FLOAT, shape: [2], floatVal: [1, 2] } }] },
        ]),
      );
      assert.deepEqual(series(run, 'epoch_loss'), { steps: [0, 1], values: [3, 2] });
      assert.deepEqual(series(run, 'learning_rate'), { steps: [0], values: [1e-3] });
      assert.deepEqual(run.series.map((s) => s.tag), ['epoch_loss', 'learning_rate']);
      assert.deepEqual(run.warnings, []);
    });

    it('reads TF2 histogram tensors of (left, right, count) buckets', () => {
      const run = read(
        eventFile([
          {
            step: 3,
            values: [{ tag: 'grads/dense/kernel', plugin: 'histograms', tensor: histogramTensor([[-1, 0, 2], [0, 1, 0], [1, 3, 6]]) }],
          },
          { step: 4, values: [{ tag: 'grads/dense/kernel', tensor: histogramTensor([[0.5, 0.5, 4]]) }] },
          { step: 5, values: [{ tag: 'grads/dense/kernel', tensor: histogramTensor([]) }] },
        ]),
      );
      const [histograms] = run.histograms;
      assert.equal(histograms.param, 'dense/kernel');
      assert.deepEqual(histograms.steps, [3, 4, 5]);
      assert.deepEqual(histograms.histograms[0], { min: -1, max: 3, count: 8, sum: 11, sumSquares: 2 * 0.25 + 6 * 4, limits: [0, 1, 3], counts: [2, 0, 6] });
      assert.deepEqual(histograms.histograms[1], { min: 0.5, max: 0.5, count: 4, sum: 2, sumSquares: 1, limits: [0.5], counts: [4] });
      assert.equal(histograms.histograms[2].count, 0);
      assert.deepEqual(run.series, []);
    });

    it('reads TF1 HistogramProto summaries as they are', () => {
      const histo = { min: -2, max: 5, count: 3, sum: 4, sumSquares: 29, limits: [-1, 1, 1.7976931348623157e308], counts: [1, 0, 2] };
      const run = read(eventFile([{ step: 7, values: [{ tag: 'layer1/grad', histo }] }]));
      assert.deepEqual(run.histograms[0], { tag: 'layer1/grad', param: 'layer1', steps: [7], histograms: [histo] });
    });

    it('warns about a histogram it cannot use, naming the tag', () => {
      const run = read(
        eventFile([
          { step: 1, values: [{ tag: 'h', plugin: 'histograms', tensor: { dtype: DataType.DOUBLE, shape: [2, 2], doubleVal: [1, 2, 3, 4] } }] },
          { step: 1, values: [{ tag: 'tf1', histo: { min: 0, max: 1, count: 1, sum: 1, sumSquares: 1, limits: [1, 2], counts: [1] } }] },
        ]),
      );
      assert.deepEqual(run.histograms, []);
      assert.match(run.warnings[0].message, /histogram "h" is not a \[k, 3\] tensor/);
      assert.match(run.warnings[1].message, /histogram "tf1" has 2 bucket limits but 1 counts/);
      assert.ok(run.warnings.every((w) => typeof w.offset === 'number'));
    });
  });

  describe('events and restarts', () => {
    it('keeps NaN and ±Infinity as numbers, from simple_value and from tensors', () => {
      const run = read(
        eventFile([
          scalarEvent(0, 'loss', NaN),
          scalarEvent(1, 'loss', Infinity),
          scalarEvent(2, 'loss', -Infinity),
          { step: 0, values: [{ tag: 'norm', plugin: 'scalars', tensor: { dtype: DataType.FLOAT, shape: [], floatVal: [NaN] } }] },
          { step: 1, values: [{ tag: 'norm', tensor: { dtype: DataType.DOUBLE, shape: [], content: tensorContent(DataType.DOUBLE, [Infinity]) } }] },
          { step: 2, values: [{ tag: 'norm', tensor: { dtype: DataType.HALF, shape: [], halfVal: [0x7c00] } }] },
        ]),
      );
      assert.deepEqual(shown(series(run, 'loss').values), ['NaN', 'Infinity', '-Infinity']);
      assert.deepEqual(shown(series(run, 'norm').values), ['NaN', 'Infinity', 'Infinity']);
    });

    it('on SessionLog START, replaces what was logged from that step on', () => {
      const before = [0, 1, 2, 3, 4, 5].map((step) => scalarEvent(step, 'loss', 10 - step));
      const histogram = (step: number) => ({ step, values: [{ tag: 'grad/w', histo: { min: 0, max: 1, count: 1, sum: 1, sumSquares: 1, limits: [1], counts: [1] } }] });
      const run = read(
        eventFile([
          ...before,
          histogram(0),
          histogram(4),
          { step: 3, sessionStatus: SessionStatus.START },
          scalarEvent(3, 'loss', 100),
          scalarEvent(4, 'loss', 99),
        ]),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [0, 1, 2, 3, 4], values: [10, 9, 8, 100, 99] });
      assert.deepEqual(run.histograms[0].steps, [0]);
    });

    it('ignores SessionLog STOP and CHECKPOINT, file_version, log messages and several values in one event', () => {
      const run = read(
        eventFile([
          { step: 2, sessionStatus: SessionStatus.CHECKPOINT },
          { step: 2, logMessage: 'hello' },
          { step: 2, values: [{ tag: 'a', simpleValue: 1 }, { tag: 'b', simpleValue: 2 }] },
          { step: 3, sessionStatus: SessionStatus.STOP },
          { step: 3, fileVersion: 'brain.Event:2' },
        ]),
      );
      assert.deepEqual(run.series.map((s) => [s.tag, [...s.steps], [...s.values]]), [
        ['a', [2], [1]],
        ['b', [2], [2]],
      ]);
      assert.deepEqual(unrecognised(run), ['2 numeric series found, none recognised as a training loss or a gradient norm']);
    });

    it('takes the node name when a TF1 value has no tag, and reads steps past 2^53 without failing', () => {
      const run = read(
        eventFile([
          { step: 1, values: [{ tag: '', nodeName: 'loss_node', simpleValue: 4 }] },
          scalarEvent(2 ** 60, 'late', 1),
        ]),
      );
      assert.deepEqual(series(run, 'loss_node'), { steps: [1], values: [4] });
      assert.deepEqual(series(run, 'late').steps, [2 ** 60]);
    });

    it('reads several event files of one run with one reader each, as the folder opener does', () => {
      const builder = new RunBuilder({ id: 'run', path: 'run', files: ['a', 'b'], format: 'tfevents' });
      const files = [
        eventFile([0, 1, 2, 3].map((step) => scalarEvent(step, 'loss', step))),
        // A restart from the step-2 checkpoint writes a new file starting with SessionLog START.
        eventFile([{ step: 2, sessionStatus: SessionStatus.START }, scalarEvent(2, 'loss', 20), scalarEvent(3, 'loss', 30), scalarEvent(4, 'loss', 40)]),
      ];
      files.forEach((bytes, i) => {
        const reader = readTfEvents(builder, `file${i}`);
        reader.push(bytes);
        reader.end();
      });
      assert.deepEqual(series(builder.runs()[0], 'loss'), { steps: [0, 1, 2, 3, 4], values: [0, 1, 20, 30, 40] });
    });
  });

  describe('damaged files', () => {
    const events = [0, 1, 2, 3, 4].map((step) => scalarEvent(step, 'loss', step));
    const records = [{ fileVersion: 'brain.Event:2' }, ...events].map((event) => frameRecord(encodeEvent(event)));
    const offsets = records.map((_, i) => records.slice(0, i).reduce((sum, r) => sum + r.length, 0));
    const file = concatBytes(records);
    const damaged = (at: number) => {
      const copy = file.slice();
      copy[at] ^= 0x40;
      return copy;
    };

    it('skips a record whose data fails its checksum, and says where it is', () => {
      const run = read(damaged(offsets[3] + 14));
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 3, 4]);
      assert.deepEqual(run.warnings, [{ file: FILE, offset: offsets[3], message: 'record fails its data checksum; skipped' }]);
      const twice = damaged(offsets[3] + 14);
      twice[offsets[5] + 20] ^= 1;
      assert.match(read(twice).warnings[1].message, /skipped \(2 records so far\)/);
    });

    it('stops at a record whose length fails its checksum, keeping what came before', () => {
      const run = read(damaged(offsets[4] + 2));
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 2]);
      assert.equal(run.warnings.length, 1);
      assert.equal(run.warnings[0].offset, offsets[4]);
      assert.match(run.warnings[0].message, /corrupt record header \(its length fails its checksum\); the rest of the file is not read/);
    });

    it('stops at a checksummed length no protobuf can have, without allocating it', () => {
      const run = read(concatBytes([file, recordHeader(2 ** 40), new Uint8Array(100), frameRecord(encodeEvent(scalarEvent(9, 'loss', 9)))]));
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 2, 3, 4]);
      assert.match(run.warnings[0].message, /corrupt record header \(it claims 1099511627776 bytes\)/);
      assert.equal(run.warnings[0].offset, file.length);
    });

    it('names a length past 2^53 exactly', () => {
      const run = read(concatBytes([file, recordHeader(2 ** 60)]));
      assert.match(run.warnings[0].message, /corrupt record header \(it claims 1152921504606846976 bytes\)/);
    });

    it('buffers a cut record by the bytes that arrived, not by the length it claims', () => {
      const builder = new RunBuilder({ id: 'run', path: 'run', files: ['f'], format: 'tfevents' });
      const reader = readTfEvents(builder, 'f');
      global.gc?.();
      const before = process.memoryUsage().arrayBuffers;
      reader.push(concatBytes([file, recordHeader(MAX_EVENT_BYTES - 1)]));
      for (let i = 0; i < 100; i++) reader.push(new Uint8Array(100));
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 1 << 20, `${grown} bytes`);
      reader.end();
      const run = builder.runs()[0];
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 2, 3, 4]);
      assert.equal(run.warnings[0].offset, file.length);
      assert.match(run.warnings[0].message, new RegExp(`last record is incomplete \\(10012 of ${MAX_EVENT_BYTES + 15} bytes\\)`));
    });

    it('steps over a record too big to be one GradLens reads, and goes on after it', () => {
      const big = recordHeader(MAX_EVENT_BYTES + 1);
      const after = frameRecord(encodeEvent(scalarEvent(9, 'loss', 9)));
      const filler = new Uint8Array(MAX_EVENT_BYTES + 1 + 4);
      const bytes = [file, big, filler.subarray(0, 1000), filler.subarray(1000), after];
      const run = read(concatBytes(bytes), bytes);
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 2, 3, 4, 9]);
      assert.match(run.warnings[0].message, /record of 67108865 bytes is over the 64 MiB GradLens reads; skipped/);
    });

    it('reports a truncated last record at end(), and reads it if the rest arrives', () => {
      const cutAt = offsets[5] + 10;
      const run = read(file.subarray(0, cutAt));
      assert.deepEqual(series(run, 'loss').steps, [0, 1, 2, 3]);
      assert.deepEqual(run.warnings, [{ file: FILE, offset: offsets[5], message: 'last record is incomplete (10 bytes); it is read once the rest is written' }]);

      // Tailing a file being written: end() is reported once, then the rest completes the record.
      const builder = new RunBuilder({ id: 'run', path: 'run', files: ['f'], format: 'tfevents' });
      const reader = readTfEvents(builder, 'f');
      reader.push(file.subarray(0, cutAt));
      reader.end();
      reader.end();
      reader.push(file.subarray(cutAt));
      reader.end();
      assert.deepEqual(series(builder.runs()[0], 'loss').steps, [0, 1, 2, 3, 4]);
      assert.equal(builder.runs()[0].warnings.length, 1);
    });

    it('skips a record whose checksum holds but whose bytes are not an Event', () => {
      const garbage = frameRecord(new Uint8Array([0x2a, 0x7f, 0x01]));
      const run = read(concatBytes([records[0], records[1], garbage, records[2]]));
      assert.deepEqual(series(run, 'loss').steps, [0, 1]);
      assert.deepEqual(run.warnings, [{ file: FILE, offset: records[0].length + records[1].length, message: 'record is not a TensorBoard event; skipped' }]);
    });
  });

  describe('properties', () => {
    const finiteOrNot = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity));
    const anEvent: fc.Arbitrary<EventSpec> = fc.oneof(
      fc.record({ step: fc.nat(50), tag: fc.constantFrom('loss', 'grad_norm', 'grad_norm/h.weight', 'ü/ß'), value: finiteOrNot }).map(({ step, tag, value }) => scalarEvent(step, tag, value)),
      fc.record({ step: fc.nat(50), value: finiteOrNot, dtype: fc.constantFrom(DataType.FLOAT, DataType.DOUBLE) }).map(({ step, value, dtype }) => ({
        step,
        values: [{ tag: 'tf2', plugin: 'scalars', tensor: { dtype, shape: [], content: tensorContent(dtype, [value]) } }],
      })),
      fc.record({ step: fc.nat(50), count: fc.nat(9) }).map(({ step, count }) => ({
        step,
        values: [{ tag: 'hist', plugin: 'histograms', tensor: histogramTensor([[0, 1, count]]) }],
      })),
      fc.nat(50).map((step) => ({ step, sessionStatus: SessionStatus.START })),
    );
    const cuts = (length: number) => fc.array(fc.nat({ max: length }), { maxLength: 12 });

    it('any chunking of a generated file reads the same as the whole', () => {
      fc.assert(
        fc.property(
          fc.array(anEvent, { maxLength: 30 }).chain((events) => {
            const bytes = eventFile(events);
            return fc.tuple(fc.constant(bytes), cuts(bytes.length));
          }),
          ([bytes, offsets]) => {
            assert.deepEqual(snapshot([read(bytes, cut(bytes, offsets))]), snapshot([read(bytes)]));
          },
        ),
        { numRuns: 200 },
      );
    });

    it('reads back every scalar written, in whatever encoding, step width and order', () => {
      const tags = fc.constantFrom('loss', 'grad_norm/total', 'grad_norm/lstm.weight_hh_l0', 'grad_norm/lstm.weight_ih_l0', 'a', 'ü/ß/長い名前');
      const step = fc.oneof(fc.nat(300), fc.integer({ min: -5, max: 2 ** 40 }));
      const written = fc.record({
        step,
        tag: tags,
        value: finiteOrNot,
        encoding: fc.constantFrom('simple', 'float_val', 'double_val', 'content_float', 'content_double'),
        wallTime: fc.boolean(),
      });
      const restart = fc.record({ step, restart: fc.constant(true) });
      fc.assert(
        fc.property(fc.array(fc.oneof({ weight: 8, arbitrary: written }, { weight: 1, arbitrary: restart }), { maxLength: 60 }), (entries) => {
          const expected = new RunBuilder({ id: FILE, path: FILE, files: [FILE], format: 'tfevents' });
          const events = entries.map((entry): EventSpec => {
            if ('restart' in entry) {
              expected.purge(entry.step);
              return { step: entry.step, sessionStatus: SessionStatus.START };
            }
            const { step, tag, value, encoding, wallTime } = entry;
            const float32 = encoding === 'simple' || encoding === 'float_val' || encoding === 'content_float';
            expected.scalar(tag, step, float32 ? Math.fround(value) : value);
            const dtype = float32 ? DataType.FLOAT : DataType.DOUBLE;
            const tensor: TensorSpec =
              encoding === 'float_val' ? { dtype, shape: [], floatVal: [value] } : encoding === 'double_val' ? { dtype, shape: [], doubleVal: [value] } : { dtype, shape: [], content: tensorContent(dtype, [value]) };
            return { step, wallTime: wallTime ? 1.7e9 + step : null, values: [encoding === 'simple' ? { tag, simpleValue: value } : { tag, plugin: 'scalars', tensor }] };
          });
          const run = read(eventFile(events));
          assert.deepEqual(snapshot([run]), snapshot(expected.runs()));
        }),
        { numRuns: 300 },
      );
    });

    it('reads the same with the JavaScript scanner and the WebAssembly one, which matches scalar shapes, damaged or not, in any chunking', () => {
      const withCrc = (kind: 'js' | 'wasm', chunks: Uint8Array[]) => snapshot(readBytes(tfEventsReaderWith(kind), chunks, 'tfevents', FILE));
      fc.assert(
        fc.property(
          fc.array(anEvent, { minLength: 1, maxLength: 30 }).chain((events) => {
            const bytes = eventFile(events);
            // Flipped bits land in headers, data and checksums alike: bad records on both paths.
            const flips = fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })), { maxLength: 3 });
            return fc.tuple(fc.constant(bytes), flips, cuts(bytes.length));
          }),
          ([clean, flips, offsets]) => {
            const bytes = clean.slice();
            for (const [at, flip] of flips) bytes[at] ^= flip;
            const whole = withCrc('js', [bytes]);
            assert.deepEqual(withCrc('wasm', [bytes]), whole);
            assert.deepEqual(withCrc('wasm', cut(bytes, offsets)), whole);
            assert.deepEqual(withCrc('js', cut(bytes, offsets)), whole);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('files read in turn on the one WebAssembly scanner, chunk by chunk, read as each does alone', () => {
      const files = fc.array(anEvent, { minLength: 1, maxLength: 20 }).chain((events) => {
        const bytes = eventFile(events);
        return fc.tuple(fc.constant(bytes), cuts(bytes.length));
      });
      fc.assert(
        fc.property(fc.array(files, { minLength: 2, maxLength: 3 }), fc.array(fc.nat(2), { maxLength: 40 }), (inputs, turns) => {
          const builders = inputs.map((_, i) => new RunBuilder({ id: `f${i}`, path: `f${i}`, files: [`f${i}`], format: 'tfevents' }));
          const readers = builders.map((builder, i) => tfEventsReaderWith('wasm')(builder, `f${i}`));
          const pending = inputs.map(([bytes, offsets]) => cut(bytes, offsets));
          // Whose chunk comes next: as the turns say, then the rest in order.
          for (const turn of [...turns, ...inputs.flatMap((_, i) => pending[i].map(() => i))]) {
            const chunk = pending[turn % inputs.length].shift();
            if (chunk) readers[turn % inputs.length].push(chunk);
          }
          readers.forEach((reader, i) => {
            reader.end();
            assert.deepEqual(snapshot(builders[i].runs()), snapshot(readBytes(tfEventsReaderWith('wasm'), [inputs[i][0]], 'tfevents', `f${i}`)));
          });
        }),
        { numRuns: 150 },
      );
    });

    it('random bytes never throw, whatever the chunking', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat({ max: 400 }), { maxLength: 8 }), (bytes, offsets) => {
          assert.deepEqual(snapshot([read(bytes, cut(bytes, offsets))]), snapshot([read(bytes)]));
        }),
        { numRuns: 300 },
      );
    });

    it('checksummed garbage never throws and reads the same in any chunking', () => {
      // Valid events with bytes changed under a recomputed checksum reach deep into the decoder; random bytes rarely do.
      const mutatedEvent = fc
        .tuple(anEvent, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }))
        .map(([event, flips]) => {
          const data = encodeEvent(event);
          for (const [at, flip] of flips) data[at % data.length] ^= flip;
          return data;
        });
      const payload = fc.oneof(fc.uint8Array({ maxLength: 60 }), mutatedEvent);
      fc.assert(
        fc.property(fc.array(payload, { maxLength: 6 }), fc.array(fc.nat({ max: 800 }), { maxLength: 8 }), (payloads, offsets) => {
          const bytes = concatBytes([eventFile([scalarEvent(1, 'loss', 1)]), ...payloads.map(frameRecord), eventFile([scalarEvent(99, 'loss', 2)])]);
          const whole = read(bytes);
          assert.deepEqual(snapshot([read(bytes, cut(bytes, offsets))]), snapshot([whole]));
          assert.equal(series(whole, 'loss').values.at(-1), 2);
        }),
        { numRuns: 500 },
      );
    });

    it('corrupted real files never throw, warn, and read the same in any chunking', () => {
      const bytes = new Uint8Array(readFileSync(eventFileOf('lightning_rnn_noclip')));
      fc.assert(
        fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), cuts(bytes.length), (at, flip, offsets) => {
          const corrupted = bytes.slice();
          corrupted[at] ^= flip;
          const run = read(corrupted);
          assert.deepEqual(snapshot([read(corrupted, cut(corrupted, offsets))]), snapshot([run]));
          // Every byte is under a checksum: any change is noticed.
          assert.ok(run.warnings.length >= 1);
        }),
        { numRuns: 100 },
      );
    });

    it('a real file cut anywhere keeps every record before the cut and reports the cut one', () => {
      const bytes = new Uint8Array(readFileSync(eventFileOf('hf_gpt2_lr3e-4_clip1')));
      const view = new DataView(bytes.buffer);
      const recordEnds = [0];
      while (recordEnds.at(-1)! < bytes.length) recordEnds.push(recordEnds.at(-1)! + view.getUint32(recordEnds.at(-1)!, true) + 16);
      fc.assert(
        fc.property(fc.nat({ max: bytes.length }), (at) => {
          const complete = recordEnds.filter((end) => end <= at).at(-1)!;
          const run = read(bytes.subarray(0, at));
          const expected = read(bytes.subarray(0, complete));
          // Warnings at an offset are the reader's; one without (a prefix holding only the text summary) says what the run holds.
          const located = (r: Run) => r.warnings.filter((w) => w.offset !== undefined);
          assert.deepEqual(located(expected), []);
          assert.deepEqual(snapshot([{ ...run, warnings: [] }]), snapshot([{ ...expected, warnings: [] }]));
          assert.deepEqual(
            located(run).map((w) => w.offset),
            at === complete ? [] : [complete],
          );
        }),
        { numRuns: 100 },
      );
    });
  });
});
