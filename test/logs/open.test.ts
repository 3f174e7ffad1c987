import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, promises as fsPromises, readFileSync, renameSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import os from 'node:os';
import path from 'node:path';
import { DETECT_BYTES, detectFormat } from '../../src/logs/detect';
import { discoverRuns, specForFile } from '../../src/logs/discovery';
import { openRuns, readRunSpec } from '../../src/logs/open';
import { RunTail } from '../../src/logs/tail';
import { writerOf } from '../../src/logs/settings';
import { series, snapshot } from './read';
import { coreRow, WandbLogWriter } from './wandb-writer';

const REAL = path.join(__dirname, '../fixtures/real');
const bytes = (text: string) => new TextEncoder().encode(text);

/** Counts the files opened (fs.promises.open, which every read goes through) until restored. */
function countOpens(): { readonly count: number; restore(): void } {
  const open = fsPromises.open;
  let count = 0;
  fsPromises.open = ((...args: Parameters<typeof open>) => {
    count++;
    return open(...args);
  }) as typeof open;
  return {
    get count() {
      return count;
    },
    restore: () => void (fsPromises.open = open),
  };
}

describe('format detection', () => {
  it('tells formats apart by content, whatever the file is called', () => {
    assert.equal(detectFormat('log.txt', bytes('{"step": 0, "loss": 1}\n')), 'jsonl');
    assert.equal(detectFormat('data', readFileSync(path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json'))), 'hf-trainer-state');
    assert.equal(detectFormat('x.log', readFileSync(path.join(REAL, 'lightning_rnn_noclip/csv/version_0/metrics.csv'))), 'csv');
    assert.equal(detectFormat('x.csv', readFileSync(path.join(REAL, 'torch_lstm_sgd_clip1/train.log'))), 'text');
    assert.equal(detectFormat('renamed.bin', readFileSync(path.join(REAL, 'torch_lstm_sgd_clip1/tb/events.out.tfevents.1795340642.vm.442.1'))), 'tfevents');
    assert.equal(detectFormat('console.txt', bytes("{'loss': 2.3, 'grad_norm': 1.1, 'learning_rate': 5e-05, 'epoch': 0.01}\n")), 'text');
    assert.equal(detectFormat('x.log', bytes('Step 3: loss=4.1, grad_norm=2.0\nStep 4: loss=4.0, grad_norm=2.1\n')), 'text');
    assert.equal(detectFormat('grads.log', bytes('# run: lr=0.1, clip=1\n{"step": 0, "grad_norm": 1}\n')), 'jsonl');
    assert.equal(detectFormat('run-abc.wandb', bytes(':W&B\u00e1\u00be\u0000')), 'wandb');
    assert.equal(detectFormat('blob', new Uint8Array(4096).map((_, i) => (i * 7919) % 256)), undefined);
  });
});

describe('format detection on a head that cuts the content', () => {
  const lightningCsv = (rows: number, raggedAt?: number) =>
    [
      'epoch,grad_2.0_norm_total,step,train_loss,val_loss',
      ...Array.from({ length: rows }, (_, i) => (i === raggedAt ? `0,${i}` : i % 5 === 4 ? `0,,${i},,${1 + i / 10}` : `0,${1 + i / 100},${i},${2 - i / 100},`)),
    ].join('\n') + '\n';

  it('reads JSON lines of any length as JSON lines, however much of the first line the head holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0, max: 1, noNaN: true }), (parameters, cutAt) => {
        // A model logging one norm per parameter: 3000 parameters make a 120 KiB line.
        const record = { step: 0, loss: 1.5, ...Object.fromEntries(Array.from({ length: parameters }, (_, i) => [`grad_norm/model.layers.${i}.mlp.weight`, 0.01 * i])) };
        const file = bytes(`${JSON.stringify(record)}\n${JSON.stringify({ ...record, step: 1 })}\n`);
        const head = file.subarray(0, Math.max(2, Math.min(DETECT_BYTES, Math.floor(cutAt * file.length))));
        assert.equal(detectFormat('log', head), 'jsonl');
      }),
      { numRuns: 50 },
    );
  });

  it('reads a CSV as CSV when the head ends mid-row, or one of its first rows is ragged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 40 }), fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), fc.double({ min: 0, max: 1, noNaN: true }), (rows, raggedAt, cutAt) => {
        const file = bytes(lightningCsv(rows, raggedAt));
        // Cut after the header, and when a row is ragged, after at least two rows that are not.
        const lineEnds = [...file.keys()].filter((i) => file[i] === 10);
        const from = lineEnds[raggedAt === undefined ? 0 : Math.max(3, raggedAt + 1)] + 1;
        assert.equal(detectFormat('log', file.subarray(0, from + Math.floor(cutAt * (file.length - from)))), 'csv');
      }),
      { numRuns: 50 },
    );
  });

  it('follows a metrics.csv first seen mid-row', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-midrow-'));
    const file = path.join(dir, 'metrics.csv');
    const text = lightningCsv(32);
    const cut = text.indexOf('\n', text.indexOf('\n') + 1) + 6;
    writeFileSync(file, text.slice(0, cut));
    const tail = new RunTail((await specForFile(file))!);
    await tail.poll();
    appendFileSync(file, text.slice(cut));
    await tail.poll();
    assert.equal(series(tail.runs()[0], 'grad_2.0_norm_total').steps.length, 26);
    assert.equal(series(tail.runs()[0], 'val_loss').steps.length, 6);
  });
});

