import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseWandbRunFolder, readWandb, readWandbSummary } from '../../src/logs/formats/wandb';
import { RunBuilder, type Run } from '../../src/logs/run';
import { cut, readBytes, series, snapshot } from './read';
import { CHUNK, WandbLogWriter, coreRow, legacyRow, type RecordSpec } from './wandb-writer';

const FILE = 'run-abc123xy.wandb';
const BLOCK = 32 * 1024;

/** A float as Python's json.dumps spells it (W&B's value_json). */
function pyJson(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return JSON.stringify(value);
}

function writeLog(records: RecordSpec[]): WandbLogWriter {
  const writer = new WandbLogWriter();
  for (const record of records) writer.write(record);
  return writer;
}

function read(bytes: Uint8Array, chunks: Uint8Array[] = [bytes]): Run {
  const runs = readBytes(readWandb, chunks, 'wandb', FILE);
  assert.equal(runs.length, 1);
  return runs[0];
}

/** The usual shape of a wandb-core offline log around the history rows. */
function offlineRun(rows: RecordSpec[]): RecordSpec[] {
  return [
    { run: { runId: 'abc123xy', displayName: 'offline-test' } },
    { outputRaw: 'epoch 0\n' },
    ...rows,
    { stats: { seconds: 1_700_000_000, items: [{ key: 'cpu', valueJson: '12.5' }] } },
    { summary: [{ nestedKey: ['loss'], valueJson: '0.5' }] },
    { exit: { exitCode: 0, runtime: 42 } },
  ];
}

/** A row of about `size` encoded bytes, holding only a string (which is not data). */
function fillerRow(size: number): RecordSpec {
  return coreRow([['note', JSON.stringify('x'.repeat(Math.max(0, size - 40)))]]);
}

/** Writes filler so that exactly `left` bytes remain in the current block. */
function leaveInBlock(writer: WandbLogWriter, left: number): void {
  const recordSize = (length: number) => {
    const probe = new WandbLogWriter();
    probe.write(fillerRow(length));
    return probe.length - 7;
  };
  const target = BLOCK - (writer.length % BLOCK) - left;
  // The size grows with the filler; find the smallest filler that reaches the target.
  let low = 0;
  let high = BLOCK;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (recordSize(mid) < target) low = mid + 1;
    else high = mid;
  }
  if (recordSize(low) === target) {
    writer.write(fillerRow(low));
    assert.equal(BLOCK - (writer.length % BLOCK), left);
    return;
  }
  throw new Error(`cannot leave ${left} bytes`);
}

