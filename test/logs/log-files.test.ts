/** What counts as a log file, and files that are not what their name says: one list for every front door, and clear words for what cannot be read. */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTfEvents } from '../../src/logs/formats/tfevents';
import { isLogFileName, LOG_FILE_EXTENSIONS, LOG_FILE_GLOBS } from '../../src/logs/log-files';
import { openRuns } from '../../src/logs/open';
import { refusingLfsPointers } from '../../src/logs/lfs';
import { readTextLog } from '../../src/logs/formats/text';
import { assertSameForAnyChunking, readBytes, series, snapshot } from './read';
import { eventFile } from './tfevents-writer';

const PUBLIC = path.join(__dirname, '../fixtures/public');
const ROOT = path.join(__dirname, '../..');

describe('what counts as a log file', () => {
  it("is one list: the extension's default gradlens.logGlobs is that list", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
    assert.deepEqual(manifest.contributes.configuration.properties['gradlens.logGlobs'].default, LOG_FILE_GLOBS);
  });

  it('takes logs by their names, JSON lines under .json names included, and leaves other JSON alone', () => {
    for (const name of ['train.log', 'stdout.txt', 'slurm-123.out', 'metrics.json', 'scalars.json', 'events.out.tfevents.1.host', 'run-abc.wandb', 'trainer_state.json', 'results.csv'])
      assert.ok(isLogFileName(name), name);
    for (const name of ['config.json', '20240101_120000.log.json', 'tokenizer.json', 'model.safetensors', 'README.md', 'train.py']) assert.ok(!isLogFileName(name), name);
    assert.deepEqual(LOG_FILE_EXTENSIONS, ['jsonl', 'ndjson', 'csv', 'log', 'out', 'err', 'txt', 'json', 'wandb']);
  });

  it("finds detectron2's metrics.json and a .txt console log in a folder search, and not a config dump", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-logfiles-'));
    cpSync(path.join(PUBLIC, 'detectron2/metrics.json'), path.join(dir, 'output', 'metrics.json'), { recursive: true });
    cpSync(path.join(PUBLIC, 'llmc/main.log'), path.join(dir, 'console.txt'));
    writeFileSync(path.join(dir, 'output', 'config.json'), JSON.stringify({ lr: 0.02, batch_size: 16 }) + '\n');
    const runs = await openRuns(dir);
    assert.deepEqual(runs.map((run) => path.relative(dir, run.path)).sort(), ['console.txt', path.join('output', 'metrics.json')]);
  });
});

describe('files that are not what their name says', () => {
  it('reads a wandb-summary.json given by name as the W&B summary it is', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-summary-'));
    const file = path.join(dir, 'wandb-summary.json');
    writeFileSync(file, JSON.stringify({ _step: 1200, 'train/loss': 1.83, 'train/grad_norm': 0.41, _runtime: 3600 }));
    const [run] = await openRuns(file);
    assert.equal(run.format, 'wandb');
    assert.deepEqual(series(run, 'train/loss'), { steps: [1200], values: [1.83] });
  });

  it('names a Git LFS pointer as one, given by name or met in a folder, instead of reading it as a log', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-lfs-'));
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 2097152\n';
    mkdirSync(path.join(dir, 'runs'));
    const file = path.join(dir, 'runs', 'events.out.tfevents.1700000000.host.1.0');
    writeFileSync(file, pointer);
    for (const target of [file, dir]) {
      const runs = await openRuns(target);
      assert.equal(runs.length, 1, target);
      assert.deepEqual(runs[0].series, []);
      assert.deepEqual(runs[0].warnings.map((w) => w.message), ['a Git LFS pointer, not the log itself: run `git lfs pull` in its repository to fetch the file'], target);
    }
  });

  it('tells a pointer from a log however the bytes arrive, and leaves a log as its reader reads it', () => {
    const pointer = new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12\n');
    assertSameForAnyChunking(refusingLfsPointers(readTextLog), pointer, 'text', 10, 50);
    const log = readFileSync(path.join(PUBLIC, 'llmc/main.log')).subarray(0, 3000);
    assertSameForAnyChunking(refusingLfsPointers(readTextLog), log, 'text', 10, 50);
    assert.deepEqual(snapshot(readBytes(refusingLfsPointers(readTextLog), [log])), snapshot(readBytes(readTextLog, [log])));
    // Shorter than a pointer's first line, and a prefix of it: a (tiny) log all the same.
    const short = new TextEncoder().encode('version');
    assert.deepEqual(snapshot(readBytes(refusingLfsPointers(readTextLog), [short])), snapshot(readBytes(readTextLog, [short])));
  });

  it('says what a TensorBoard file holds when it holds only text summaries', () => {
    const bytes = eventFile([
      // dtype 7: DT_STRING
      { step: 0, values: [{ tag: 'config', plugin: 'text', tensor: { dtype: 7, shape: [], stringVal: ['lr: 0.001'] } }] },
      { step: 0, values: [{ tag: 'notes', plugin: 'text', tensor: { dtype: 7, shape: [], stringVal: ['first run'] } }] },
    ]);
    const [run] = readBytes(readTfEvents, [bytes], 'tfevents', 'events.out.tfevents.text');
    assert.deepEqual(run.warnings.map((w) => w.message), ['no scalars or histograms, only summaries GradLens does not chart: config (text), notes (text)']);
  });
});