describe('opening paths', () => {
  it('finds every run of a folder: Lightning version_N, a Hugging Face output dir, TensorBoard log dirs, loose logs', async () => {
    const specs = await discoverRuns(REAL);
    const ids = specs.map((s) => `${s.source.id} ${s.source.format}`).sort();
    assert.deepEqual(ids, [
      'real/hf_gpt2_lr3e-4_clip1 hf-trainer-state',
      'real/hf_gpt2_lr3e-4_clip1/runs tfevents',
      'real/lightning_rnn_noclip/csv/version_0/metrics.csv csv',
      'real/lightning_rnn_noclip/tb/version_0 tfevents',
      ...['torch_lstm_sgd_clip1', 'torch_lstm_sgd_noclip', 'torch_rnn_orthogonal_clip1', 'torch_rnn_radius1.6_noclip'].flatMap((run) => [`real/${run}/grads.jsonl jsonl`, `real/${run}/tb tfevents`, `real/${run}/train.log text`]),
    ].sort());
  });

  it('takes the newest trainer_state.json of a Hugging Face output dir, checkpoints included', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-hf-'));
    const state = (step: number) => JSON.stringify({ global_step: step, log_history: Array.from({ length: step }, (_, i) => ({ loss: 1, grad_norm: 1, step: i + 1 })) });
    for (const step of [100, 300, 200]) {
      mkdirSync(path.join(dir, `checkpoint-${step}`));
      writeFileSync(path.join(dir, `checkpoint-${step}`, 'trainer_state.json'), state(step));
    }
    const runs = await openRuns(dir);
    assert.equal(runs.length, 1);
    assert.match(runs[0].path, /checkpoint-300/);
    assert.equal(series(runs[0], 'grad_norm').steps.length, 300);
  });

  it('reads a TensorBoard folder with several event files as one run, in name order', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tb-'));
    const source = path.join(REAL, 'torch_lstm_sgd_clip1/tb/events.out.tfevents.1795340642.vm.442.1');
    copyFileSync(source, path.join(dir, 'events.out.tfevents.1.host'));
    const runs = await openRuns(dir);
    assert.equal(runs.length, 1);
    assert.equal(series(runs[0], 'grad_norm/total').steps.length, 400);
  });

  it('reads an MLflow file store: one run per run folder, named by run_name, deleted runs left out', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-mlruns-'));
    const run = (id: string, meta: string) => {
      const dir = path.join(root, 'mlruns', '1', id);
      mkdirSync(path.join(dir, 'metrics', 'train'), { recursive: true });
      writeFileSync(path.join(dir, 'meta.yaml'), meta);
      writeFileSync(path.join(dir, 'metrics', 'train', 'loss'), '1700000000000 2.5 0\n1700000000100 2.25 1\n');
      writeFileSync(path.join(dir, 'metrics', 'grad_norm'), '1700000000000 1.5 0\n1700000000100 nan 1\n');
    };
    run('abc', 'run_id: abc\nrun_name: brave-owl-12\nlifecycle_stage: active\n');
    run('old', 'run_id: old\nlifecycle_stage: deleted\n');
    const runs = await openRuns(path.join(root, 'mlruns'));
    assert.deepEqual(
      runs.map((r) => [r.id, r.format]),
      [['mlruns/1/brave-owl-12', 'mlflow']],
    );
    assert.deepEqual(series(runs[0], 'train/loss'), { steps: [0, 1], values: [2.5, 2.25] });
    assert.equal(runs[0].series.find((s) => s.tag === 'train/loss')?.role, 'loss');
    assert.ok(Number.isNaN(series(runs[0], 'grad_norm').values[1]));
  });

  it('reads a W&B offline run folder through its .wandb log', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-wandb-'));
    const dir = path.join(root, 'wandb', 'offline-run-20261123_120000-abc123xy');
    mkdirSync(path.join(dir, 'files'), { recursive: true });
    const writer = new WandbLogWriter();
    for (let i = 0; i < 5; i++) {
      writer.write(
        coreRow([
          [['train', 'loss'], String(3 - i * 0.1)],
          ['grad_norm', i === 4 ? 'NaN' : '1.5'],
        ]),
      );
    }
    writeFileSync(path.join(dir, 'run-abc123xy.wandb'), writer.bytes());
    writeFileSync(path.join(dir, 'files', 'wandb-summary.json'), '{"grad_norm": 9, "_step": 4}');
    const runs = await openRuns(root);
    assert.deepEqual(
      runs.map((r) => [r.id, r.format]),
      [[`${path.basename(root)}/wandb/offline-run-20261123_120000-abc123xy`, 'wandb']],
    );
    assert.equal(series(runs[0], 'train.loss').steps.length, 5);
    assert.equal(runs[0].series.find((s) => s.tag === 'train.loss')?.role, 'loss');
    assert.ok(Number.isNaN(series(runs[0], 'grad_norm').values[4]));
  });

  it('finds a settings file added to a folder it has already listed (a sweep\'s listings are kept while the folder is unchanged)', async () => {
    const sweep = mkdtempSync(path.join(os.tmpdir(), 'gradlens-listing-'));
    const run = path.join(sweep, 'lr-0');
    mkdirSync(run);
    writeFileSync(path.join(run, 'grads.jsonl'), '{"step": 0, "loss": 2, "grad_norm": 1}\n');
    // Settled folders, as a sweep on disk for a while is: their listings are kept.
    const past = new Date(Date.now() - 60_000);
    for (const dir of [run, sweep]) utimesSync(dir, past, past);
    const clipOf = async () => (await openRuns(run))[0].settings?.clipNorm;
    assert.equal(await clipOf(), undefined);
    writeFileSync(path.join(sweep, 'config.yaml'), 'gradient_clip_val: 0.5\n');
    assert.equal(await clipOf(), 0.5, 'the parent folder listed again once its mtime moved');
  });

  it('reads a LLaMA-Factory output dir as one run: trainer_state.json once saved, its trainer_log.jsonl until then, in the Trainer\'s terms', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'gradlens-llamafactory-'));
    copyFileSync(path.join(__dirname, '../fixtures/public/llamafactory/trainer_log.jsonl'), path.join(out, 'trainer_log.jsonl'));
    const before = await openRuns(out);
    assert.deepEqual(before.map((r) => [r.format, path.basename(r.path)]), [['jsonl', 'trainer_log.jsonl']]);
    assert.equal(writerOf(before[0]), 'hf-trainer');
    mkdirSync(path.join(out, 'checkpoint-300'));
    copyFileSync(path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json'), path.join(out, 'checkpoint-300', 'trainer_state.json'));
    const after = await openRuns(out);
    assert.deepEqual(after.map((r) => r.format), ['hf-trainer-state']);
    assert.ok(after[0].series.some((s) => s.role === 'gradNorm'));
  });

  it('rejects a path that does not exist', async () => {
    await assert.rejects(openRuns(path.join(REAL, 'nope')), /nope/);
  });
});

