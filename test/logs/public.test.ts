/**
 * Logs in the shapes public training tools write (test/fixtures/public, made
 * by generate.py from each writer's format code): every family is read with
 * the steps and values its writer printed, and the tag table gives its loss
 * and gradient norm their roles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import { readCsv } from '../../src/logs/formats/csv';
import { readJsonLines } from '../../src/logs/formats/jsonl';
import { readTextLog } from '../../src/logs/formats/text';
import { openRuns } from '../../src/logs/open';
import type { LogFormat, Run } from '../../src/logs/run';
import type { ReaderFactory } from '../../src/logs/sink';
import { assertSameForAnyChunking, readBytes, series } from './read';

const PUBLIC = path.join(__dirname, '../fixtures/public');
const fixture = (name: string) => path.join(PUBLIC, name);
const text = (name: string) => readFileSync(fixture(name), 'utf8');
const encode = (value: string) => new TextEncoder().encode(value);
const readText = (value: string): Run => readBytes(readTextLog, [encode(value)])[0];
const roleOf = (run: Run, tag: string) => run.series.find((s) => s.tag === tag)?.role;

async function openOne(name: string): Promise<Run> {
  const runs = await openRuns(fixture(name));
  assert.equal(runs.length, 1, `one run from ${name}`);
  return runs[0];
}

/** `name=value` lines under each `[step=N/...]` header, as the file has them. */
function olmoBlocks(log: string, name: string): { steps: number[]; values: number[] } {
  const steps: number[] = [];
  const values: number[] = [];
  let step = -1;
  for (const line of log.split('\n')) {
    const header = /\[step=(\d+)\//.exec(line);
    if (header) step = Number(header[1]);
    else if (line.startsWith(`    ${name}=`)) {
      steps.push(step);
      values.push(Number(line.slice(name.length + 5).replace(/,/g, '')));
    }
  }
  return { steps, values };
}

describe('public training-log families', () => {
  it("OLMo's console logger: a [step=N/M] header after the logging prefix, one name=value per line below, thousands with commas", async () => {
    const log = text('olmo/console.log');
    const run = await openOne('olmo/console.log');
    assert.deepEqual(series(run, 'train/CrossEntropyLoss'), olmoBlocks(log, 'train/CrossEntropyLoss'));
    assert.deepEqual(series(run, 'optim/total_grad_norm'), olmoBlocks(log, 'optim/total_grad_norm'));
    assert.deepEqual(series(run, 'throughput/total_tokens'), olmoBlocks(log, 'throughput/total_tokens'));
    assert.equal(series(run, 'throughput/total_tokens').values[1], 2 * 4194304);
    assert.equal(roleOf(run, 'train/CrossEntropyLoss'), 'loss');
    assert.equal(roleOf(run, 'optim/total_grad_norm'), 'gradNorm');
    // The logging prefix (host:rank, logger:line) is not data.
    assert.deepEqual(run.series.map((s) => s.tag).filter((tag) => /olmo\.train|jupiter/.test(tag)), []);
    assert.deepEqual(run.warnings, []);
  });

  it("OLMo's header through Rich's handler, with the source location at the right margin", () => {
    const run = readText('[02/01/24 12:00:00] INFO     [step=7/739328]                                   train.py:967\n    train/CrossEntropyLoss=9.876\n');
    assert.deepEqual(series(run, 'train/CrossEntropyLoss'), { steps: [7], values: [9.876] });
  });

  it("OLMo under srun --label: each rank's block lines follow its header", () => {
    const runs = readBytes(readTextLog, [encode('0: 2025-01-10 INFO [step=3/10,epoch=0]\n1: 2025-01-10 INFO [step=3/10,epoch=0]\n0:     train/CE loss=9.100\n1:     train/CE loss=9.200\n')]);
    assert.deepEqual(runs.map((run) => [run.stream, series(run, 'train/CE loss').values]), [['rank 0', [9.1]], ['rank 1', [9.2]]]);
  });

  it('OLMo-core: [step=N/M,epoch=E,eta=...] headers, names with spaces and parentheses', async () => {
    const log = text('olmo-core/console.log');
    const run = await openOne('olmo-core/console.log');
    for (const name of ['train/CE loss', 'optim/total grad norm', 'optim/LR (group 0)', 'optim/step skipped']) assert.deepEqual(series(run, name), olmoBlocks(log, name), name);
    assert.deepEqual(
      ['train/CE loss', 'optim/total grad norm', 'optim/LR (group 0)', 'optim/step skipped'].map((tag) => roleOf(run, tag)),
      ['loss', 'gradNorm', 'lr', 'skipped'],
    );
    assert.ok(!run.series.some((s) => s.tag === 'epoch' || s.tag === 'eta'), 'the header holds no values');
    // A bracket of values that only starts like OLMo's header is read as a step line.
    assert.deepEqual(series(readText('[step=45/100,loss=0.5]\n'), 'loss'), { steps: [45], values: [0.5] });
  });

  it("Composer's ConsoleLogger: [batch=N/T]: blocks of \\t Train name: value, and Eval blocks at the latest batch", async () => {
    const log = text('composer/console.log');
    const run = await openOne('composer/console.log');
    const printed = [...log.matchAll(/\[batch=(\d+)\/100\]:\n(?:\t .*\n)*?\t Train loss\/train\/total: (\S+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const loss = series(run, 'loss/train/total');
    assert.equal(printed.length, 100);
    assert.deepEqual(loss.steps.map((step, i) => [step, loss.values[i]]), printed);
    assert.equal(roleOf(run, 'loss/train/total'), 'loss');
    assert.equal(roleOf(run, 'l2_norm/grad/global'), 'gradNorm');
    assert.equal(roleOf(run, 'metrics/eval/LanguageCrossEntropy'), 'evalLoss');
    assert.deepEqual(series(run, 'metrics/eval/LanguageCrossEntropy').steps, [50, 100]);
  });

  it('Composer with a duration in epochs: [epoch=E][batch=B/T] counts batches within the epoch', () => {
    const run = readText('[epoch=1][batch=100/100]:\n\t Train loss/train/total: 2.0000\n[epoch=2][batch=1/100]:\n\t Train loss/train/total: 1.9000\n');
    assert.deepEqual(series(run, 'loss/train/total'), { steps: [100, 101], values: [2, 1.9] });
  });

  it("llm.c's main.log: s:N trl/lr/norm lines and s:N tel lines", async () => {
    const log = text('llmc/main.log');
    const run = await openOne('llmc/main.log');
    const train = [...log.matchAll(/^s:(\d+) trl:(\S+) lr:(\S+) norm:(\S+)$/gm)];
    assert.deepEqual(series(run, 'trl'), { steps: train.map((m) => Number(m[1])), values: train.map((m) => Number(m[2])) });
    assert.deepEqual(series(run, 'norm').values, train.map((m) => Number(m[4])));
    const val = [...log.matchAll(/^s:(\d+) tel:(\S+)$/gm)];
    assert.deepEqual(series(run, 'tel'), { steps: val.map((m) => Number(m[1])), values: val.map((m) => Number(m[2])) });
    assert.deepEqual(['trl', 'tel', 'lr', 'norm'].map((tag) => roleOf(run, tag)), ['loss', 'evalLoss', 'lr', 'gradNorm']);
  });

  it("nanoGPT's train.py: iter lines with units after some values, and step lines with the estimated losses", async () => {
    const log = text('nanogpt/train.log');
    const run = await openOne('nanogpt/train.log');
    const iters = [...log.matchAll(/^iter (\d+): loss (\S+), time/gm)];
    assert.deepEqual(series(run, 'loss'), { steps: iters.map((m) => Number(m[1])), values: iters.map((m) => Number(m[2])) });
    assert.deepEqual(series(run, 'val loss').steps, [0, 100, 200, 300]);
    assert.ok(!run.series.some((s) => s.tag === 'time' || s.tag === 'mfu'), 'values with units are not read as numbers');
    // Without commas between the fields, too.
    const spaced = readText('iter 10: loss 8.7390 time 156.20ms mfu 28.77%\n');
    assert.deepEqual(series(spaced, 'loss'), { steps: [10], values: [8.739] });
    assert.deepEqual(spaced.series.map((s) => s.tag), ['loss']);
  });

  it("LLaMA-Factory's trainer_log.jsonl: current_steps is the step, not the rounded epoch", async () => {
    const lines = text('llamafactory/trainer_log.jsonl').trim().split('\n').map((line) => JSON.parse(line) as { current_steps: number; loss: number });
    const run = await openOne('llamafactory/trainer_log.jsonl');
    assert.deepEqual(series(run, 'loss'), { steps: lines.map((l) => l.current_steps), values: lines.map((l) => l.loss) });
    assert.deepEqual(series(run, 'epoch').values.slice(0, 2), [0.03, 0.05]);
  });

  it("detectron2's metrics.json (JSON lines with a .json name): iteration is the step, total_loss the loss", async () => {
    const lines = text('detectron2/metrics.json').trim().split('\n').map((line) => JSON.parse(line) as { iteration: number; total_loss?: number });
    const run = await openOne('detectron2/metrics.json');
    const training = lines.filter((l) => l.total_loss !== undefined);
    assert.deepEqual(series(run, 'total_loss'), { steps: training.map((l) => l.iteration), values: training.map((l) => l.total_loss) });
    assert.equal(roleOf(run, 'total_loss'), 'loss');
    assert.deepEqual(series(run, 'bbox/AP'), { steps: [1999], values: [37.9] });
  });

  it("Ultralytics' results.csv: epoch rows, component losses for training and validation", async () => {
    const run = await openOne('ultralytics/results.csv');
    assert.equal(series(run, 'train/box_loss').steps.length, 30);
    assert.deepEqual(['train/box_loss', 'train/cls_loss', 'train/dfl_loss', 'val/box_loss', 'lr/pg0'].map((tag) => roleOf(run, tag)), ['loss', 'loss', 'loss', 'evalLoss', 'lr']);
  });

  it('per-parameter norm columns of custom CSVs: <param>_grad_l2_norm and grad/<param>.norm', async () => {
    for (const name of ['csv/param_norms.csv', 'csv/olmo_param_norms.csv']) {
      const run = await openOne(name);
      const params = run.series.filter((s) => s.role === 'paramGradNorm').map((s) => s.param);
      assert.deepEqual(params, ['encoder.weight', 'decoder.weight'], name);
    }
  });

  it('DeepSpeed fp16: OVERFLOW announcements before the step line they belong to, and the running skipped= count', async () => {
    const log = text('deepspeed/fp16.log');
    const run = await openOne('deepspeed/fp16.log');
    assert.equal(run.events.length, (log.match(/OVERFLOW! Rank 0 Skipping step/g) ?? []).length);
    assert.equal(roleOf(run, 'skipped'), 'skippedTotal');
    assert.equal(roleOf(run, 'loss'), 'loss');
    assert.equal(series(run, 'loss').steps.length, 2000);
    const diagnosis = diagnose(run);
    assert.deepEqual(diagnosis.findings.map((f) => [f.kind, f.severity]), [['nonfinite', 'info']]);
    assert.match(diagnosis.findings[0].message, /^The fp16 loss scaler skipped 38 of 2000 steps \(2%;/);
    // DeepSpeed's own lines alone (step=, skipped=, lr=, and the OVERFLOW messages): its step lines still count the steps.
    const own = readText(log.split('\n').filter((line) => !line.startsWith('Epoch:')).join('\n'));
    const fromOwn = diagnose(own);
    assert.equal(fromOwn.steps, 200);
    assert.deepEqual(fromOwn.findings.map((f) => [f.kind, f.severity]), [['nonfinite', 'info']]);
    assert.match(fromOwn.findings[0].message, /^The fp16 loss scaler skipped 38 of 1991 steps \(2%;/);
    assert.deepEqual(own.warnings, []);
  });

  it('DeepSpeed-Chat: every rank prints its loss with its rank in the line, and each rank is a run of its own', () => {
    const runs = readBytes(readTextLog, [encode('Epoch: 0, Step: 1, Rank: 0, loss = 2.5\nEpoch: 0, Step: 1, Rank: 1, loss = 2.6\nEpoch: 0, Step: 2, Rank: 1, loss = 2.4\nEpoch: 0, Step: 2, Rank: 0, loss = 2.3\n')]);
    assert.deepEqual(runs.map((run) => run.stream), [undefined, 'rank 1']);
    assert.deepEqual(series(runs[0], 'loss'), { steps: [1, 2], values: [2.5, 2.3] });
    assert.deepEqual(series(runs[1], 'loss'), { steps: [1, 2], values: [2.6, 2.4] });
    assert.ok(!runs[0].series.some((s) => s.tag === 'Rank'));
  });

  describe('chunking', () => {
    const cases: [string, ReaderFactory, LogFormat][] = [
      ['olmo/console.log', readTextLog, 'text'],
      ['olmo-core/console.log', readTextLog, 'text'],
      ['composer/console.log', readTextLog, 'text'],
      ['llmc/main.log', readTextLog, 'text'],
      ['nanogpt/train.log', readTextLog, 'text'],
      ['llamafactory/trainer_log.jsonl', readJsonLines, 'jsonl'],
      ['detectron2/metrics.json', readJsonLines, 'jsonl'],
      ['ultralytics/results.csv', readCsv, 'csv'],
    ];
    for (const [name, reader, format] of cases) {
      it(`any chunking of ${name} reads the same as the whole`, () => {
        // A slice keeps each property run short; it still holds several blocks and their boundaries.
        const bytes = readFileSync(fixture(name)).subarray(0, 6000);
        assertSameForAnyChunking(reader, bytes, format, 20, 40);
      });
    }
  });
});