describe('W&B transaction log (.wandb)', () => {
  it('reads wandb-core rows: steps counted from 0, NaN and Infinity kept, other records ignored', () => {
    const values = [2.5, 1.25, NaN, Infinity, -Infinity];
    const bytes = writeLog(
      offlineRun(values.map((loss, i) => coreRow([['loss', pyJson(loss)], ['grad_norm', pyJson(i * 10)], ['_runtime', '1.5'], ['_timestamp', '1700000000.1']]))),
    ).bytes();
    const run = read(bytes);
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(series(run, 'loss'), { steps: [0, 1, 2, 3, 4], values });
    assert.deepEqual(series(run, 'grad_norm').values, [0, 10, 20, 30, 40]);
    assert.equal(run.series.find((s) => s.tag === 'grad_norm')?.role, 'gradNorm');
    assert.deepEqual(
      run.series.map((s) => s.tag),
      ['loss', 'grad_norm'],
      'no series for _runtime, _timestamp, system stats or the summary',
    );
  });

  it('reads rows from before wandb PR #12110 (step field and _step item) at their sparse steps', () => {
    const bytes = writeLog(offlineRun([legacyRow(0, { loss: '3' }), legacyRow(5, { loss: '2' }), legacyRow(10, { loss: '1' })])).bytes();
    assert.deepEqual(series(read(bytes), 'loss'), { steps: [0, 5, 10], values: [3, 2, 1] });
  });

  it('assigns steps as W&B does: explicit steps, the running step after them, and drops a row behind', () => {
    const bytes = writeLog([
      { run: { runId: 'r', startingStep: 100 } },
      coreRow([['loss', '1']]),
      { history: { step: 200, items: [{ nestedKey: ['loss'], valueJson: '2' }] } },
      coreRow([['loss', '3']]),
      { history: { step: 150, items: [{ nestedKey: ['loss'], valueJson: '99' }] } },
      { history: { items: [{ nestedKey: ['loss'], valueJson: '4' }, { nestedKey: ['_step'], valueJson: '120' }] } },
    ]).bytes();
    const run = read(bytes);
    // starting_step 100; explicit 200; then 201; 150 is behind: dropped; a _step behind is renumbered to 202.
    assert.deepEqual(series(run, 'loss'), { steps: [100, 200, 201, 202], values: [1, 2, 3, 4] });
    assert.equal(run.warnings.length, 1);
    assert.match(run.warnings[0].message, /step 150, behind step 202/);
  });

  it('names nested keys with dots, as W&B does, from both wandb-core paths and old whole-dict values', () => {
    const bytes = writeLog([
      coreRow([[['train', 'loss'], '0.5'], ['train/grad_norm', '1.5'], ['clipped', 'true'], ['phase', '"warmup"'], ['_wandb', '{"runtime": 3}']]),
      { history: { items: [{ key: 'eval', valueJson: '{"loss": 0.75, "extra": {"acc": 0.5}, "name": "val"}' }] } },
    ]).bytes();
    const run = read(bytes);
    assert.deepEqual(
      run.series.map((s) => [s.tag, [...s.steps], [...s.values]]),
      [
        ['train.loss', [0], [0.5]],
        ['train/grad_norm', [0], [1.5]],
        ['clipped', [0], [1]],
        ['eval.loss', [1], [0.75]],
        ['eval.extra.acc', [1], [0.5]],
      ],
    );
  });

  it('reads wandb.watch gradient histograms, whether flattened by wandb-core or whole', () => {
    const counts = [1, 0, 3, 4];
    const bins = [-0.2, -0.1, 0, 0.1, 0.2];
    const bytes = writeLog([
      coreRow([
        [['gradients/rnn.weight_hh_l0', '_type'], '"histogram"'],
        [['gradients/rnn.weight_hh_l0', 'values'], JSON.stringify(counts)],
        [['gradients/rnn.weight_hh_l0', 'bins'], JSON.stringify(bins)],
        [['samples', '_type'], '"image-file"'],
        [['samples', 'width'], '64'],
        ['loss', '1'],
      ]),
      coreRow([['gradients/fc.weight', JSON.stringify({ _type: 'histogram', values: [5], bins: [0.5, 0.5] })]]),
    ]).bytes();
    const run = read(bytes);
    assert.deepEqual(
      run.series.map((s) => s.tag),
      ['loss'],
      'no scalar from inside a W&B object',
    );
    const [rnn, fc1] = run.histograms;
    assert.equal(rnn.tag, 'gradients/rnn.weight_hh_l0');
    assert.equal(rnn.param, 'rnn.weight_hh_l0');
    assert.deepEqual(rnn.steps, [0]);
    const histogram = rnn.histograms[0];
    assert.deepEqual({ min: histogram.min, max: histogram.max, count: histogram.count, limits: histogram.limits, counts: histogram.counts }, {
      min: -0.2,
      max: 0.2,
      count: 8,
      limits: [-0.1, 0, 0.1, 0.2],
      counts,
    });
    assert.ok(Math.abs(histogram.sum - (1 * -0.15 + 3 * 0.05 + 4 * 0.15)) < 1e-12);
    assert.deepEqual(fc1.steps, [1]);
    assert.deepEqual(fc1.histograms[0], { min: 0.5, max: 0.5, count: 5, sum: 2.5, sumSquares: 1.25, limits: [0.5], counts: [5] });
  });

  it('reads long histories across many blocks, and a row longer than a block (FIRST, MIDDLE, LAST)', () => {
    const rows = Array.from({ length: 4000 }, (_, i) => coreRow([['loss', pyJson(1 / (i + 1))], ['grad_norm', pyJson(i % 97 === 0 ? NaN : i)]]));
    const wide = coreRow(Array.from({ length: 4000 }, (_, i): [string, string] => [`grad_norm/layer${i}.weight`, pyJson(i / 7)]));
    const writer = writeLog([...rows.slice(0, 2000), wide, ...rows.slice(2000)]);
    const bytes = writer.bytes();
    assert.ok(bytes.length > 5 * BLOCK);
    assert.ok(writer.chunks.some((c) => c.type === CHUNK.middle), 'the wide row spans whole blocks');
    assert.ok(writer.chunks.filter((c) => c.type === CHUNK.first).length > 3, 'rows straddle block ends');
    const run = read(bytes);
    assert.deepEqual(run.warnings, []);
    const loss = series(run, 'loss');
    assert.equal(loss.steps.length, 4000);
    assert.deepEqual(loss.steps.slice(1998, 2002), [1998, 1999, 2001, 2002], 'the wide row took step 2000');
    assert.equal(loss.values[3999], 1 / 4000);
    assert.ok(Number.isNaN(series(run, 'grad_norm').values[97]));
    assert.deepEqual(series(run, 'grad_norm/layer3999.weight'), { steps: [2000], values: [3999 / 7] });
  });

  it('reads across block padding and an empty FIRST chunk where exactly 7 bytes were left', () => {
    for (const left of [1, 6, 7, 8]) {
      const writer = new WandbLogWriter();
      writer.write(coreRow([['loss', '1']]));
      leaveInBlock(writer, left);
      writer.write(coreRow([['loss', '2']]));
      writer.write(coreRow([['loss', '3']]));
      if (left === 7) assert.ok(writer.chunks.some((c) => c.type === CHUNK.first && c.length === 0));
      const run = read(writer.bytes());
      assert.deepEqual(run.warnings, [], `${left} bytes left`);
      assert.deepEqual(series(run, 'loss'), { steps: [0, 2, 3], values: [1, 2, 3] }, `${left} bytes left`);
    }
  });

  it('skips a record whose checksum fails, names its offset, and reads the rest', () => {
    const writer = writeLog(Array.from({ length: 50 }, (_, i) => legacyRow(i, { loss: pyJson(i) })));
    const bytes = writer.bytes();
    const damaged = writer.recordOffsets[20];
    bytes[damaged + 7 + 5] ^= 0x40;
    const run = read(bytes);
    assert.deepEqual(run.warnings, [{ file: FILE, offset: damaged, message: `chunk at offset ${damaged} fails its checksum; skipped` }]);
    const loss = series(run, 'loss');
    assert.equal(loss.steps.length, 49);
    assert.ok(!loss.steps.includes(20));
    assert.equal(loss.steps[20], 21);
  });

  it('skips the pieces of a multi-block record whose first piece is damaged, with one warning', () => {
    const wide = coreRow(Array.from({ length: 3000 }, (_, i): [string, string] => [`w${i}`, '1']));
    const writer = writeLog([legacyRow(0, { loss: '1' }), wide, legacyRow(2, { loss: '3' })]);
    const bytes = writer.bytes();
    bytes[writer.recordOffsets[1] + 7 + 3] ^= 1;
    const run = read(bytes);
    assert.equal(run.warnings.length, 1);
    assert.match(run.warnings[0].message, /fails its checksum/);
    assert.deepEqual(series(run, 'loss'), { steps: [0, 2], values: [1, 3] });
    assert.equal(run.series.length, 1);
  });

  it('on a chunk length past its block, warns and resumes at the next block', () => {
    const writer = writeLog(Array.from({ length: 2000 }, (_, i) => legacyRow(i, { loss: pyJson(i) })));
    const bytes = writer.bytes();
    const damaged = writer.recordOffsets[100];
    bytes[damaged + 4] = 0xff;
    bytes[damaged + 5] = 0xff;
    const run = read(bytes);
    assert.equal(run.warnings.length, 1);
    assert.deepEqual(run.warnings[0], {
      file: FILE,
      offset: damaged,
      message: `chunk at offset ${damaged} claims 65535 bytes, past the end of its 32 KiB block; skipped to offset ${BLOCK}`,
    });
    const loss = series(run, 'loss');
    assert.deepEqual(loss.steps.slice(0, 100), Array.from({ length: 100 }, (_, i) => i));
    const firstAfter = writer.recordOffsets.findIndex((o) => o >= BLOCK);
    assert.equal(loss.steps[100], firstAfter, 'reading resumes with the first record in the next block');
    assert.equal(loss.steps[loss.steps.length - 1], 1999);
  });

  it('waits for a record cut by the end of the file, and reads it when the rest arrives', () => {
    const writer = writeLog(Array.from({ length: 30 }, (_, i) => coreRow([['loss', pyJson(i)]])));
    const bytes = writer.bytes();
    const cutAt = writer.recordOffsets[25] + 10;
    const builder = new RunBuilder({ id: 'r', path: FILE, files: [FILE], format: 'wandb' });
    const reader = readWandb(builder, FILE);
    reader.push(bytes.subarray(0, cutAt));
    reader.end();
    let run = builder.runs()[0];
    assert.deepEqual(series(run, 'loss').steps, Array.from({ length: 25 }, (_, i) => i));
    assert.deepEqual(run.warnings, [
      { file: FILE, offset: writer.recordOffsets[25], message: `the file ends inside the record at offset ${writer.recordOffsets[25]}; it is read once the rest is written` },
    ]);
    reader.push(bytes.subarray(cutAt));
    reader.end();
    run = builder.runs()[0];
    assert.equal(series(run, 'loss').steps.length, 30);
    assert.equal(run.warnings.length, 1);
  });

  it('keeps its own copy of the bytes pushed, so a reader of the file may reuse its buffer', () => {
    const bytes = writeLog(Array.from({ length: 20 }, (_, i) => coreRow([['loss', pyJson(i)]]))).bytes();
    const builder = new RunBuilder({ id: 'r', path: FILE, files: [FILE], format: 'wandb' });
    const reader = readWandb(builder, FILE);
    const buffer = Buffer.alloc(64);
    for (let at = 0; at < bytes.length; at += buffer.length) {
      const length = Math.min(buffer.length, bytes.length - at);
      buffer.set(bytes.subarray(at, at + length));
      reader.push(buffer.subarray(0, length));
      buffer.fill(0xee);
    }
    reader.end();
    const run = builder.runs()[0];
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(series(run, 'loss').values, Array.from({ length: 20 }, (_, i) => i));
  });

  it('reports a file that is not a W&B log once, and one with a newer format version', () => {
    const notWandb = read(new TextEncoder().encode('{"loss": 1}\n{"loss": 2}\n'.repeat(100)));
    assert.deepEqual(notWandb.warnings, [{ file: FILE, offset: 0, message: 'not a W&B transaction log: the file does not start with the ":W&B" header' }]);
    assert.deepEqual(read(new Uint8Array([0x3a, 0x57])).warnings[0].message, 'the file is 2 bytes long, shorter than the 7-byte W&B header');
    const newer = new WandbLogWriter(1);
    newer.write(coreRow([['loss', '1']]));
    const run = read(newer.bytes());
    assert.match(run.warnings[0].message, /version 1/);
    assert.deepEqual(series(run, 'loss').values, [1]);
  });

  it('knows W&B run folders', () => {
    assert.deepEqual(parseWandbRunFolder('offline-run-20240102_030405-abc123xy'), { runId: 'abc123xy', offline: true });
    assert.deepEqual(parseWandbRunFolder('run-20240102_030405-my-own-id'), { runId: 'my-own-id', offline: false });
    assert.equal(parseWandbRunFolder('latest-run'), undefined);
  });

  describe('properties', () => {
    const key = fc.constantFrom('loss', 'grad_norm', 'train/loss', 'lr', '_runtime');
    const row = fc.oneof(
      fc.dictionary(key, fc.double(), { minKeys: 1 }).map((values) => coreRow(Object.entries(values).map(([k, v]): [string, string] => [k, pyJson(v)]))),
      fc.tuple(fc.nat(10_000), fc.dictionary(key, fc.double())).map(([step, values]) => legacyRow(step, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, pyJson(v)])))),
      fc.integer({ min: 30_000, max: 80_000 }).map(fillerRow),
    );
    const logBytes = fc.array(row, { maxLength: 300 }).map((rows) => writeLog(rows).bytes());
    const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 });
    const offsets = fc.array(fc.nat(), { maxLength: 12 });

    function damaged(bytes: Uint8Array, flips: [number, number][], truncate?: number): Uint8Array {
      const copy = bytes.slice(0, truncate === undefined ? bytes.length : truncate % (bytes.length + 1));
      for (const [at, mask] of flips) if (copy.length > 0) copy[at % copy.length] ^= mask;
      return copy;
    }

    it('any chunking of a log, intact or damaged, reads the same as one whole read', () => {
      fc.assert(
        fc.property(logBytes, damage, fc.option(fc.nat()), offsets, (bytes, flips, truncate, cuts) => {
          const file = damaged(bytes, flips, truncate ?? undefined);
          const scaled = cuts.map((c) => c % (file.length + 1));
          assert.deepStrictEqual(snapshot(readBytes(readWandb, cut(file, scaled), 'wandb', FILE)), snapshot(readBytes(readWandb, [file], 'wandb', FILE)));
        }),
        { numRuns: 60 },
      );
    });

    it('never throws on random bytes, with or without a W&B header', () => {
      const header = new WandbLogWriter().bytes();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), offsets, (random, withHeader, cuts) => {
          const file = withHeader ? new Uint8Array([...header, ...random]) : random;
          readBytes(readWandb, cut(file, cuts.map((c) => c % (file.length + 1))), 'wandb', FILE);
        }),
        { numRuns: 300 },
      );
    });

    it('never throws on chunks with valid checksums but garbage records', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 30 }), (payloads) => {
          const writer = new WandbLogWriter();
          for (const payload of payloads) writer.writeData(payload);
          readBytes(readWandb, [writer.bytes()], 'wandb', FILE);
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('W&B summary (wandb-summary.json)', () => {
  const SUMMARY = 'files/wandb-summary.json';
  const readSummary = (text: string, chunks?: Uint8Array[]) => readBytes(readWandbSummary, chunks ?? [new TextEncoder().encode(text)], 'wandb', SUMMARY)[0];

  it('emits each numeric key at the summary _step, NaN and Infinity kept', () => {
    const run = readSummary(
      '{"loss": NaN, "grad_norm": Infinity, "lr": 0.001, "train": {"acc": 0.5}, "_step": 999, "_runtime": 12.5, "_timestamp": 1700000000.5, "_wandb": {"runtime": 12}, "phase": "done"}',
    );
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(
      run.series.map((s) => [s.tag, [...s.steps], [...s.values].map(String)]),
      [
        ['loss', [999], ['NaN']],
        ['grad_norm', [999], ['Infinity']],
        ['lr', [999], ['0.001']],
        ['train.acc', [999], ['0.5']],
      ],
    );
  });

  it('reads a pretty-printed summary without _step at step 0, with its histograms', () => {
    const run = readSummary(
      '{\n    "loss": 1.5,\n    "gradients/fc.weight": {\n        "_type": "histogram",\n        "values": [1, 2],\n        "bins": [0, 1, 2]\n    }\n}\n',
    );
    assert.deepEqual(series(run, 'loss'), { steps: [0], values: [1.5] });
    assert.deepEqual(run.histograms[0].steps, [0]);
    assert.deepEqual(run.histograms[0].histograms[0].counts, [1, 2]);
  });

  it('warns about a file that is not a JSON object', () => {
    assert.deepEqual(readSummary('{"loss": 1.5,').warnings, [{ file: SUMMARY, message: 'not a W&B summary: the file is not complete JSON (W&B may be writing it)', incomplete: true }]);
    assert.deepEqual(readSummary('[1.5]').warnings, [{ file: SUMMARY, message: 'not a W&B summary: the file is not one JSON object' }]);
    assert.deepEqual(readSummary('').warnings, []);
  });

  it('reads the same in any chunking, and never throws', () => {
    const summary = fc
      .dictionary(fc.constantFrom('loss', 'grad_norm', '_step', 'nested', 'é'), fc.oneof(fc.double(), fc.integer(), fc.string(), fc.dictionary(fc.string(), fc.double())))
      .map((object) => new TextEncoder().encode(JSON.stringify(object, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${pyJson(v)}@@` : v)).replace(/"@@(.*?)@@"/g, '$1')));
    fc.assert(
      fc.property(fc.oneof(summary, fc.uint8Array({ maxLength: 500 })), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const whole = readBytes(readWandbSummary, [bytes], 'wandb', SUMMARY);
        const chunked = readBytes(readWandbSummary, cut(bytes, cuts.map((c) => c % (bytes.length + 1))), 'wandb', SUMMARY);
        assert.deepStrictEqual(snapshot(chunked), snapshot(whole));
      }),
      { numRuns: 300 },
    );
  });
});