describe('tailing a run while it is written', () => {
  it('reads appended lines, waits on a partial one, and starts over when the file is replaced', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-'));
    const file = path.join(dir, 'grads.jsonl');
    writeFileSync(file, '{"step": 0, "grad_norm": 1}\n{"step": 1, "grad');
    const [spec] = await discoverRuns(dir);
    const tail = new RunTail(spec);
    assert.equal(await tail.poll(), true);
    assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [0]);
    assert.equal(await tail.poll(), false, 'nothing changed');
    appendFileSync(file, '_norm": 2}\n{"step": 2, "grad_norm": 3}\n');
    assert.equal(await tail.poll(), true);
    assert.deepEqual(series(tail.runs()[0], 'grad_norm'), { steps: [0, 1, 2], values: [1, 2, 3] });

    // A new training run replaces the file (new inode, shorter content).
    writeFileSync(path.join(dir, 'new.jsonl'), '{"step": 0, "grad_norm": 7}\n');
    renameSync(path.join(dir, 'new.jsonl'), file);
    assert.equal(await tail.poll(), true);
    assert.deepEqual(series(tail.runs()[0], 'grad_norm'), { steps: [0], values: [7] });
  });

  it('reads trainer_state.json again each time the Trainer rewrites it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-hf-'));
    const file = path.join(dir, 'trainer_state.json');
    const write = (steps: number) => writeFileSync(file, JSON.stringify({ global_step: steps, log_history: Array.from({ length: steps }, (_, i) => ({ loss: 2, grad_norm: i, step: i + 1 })) }, null, 2));
    write(2);
    const [spec] = await discoverRuns(dir);
    const tail = new RunTail(spec);
    await tail.poll();
    assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [1, 2]);
    write(5);
    assert.equal(await tail.poll(), true);
    assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [1, 2, 3, 4, 5]);
  });

  it('keeps the last good read of trainer_state.json while the Trainer is halfway through rewriting it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-hf-half-'));
    const file = path.join(dir, 'trainer_state.json');
    const state = (steps: number) => JSON.stringify({ global_step: steps, log_history: Array.from({ length: steps }, (_, i) => ({ loss: 2, grad_norm: i, step: i + 1 })) }, null, 2);
    writeFileSync(file, state(5));
    const tail = new RunTail((await discoverRuns(dir))[0]);
    await tail.poll();
    // Opened with mode "w": first empty, then half written.
    for (const partial of ['', state(6).slice(0, 300)]) {
      writeFileSync(file, partial);
      await tail.poll();
      assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [1, 2, 3, 4, 5]);
      assert.deepEqual(tail.runs()[0].warnings, []);
      assert.equal((await discoverRuns(dir)).length, 1, 'the run is still found');
    }
    writeFileSync(file, state(6));
    assert.equal(await tail.poll(), true);
    assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [1, 2, 3, 4, 5, 6]);
  });

  it('starts over when Lightning rewrites metrics.csv in place with a wider header', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-csv-'));
    const file = path.join(dir, 'metrics.csv');
    const rows = (count: number, wide: boolean) =>
      [wide ? 'epoch,step,train_loss,grad_norm' : 'epoch,step,train_loss', ...Array.from({ length: count }, (_, i) => `0,${i},${2 - i / 100}${wide ? `,${i % 7}` : ''}`)].join('\n') + '\n';
    writeFileSync(file, rows(40, false));
    const [spec] = await discoverRuns(dir);
    const tail = new RunTail(spec);
    await tail.poll();
    assert.equal(series(tail.runs()[0], 'train_loss').steps.length, 40);
    // CSVLogger opens the file with mode "w" (same inode) and writes every row again under the new header.
    writeFileSync(file, rows(80, true));
    assert.equal(await tail.poll(), true);
    assert.equal(series(tail.runs()[0], 'train_loss').steps.length, 80);
    assert.equal(series(tail.runs()[0], 'grad_norm').steps.length, 80);
    assert.deepEqual(tail.runs()[0].warnings, []);
  });

  it('searches a settled folder again without opening its logs, and detects a log anew once it changes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-rediscover-'));
    const hourAgo = new Date(Date.now() - 3_600_000);
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      utimesSync(file, hourAgo, hourAgo);
    };
    write(path.join(dir, 'a', 'train.log'), 'step 1: loss 2.0, grad_norm 1.5\n');
    write(path.join(dir, 'b', 'trainer_state.json'), JSON.stringify({ global_step: 2, log_history: [{ step: 2, loss: 1, grad_norm: 1 }] }));
    write(path.join(dir, 'b', 'checkpoint-1', 'trainer_state.json'), JSON.stringify({ global_step: 1, log_history: [{ step: 1, loss: 1, grad_norm: 1 }] }));
    const first = await discoverRuns(dir);
    const opens = countOpens();
    try {
      const again = await discoverRuns(dir);
      assert.equal(opens.count, 0, 'files opened by a search of a folder that did not change');
      assert.deepEqual(again.map((spec) => [spec.source.id, spec.source.format, spec.source.path]), first.map((spec) => [spec.source.id, spec.source.format, spec.source.path]));
      // Written again, as a tool writes (their mtimes move; the state keeps its size): the log becomes JSON lines, the checkpoint's state the newest.
      writeFileSync(path.join(dir, 'a', 'train.log'), '{"step": 1, "loss": 2, "grad_norm": 1.5}\n');
      writeFileSync(path.join(dir, 'b', 'checkpoint-1', 'trainer_state.json'), JSON.stringify({ global_step: 3, log_history: [{ step: 3, loss: 1, grad_norm: 1 }] }));
      const changed = await discoverRuns(dir);
      assert.equal(changed.find((spec) => spec.source.id.endsWith('train.log'))?.source.format, 'jsonl');
      assert.equal(changed.find((spec) => spec.source.format === 'hf-trainer-state')?.source.path, path.join(dir, 'b', 'checkpoint-1', 'trainer_state.json'));
    } finally {
      opens.restore();
    }
  });

  it('opens nothing at a poll of a run whose files settled and did not change, and reads them again once they do', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-settled-'));
    const file = path.join(dir, 'ended.jsonl');
    writeFileSync(file, '{"step": 0, "loss": 2, "grad_norm": 1}\n{"step": 1, "loss": 1.9, "grad_norm": 1.1}\n');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(file, hourAgo, hourAgo);
    const tail = new RunTail((await specForFile(file))!);
    await tail.poll();
    const opens = countOpens();
    try {
      for (let i = 0; i < 5; i++) assert.equal(await tail.poll(), false);
      // Neither the log nor a settings search (this log states none) is opened again.
      assert.equal(opens.count, 0, 'files opened by polls of a run that ended');
      appendFileSync(file, '{"step": 2, "loss": 1.8, "grad_norm": 1.2}\n');
      assert.equal(await tail.poll(), true);
      assert.deepEqual(series(tail.runs()[0], 'grad_norm').steps, [0, 1, 2]);
    } finally {
      opens.restore();
    }
  });

  it('reads appends of any size as appends, never starting the run over, and still sees a rewrite of what was read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-append-'));
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 12_000 }), { minLength: 1, maxLength: 6 }), fc.nat({ max: 12_000 }), async (appends, first) => {
        const file = path.join(dir, `run${round++}.jsonl`);
        let step = 0;
        // Lines padded to reach a size: witnesses are 4 KB at each end, so sizes around 4 and 8 KB matter.
        const text = (bytes: number) => {
          let out = '';
          do out += `{"step": ${step++}, "loss": 1, "note": "${'y'.repeat(Math.min(Math.max(0, bytes - out.length - 40), 900))}"}\n`;
          while (out.length < bytes);
          return out;
        };
        writeFileSync(file, text(first));
        const tail = new RunTail((await specForFile(file))!);
        await tail.poll();
        const edition = tail.edition();
        for (const bytes of appends) {
          appendFileSync(file, text(bytes));
          await tail.poll();
          assert.equal(tail.edition(), edition, 'an append is read as one');
        }
        // The same size, one byte changed in the middle of the last line: the end witness sees it.
        const bytes = readFileSync(file);
        bytes[bytes.length - 3] = 'z'.charCodeAt(0);
        writeFileSync(file, bytes);
        appendFileSync(file, text(10));
        await tail.poll();
        assert.notEqual(tail.edition(), edition, 'a rewrite of the last bytes read starts the run over');
      }),
      { numRuns: 40 },
    );
  });

  it('after any sequence of appends, truncations, rewrites in place, rotations and re-creations, reads what a fresh read reads', async () => {
    // Lines up to 1.5 KB: files pass the 4 KB of each witness, which the poll takes from the bytes it reads.
    const line = fc
      .record({ step: fc.nat({ max: 60 }), loss: fc.double({ min: 0, max: 9, noNaN: true }), pad: fc.nat({ max: 1500 }) })
      .map(({ step, loss, pad }) => `{"step": ${step}, "loss": ${loss}, "note": "${'x'.repeat(pad)}"}\n`);
    const lines = fc.array(line, { minLength: 1, maxLength: 12 }).map((list) => list.join(''));
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), text: lines }),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.double({ min: 0, max: 1, noNaN: true }), text: lines }),
      fc.record({ kind: fc.constant('rewrite' as const), text: lines }),
      fc.record({ kind: fc.constant('rotate' as const), text: lines }),
      fc.record({ kind: fc.constant('recreate' as const), text: lines }),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-tail-prop-'));
    let round = 0;
    await fc.assert(
      fc.asyncProperty(lines, fc.array(operation, { minLength: 1, maxLength: 8 }), async (first, operations) => {
        const file = path.join(dir, `run${round++}.jsonl`);
        writeFileSync(file, first);
        const spec = (await specForFile(file))!;
        const tail = new RunTail(spec);
        await tail.poll();
        for (const op of operations) {
          if (op.kind === 'append') appendFileSync(file, op.text);
          else if (op.kind === 'truncate') {
            truncateSync(file, Math.floor(op.keep * readFileSync(file).length));
            appendFileSync(file, op.text);
          } else if (op.kind === 'rewrite') writeFileSync(file, op.text);
          else if (op.kind === 'rotate') {
            writeFileSync(`${file}.new`, op.text);
            renameSync(`${file}.new`, file);
          } else {
            unlinkSync(file);
            writeFileSync(file, op.text);
          }
          await tail.poll();
          assert.deepEqual(snapshot(tail.runs()), snapshot(await readRunSpec(spec)), `after ${op.kind}`);
        }
      }),
      { numRuns: 50 },
    );
  });
});
