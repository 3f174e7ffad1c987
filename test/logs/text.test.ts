import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { readTextLog } from '../../src/logs/formats/text';
import { parseLogNumber } from '../../src/logs/numbers';
import type { Run } from '../../src/logs/run';
import { assertSameForAnyChunking, cut, readBytes, series, snapshot } from './read';

const FIXTURES = path.join(__dirname, '../fixtures/real');
const encode = (text: string) => new TextEncoder().encode(text);
const readRuns = (text: string) => readBytes(readTextLog, [encode(text)]);
const read = (text: string): Run => {
  const runs = readRuns(text);
  assert.equal(runs.length, 1, `expected one run, got ${runs.map((r) => r.id).join(', ')}`);
  return runs[0];
};
const lines = (...text: string[]) => text.join('\n') + '\n';
const tags = (run: Run) => run.series.map((s) => s.tag);
const stream = (runs: Run[], name: string | undefined) => {
  const found = runs.find((r) => r.stream === name);
  if (!found) throw new Error(`no stream ${name}; streams: ${runs.map((r) => r.stream).join(', ')}`);
  return found;
};

/** step, loss and grad_norm from a fixture's grads.jsonl (bare NaN included). */
function fullPrecision(file: string): { step: number; loss: number; gradNorm: number }[] {
  const field = (line: string, name: string) => parseLogNumber(new RegExp(`"${name}": ([^,}]+)`).exec(line)![1])!;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => ({ step: field(line, 'step'), loss: field(line, 'loss'), gradNorm: field(line, 'grad_norm') }));
}

/** Equal to the rounding of `full` to the decimals the log printed. */
function printedFrom(printed: number, full: number, decimals: number): boolean {
  if (Number.isNaN(full) || Number.isNaN(printed)) return Number.isNaN(full) && Number.isNaN(printed);
  return Math.abs(printed - full) <= 0.5 * 10 ** -decimals + 1e-9;
}

const FIXTURE_RUNS = readdirSync(FIXTURES).filter((dir) => readdirSync(path.join(FIXTURES, dir)).includes('train.log'));

/** A console log mixing what a real one holds: banners, warnings, bars, ranks, colours, CRLF and non-ASCII text. */
const MIXED_LOG = [
  '# run: CharLSTM lr=40.0 clip=1.0 — données ✓',
  'Step   0: loss=3.8635, grad_norm=0.12 [OK]',
  '\x1b[33mWARNING\x1b[0m: torch.cuda.amp.GradScaler is deprecated ⚠',
  '  3%|▎         | 1/30 [00:01<00:40,  1.40s/it]\r  7%|▋         | 2/30 [00:02<00:30,  1.10s/it]\r                                              \r{\'loss\': 2.345, \'grad_norm\': nan, \'learning_rate\': \'5e-05\', \'epoch\': 0.01}',
  '[default0]:step    1/50 | train loss 4.123456 | norm 1.2345 | lr 6.00e-04 | (123.45 ms | 12345 tok/s)',
  '[default1]:step    1/50 | train loss 4.223456 | norm inf | lr 6.00e-04 | (123.45 ms | 12345 tok/s)',
  '[2023-01-01 12:00:00,000] [INFO] [loss_scaler.py:183:update_scale] [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768',
  ' [2024-01-01 12:00:00] iteration        2/  250000 | consumed samples:         1024 | lm loss: 2.123456E+00 | loss scale: 32768.0 | grad norm: nan | number of skipped iterations:   1 |',
  'Traceback (most recent call last):\r',
  '  File "train.py", line 12, in <module>',
  'Epoch: [0]  [  10/1251]  eta: 0:10:00  lr: 0.000001  loss: 6.9000 (6.9100)  grad_norm: 0.3922 (nan)  time: 0.4800  data: 0.0002  max mem: 12345',
  'val loss 4.000000',
].join('\r\n');

describe('plain-text log reader', () => {
  describe('real training logs', () => {
    for (const dir of FIXTURE_RUNS) {
      it(`reads ${dir}/train.log: every step, loss and grad_norm as grads.jsonl has them, NaN kept`, () => {
        const run = read(readFileSync(path.join(FIXTURES, dir, 'train.log'), 'utf8'));
        const expected = fullPrecision(path.join(FIXTURES, dir, 'grads.jsonl'));
        const loss = series(run, 'loss');
        const norm = series(run, 'grad_norm');
        assert.deepEqual(loss.steps, expected.map((e) => e.step));
        assert.deepEqual(norm.steps, expected.map((e) => e.step));
        assert.deepEqual(loss.steps, [...loss.steps.keys()], 'steps 0..N-1');
        expected.forEach((e, i) => {
          assert.ok(printedFrom(loss.values[i], e.loss, 4), `loss at step ${e.step}: ${loss.values[i]} vs ${e.loss}`);
          assert.ok(printedFrom(norm.values[i], e.gradNorm, 2), `grad_norm at step ${e.step}: ${norm.values[i]} vs ${e.gradNorm}`);
        });
        assert.deepEqual(tags(run), ['loss', 'grad_norm'], 'the `# …` header and the [OK]/[EXPLODING] statuses are not values');
        assert.equal(run.series[0].role, 'loss');
        assert.equal(run.series[1].role, 'gradNorm');
        assert.deepEqual(run.warnings, []);
      });
    }

    it('keeps NaN from the first non-finite step of an exploding run', () => {
      const run = read(readFileSync(path.join(FIXTURES, 'torch_rnn_radius1.6_noclip/train.log'), 'utf8'));
      const norm = series(run, 'grad_norm');
      assert.equal(norm.values[0], 13519.48);
      assert.ok(Number.isNaN(norm.values[1]));
      assert.ok(Number.isNaN(series(run, 'loss').values[2]));
    });
  });

  describe('styles', () => {
    it('reads key=value and key: value loops with the step from step/iter/iteration/global_step', () => {
      const run = read(
        lines(
          '# torch_lstm: CharLSTM lr=40.0 clip=1.0',
          'Step   3: loss=43.2114, grad_norm=117.89 [EXPLODING]',
          'step 4 | loss: 40.1 | grad_norm: 98.5',
          'iter 5: loss 39.5, time 12.34ms, mfu 12.34%',
          'iteration 6: loss=39.1 grad_norm=nan',
          'global_step=7, loss=38.0, grad_norm=inf',
          'INFO:root:step=8 loss=tensor(37.5000, device=\'cuda:0\', grad_fn=<NllLossBackward0>)',
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [3, 4, 5, 6, 7, 8], values: [43.2114, 40.1, 39.5, 39.1, 38.0, 37.5] });
      const norm = series(run, 'grad_norm');
      assert.deepEqual(norm.steps, [3, 4, 6, 7]);
      assert.ok(Number.isNaN(norm.values[2]));
      assert.equal(norm.values[3], Infinity);
      assert.deepEqual(tags(run), ['loss', 'grad_norm'], '`12.34ms` and `12.34%` are not values; the header has no step');
    });

    it('reads llm.c, keys with spaces kept as written, and `val loss` at the latest step', () => {
      const run = read(
        lines(
          'val loss 4.500000',
          'step    1/50 | train loss 4.123456 | norm 1.2345 | lr 6.00e-04 | (123.45 ms | 12345 tok/s)',
          'step    2/50 | train loss 4.023456 | norm 1.1345 | lr 6.00e-04 | (120.45 ms | 12400 tok/s)',
          'val loss 4.000000',
          'step    3/50 | loss 3.923456 (+0.12z)| norm 1.0345 (-0.50z)| lr 6.00e-04 | 119.87 ms | 12417 tok/s',
        ),
      );
      assert.deepEqual(series(run, 'train loss'), { steps: [1, 2], values: [4.123456, 4.023456] });
      assert.deepEqual(series(run, 'loss'), { steps: [3], values: [3.923456] });
      assert.deepEqual(series(run, 'norm'), { steps: [1, 2, 3], values: [1.2345, 1.1345, 1.0345] });
      assert.deepEqual(series(run, 'lr'), { steps: [1, 2, 3], values: [6e-4, 6e-4, 6e-4] });
      assert.deepEqual(series(run, 'val loss'), { steps: [0, 2], values: [4.5, 4.0] });
      assert.equal(run.series.find((s) => s.tag === 'train loss')?.role, 'loss');
      assert.equal(run.series.find((s) => s.tag === 'norm')?.role, 'gradNorm');
      assert.deepEqual(tags(run).sort(), ['loss', 'lr', 'norm', 'train loss', 'val loss'], 'ms, tok/s and z-scores are not values');
    });

    it('reads modded-nanoGPT key:value without spaces, ignoring values with units', () => {
      const run = read(
        lines(
          'step:0/1750 val_loss:10.8258 train_time:0ms step_avg:nanms',
          'step:1/1750 train_time:27424ms step_avg:nanms',
          'step:2/1750 train_loss:10.7015 train_time:27588ms step_avg:nanms',
          'step:125/1750 val_loss:4.2031 train_time:12345ms step_avg:98.76ms',
        ),
      );
      assert.deepEqual(series(run, 'val_loss'), { steps: [0, 125], values: [10.8258, 4.2031] });
      assert.deepEqual(series(run, 'train_loss'), { steps: [2], values: [10.7015] });
      assert.deepEqual(tags(run), ['val_loss', 'train_loss']);
    });

    it('reads Megatron-LM training_log lines, and a skipped iteration as a loss-scaler skip', () => {
      const run = read(
        lines(
          ' [2024-03-01 10:00:00] iteration     5426/  250000 | consumed samples:      2778112 | elapsed time per iteration (ms): 1234.5 | learning rate: 1.500000E-04 | global batch size:   512 | lm loss: 2.123456E+00 | loss scale: 65536.0 | grad norm: 0.812 | number of skipped iterations:   0 | number of nan iterations:   0 |',
          ' [2024-03-01 10:00:12] iteration     5427/  250000 | consumed samples:      2778624 | elapsed time per iteration (ms): 1230.1 | learning rate: 1.500000E-04 | global batch size:   512 | lm loss: 2.120000E+00 | loss scale: 32768.0 | grad norm: nan | number of skipped iterations:   1 | number of nan iterations:   0 |',
          '-----------------------------------------------------------------------------------------------',
          ' validation loss at iteration 5427 | lm loss value: 2.345678E+00 | lm loss PPL: 1.043882E+01 | ',
        ),
      );
      assert.deepEqual(series(run, 'lm loss'), { steps: [5426, 5427], values: [2.123456, 2.12] });
      assert.deepEqual(series(run, 'loss scale'), { steps: [5426, 5427], values: [65536, 32768] });
      assert.deepEqual(series(run, 'learning rate').values, [1.5e-4, 1.5e-4]);
      assert.ok(Number.isNaN(series(run, 'grad norm').values[1]));
      assert.deepEqual(series(run, 'global batch size').values, [512, 512]);
      assert.deepEqual(series(run, 'lm loss value'), { steps: [5427], values: [2.345678] });
      assert.ok(tags(run).includes('elapsed time per iteration (ms)'));
      assert.equal(run.series.find((s) => s.tag === 'grad norm')?.role, 'gradNorm');
      assert.deepEqual(run.events, [{ kind: 'overflow-skip', step: 5427, text: 'number of skipped iterations: 1' }]);
    });

    it('reads mmcv TextLoggerHook lines with the global iteration as the step, and eval lines at the latest step', () => {
      const run = read(
        lines(
          '2023-01-01 12:00:00,000 - mmdet - INFO - Epoch [1][50/7330]\tlr: 1.000e-03, eta: 1 day, 2:03:04, time: 0.500, data_time: 0.010, memory: 3000, loss_cls: 0.5000, loss: 1.9091, grad_norm: nan',
          '2023-01-01 12:01:00,000 - mmdet - INFO - Epoch [1][100/7330]\tlr: 1.000e-03, eta: 1 day, 2:02:04, time: 0.498, data_time: 0.010, memory: 3000, loss_cls: 0.4500, loss: 1.8000, grad_norm: 12.3456',
          '2023-01-01 13:00:00,000 - mmdet - INFO - Epoch(val) [1][7330]\tbbox_mAP: 0.3010, loss: 0.9000',
          '2023-01-01 13:01:00,000 - mmdet - INFO - Epoch [2][50/7330]\tlr: 1.000e-03, eta: 23:59:00, time: 0.497, data_time: 0.010, memory: 3000, loss_cls: 0.4000, loss: 1.7000, grad_norm: 10.0',
          '2023-01-01 13:02:00,000 - mmdet - INFO - Iter [7400/73300]\tlr: 1.000e-03, eta: 23:58:00, time: 0.497, data_time: 0.010, memory: 3000, loss: 1.6000',
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [50, 100, 7380, 7400], values: [1.9091, 1.8, 1.7, 1.6] });
      assert.ok(Number.isNaN(series(run, 'grad_norm').values[0]));
      assert.deepEqual(series(run, 'val/loss'), { steps: [100], values: [0.9] });
      assert.deepEqual(series(run, 'val/bbox_mAP'), { steps: [100], values: [0.301] });
      assert.equal(run.series.find((s) => s.tag === 'val/loss')?.role, 'evalLoss');
      assert.ok(!tags(run).includes('eta'), '`eta: 1 day, 2:03:04` is not a value');
      assert.deepEqual(series(run, 'memory').values, [3000, 3000, 3000, 3000]);
    });

    it('reads mmengine LoggerHook lines: Epoch(train), Iter(train), and val/test summaries', () => {
      const byEpoch = read(
        lines(
          '08/21 02:58:41 - mmengine - INFO - Epoch(train)  [1][ 10/270]  lr: 1.0000e-02  eta: 0:00:09  time: 0.0019  data_time: 0.0004  memory: 312  grad_norm: 2.5000  loss1: 0.8381  loss2: 0.9007  loss: 1.7388',
          '08/21 02:58:42 - mmengine - INFO - Epoch(train)  [2][ 10/270]  lr: 1.0000e-02  eta: 0:00:08  time: 0.0029  data_time: 0.0010  memory: 312  grad_norm: nan  loss1: 0.1978  loss2: 0.4312  loss: 0.6290',
          '08/21 02:58:45 - mmengine - INFO - Epoch(val) [2][500/500]    coco/bbox_mAP: 0.3000  data_time: 0.0020  time: 0.0500',
        ),
      );
      assert.deepEqual(series(byEpoch, 'loss'), { steps: [10, 280], values: [1.7388, 0.629] });
      assert.deepEqual(series(byEpoch, 'val/coco/bbox_mAP'), { steps: [280], values: [0.3] });
      const byIter = read(lines('08/21 02:58:41 - mmengine - INFO - Iter(train) [  100/10000]  lr: 1.0000e-02  eta: 0:10:00  time: 0.0600  data_time: 0.0100  memory: 500  loss: 2.1000'));
      assert.deepEqual(series(byIter, 'loss'), { steps: [100], values: [2.1] });
    });

    it("reads the values in Lightning's progress bar: the step is the epoch's batches done past the epochs before", () => {
      const bar = (epoch: number, done: number, loss: number, norm: number) =>
        `Epoch ${epoch}:  ${done}%|█████     | ${done}/100 [00:05<00:05, 9.80it/s, v_num=0, train_loss=${loss}, grad_2.0_norm_total=${norm}]`;
      const run = read(lines([bar(0, 50, 0.512, 1.23), bar(0, 51, 0.502, 81.3), bar(0, 100, 0.45, 1.2), bar(1, 0, 0.45, 1.2), bar(1, 1, 0.402, 1.1)].join('\r')));
      assert.deepEqual(series(run, 'grad_2.0_norm_total'), { steps: [50, 51, 100, 101], values: [1.23, 81.3, 1.2, 1.1] });
      assert.deepEqual(series(run, 'train_loss').values, [0.512, 0.502, 0.45, 0.402]);
      // A bar without values is a bar, not a step.
      assert.deepEqual(readRuns(lines('Epoch 0:  50%|█████     | 50/100 [00:05<00:05, 9.80it/s]')).flatMap(tags), []);
    });

    it("reads a loop's tqdm postfix (set_postfix) a step per refresh, counting on across its passes over the data", () => {
      const bar = (done: number, loss: number, norm: number) => `train:  ${done * 25}%|██▌       | ${done}/4 [00:01<00:03,  1.02it/s, loss=${loss}, grad_norm=${norm}]`;
      const run = read(lines([bar(1, 2.5, 1.1), bar(2, 2.4, 1.2), bar(4, 2.3, 1.3)].join('\r'), [bar(0, 2.3, 1.3), bar(1, 2.2, 90), bar(3, 2.1, 1.4)].join('\r')));
      assert.deepEqual(series(run, 'grad_norm'), { steps: [1, 2, 4, 5, 7], values: [1.1, 1.2, 1.3, 90, 1.4] });
    });

    it("reads Keras's model.fit progress bar (Keras 2 and 3, verbose 1 and 2) within the epoch of the Epoch line above it, and says Keras wrote it", () => {
      const run = read(
        lines(
          'Epoch 1/3',
          [' 1/50 [..............................] - ETA: 10s - loss: 2.3026 - accuracy: 0.1000', '50/50 [==============================] - 2s 10ms/step - loss: 1.5000 - accuracy: 0.5000 - val_loss: 1.4000'].join('\r'),
          'Epoch 2/3',
          '50/50 - 1s - 9ms/step - loss: 0.9000 - val_loss: 1.0000',
          'Epoch 3/3',
          '\x1b[1m50/50\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 9ms/step - accuracy: 0.8000 - loss: nan - val_loss: nan',
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [1, 50, 100, 150], values: [2.3026, 1.5, 0.9, NaN] });
      assert.deepEqual(series(run, 'val_loss'), { steps: [50, 100, 150], values: [1.4, 1, NaN] });
      assert.equal(run.writtenBy, 'keras');
      // Without Epoch lines, each pass of the bar counts on from the last.
      const bare = read(lines('50/50 [==============================] - 2s 10ms/step - loss: 1.5000', '25/50 [==============>...............] - ETA: 1s - loss: 1.2000'));
      assert.deepEqual(series(bare, 'loss').steps, [50, 75]);
      // A loop's own `12/100 loss: 0.5` is not Keras's bar.
      assert.equal(read(lines('step 12/100 - loss: 0.5000')).writtenBy, undefined);
    });

    it("reads torchtitan's coloured metrics lines per rank and says torchtitan wrote them", () => {
      const line = (rank: number, step: number, norm: number) =>
        `[rank${rank}]:[titan] 2025-01-01 10:00:00,000 - root - INFO - \x1b[31mstep: ${step}  \x1b[32mloss: 9.8000  \x1b[38;2;180;60;0mgrad_norm: ${norm}  \x1b[38;2;54;234;195mmemory: 20.10GiB(25.40%)  \x1b[34mtps: 1,234  \x1b[36mtflops: 56.10  \x1b[35mmfu: 18.00%\x1b[39m`;
      const runs = readRuns(lines(line(0, 10, 1.25), line(1, 10, 1.25), line(0, 20, 80.5)));
      const rank0 = stream(runs, 'rank 0');
      assert.deepEqual(series(rank0, 'grad_norm'), { steps: [10, 20], values: [1.25, 80.5] });
      assert.deepEqual(runs.map((r) => r.writtenBy), ['torchtitan', 'torchtitan']);
    });

    it("reads fairseq's train_inner lines, simple and json: the update count is the step", () => {
      const simple = read(
        lines(
          '2023-05-01 10:00:10 | INFO | train_inner | epoch 001:    100 / 1000 loss=9.812, nll_loss=9.5, ppl=724.3, wps=12000, ups=3.2, wpb=3800, bsz=128, num_updates=100, lr=0.0001, gnorm=2.345, clip=0, loss_scale=128, train_wall=31, gb_free=10.1, wall=40',
          '2023-05-01 10:00:20 | INFO | train_inner | epoch 002:    100 / 1000 loss=8.812, nll_loss=8.5, ppl=324.3, wps=12000, ups=3.2, wpb=3800, bsz=128, num_updates=1100, lr=0.0002, gnorm=inf, clip=100, loss_scale=64, train_wall=31, gb_free=10.1, wall=70',
        ),
      );
      assert.deepEqual(series(simple, 'gnorm'), { steps: [100, 1100], values: [2.345, Infinity] });
      const json = read(
        lines(
          '2020-09-01 12:01:00 | INFO | train_inner | {"epoch": 1, "update": 0.05, "loss": "9.954", "wps": "12345", "ups": "3.21", "wpb": "3840", "num_updates": "100", "lr": "1e-05", "gnorm": "2.345", "loss_scale": "128"}',
          '2020-09-01 12:02:00 | INFO | train_inner | {"epoch": 1, "update": 0.1, "loss": "8.954", "wps": "12345", "ups": "3.21", "wpb": "3840", "num_updates": "200", "lr": "2e-05", "gnorm": "81.3", "loss_scale": "64"}',
        ),
      );
      assert.deepEqual(series(json, 'gnorm'), { steps: [100, 200], values: [2.345, 81.3] });
    });

    it('reads DeiT MetricLogger lines: the first number is the value, not the running average in parentheses', () => {
      const run = read(
        lines(
          'Epoch: [0]  [   0/1251]  eta: 1:23:45  lr: 0.000001  loss: 6.9312 (6.9312)  grad_norm: 0.3922 (0.3922)  time: 4.0123  data: 3.2100  max mem: 12345',
          'Epoch: [0]  [  10/1251]  eta: 0:10:00  lr: 0.000001  loss: 6.9000 (6.9100)  grad_norm: nan (nan)  time: 0.4800  data: 0.0002  max mem: 12345',
          'Epoch: [0] Total time: 0:10:00 (0.4800 s / it)',
          'Averaged stats: lr: 0.000001  loss: 6.8000 (6.8000)',
          'Test:  [ 0/50]  eta: 0:01:00  loss: 0.8000 (0.8000)  acc1: 80.0000 (80.0000)  acc5: 95.0000 (95.0000)  time: 1.2000  data: 1.0000  max mem: 12345',
          '* Acc@1 81.800 Acc@5 95.600 loss 0.800',
          'Epoch: [1]  [   0/1251]  eta: 1:23:45  lr: 0.000002  loss: 6.5000 (6.5000)  grad_norm: 0.3000 (0.3000)  time: 4.0123  data: 3.2100  max mem: 12345',
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [0, 10, 1251], values: [6.9312, 6.9, 6.5] });
      assert.ok(Number.isNaN(series(run, 'grad_norm').values[1]));
      assert.deepEqual(series(run, 'max mem').values, [12345, 12345, 12345]);
      assert.ok(!tags(run).includes('eta') && !tags(run).includes('acc1'), 'eta and evaluation batches are not training values');
    });

    it('reads timm train.py lines with epoch × updates + update as the step', () => {
      const run = read(lines('Train: 2 [ 100/1251 (  8%)]  Loss: 6.91 (6.92)  Time: 0.123s,  260.16/s  (0.125s,  256.00/s)  LR: 1.000e-06  Data: 0.012 (0.015)'));
      assert.deepEqual(series(run, 'Loss'), { steps: [2602], values: [6.91] });
      assert.deepEqual(series(run, 'LR').values, [1e-6]);
      assert.equal(run.series.find((s) => s.tag === 'Loss')?.role, 'loss');
    });

    it('numbers Hugging Face Trainer dicts 1, 2, 3…, puts eval dicts at the latest entry and prefixes the summary', () => {
      const run = read(
        lines(
          "{'loss': 2.345, 'grad_norm': 1.23, 'learning_rate': 5e-05, 'epoch': 0.01}",
          "{'loss': '2.1', 'grad_norm': 'nan', 'learning_rate': '4.5e-05', 'epoch': '0.02'}",
          "{'eval_loss': 2.0, 'eval_runtime': 1.2, 'eval_samples_per_second': 100.0, 'eval_steps_per_second': 12.5, 'epoch': 0.02}",
          "{'loss': 2.0, 'grad_norm': inf, 'learning_rate': 4e-05, 'epoch': 0.03}",
          "{'train_runtime': 100.0, 'train_samples_per_second': 10.0, 'train_steps_per_second': 1.0, 'train_loss': 2.15, 'epoch': 0.03}",
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [1, 2, 3], values: [2.345, 2.1, 2.0] });
      const norm = series(run, 'grad_norm');
      assert.ok(Number.isNaN(norm.values[1]));
      assert.equal(norm.values[2], Infinity);
      assert.deepEqual(series(run, 'learning_rate').values, [5e-5, 4.5e-5, 4e-5]);
      assert.deepEqual(series(run, 'epoch'), { steps: [1, 2, 3], values: [0.01, 0.02, 0.03] });
      assert.deepEqual(series(run, 'eval_loss'), { steps: [2], values: [2.0] });
      assert.deepEqual(series(run, 'summary/train_loss'), { steps: [3], values: [2.15] });
      assert.ok(!tags(run).includes('train_loss'), 'the summary train_loss must not join a loss series');
      assert.equal(run.series.find((s) => s.tag === 'summary/train_loss')?.role, undefined);
    });

    it('leaves a printed config dict out of the entry numbering, and out of the series', () => {
      const run = read(
        lines(
          "{'model_name_or_path': 'gpt2', 'learning_rate': 5e-05, 'per_device_train_batch_size': 8, 'fp16': True, 'adam_betas': [0.9, 0.999]}",
          "{'loss': 2.345, 'grad_norm': 1.23, 'learning_rate': 5e-05, 'epoch': 0.01}",
          "{'loss': 2.1, 'grad_norm': 1.1, 'learning_rate': 4.5e-05, 'epoch': 0.02}",
        ),
      );
      assert.deepEqual(series(run, 'loss').steps, [1, 2]);
      assert.deepEqual(series(run, 'learning_rate'), { steps: [1, 2], values: [5e-5, 4.5e-5] });
      assert.ok(!tags(run).includes('per_device_train_batch_size'));
    });

    it('reads a printed dict with its own step, or after a step in the line', () => {
      const run = read(lines("{'step': 10, 'loss': 0.5}", "epoch 3: {'accuracy': 0.8, 'f1': 0.7}", '{"global_step": 20, "loss": 0.4}'));
      assert.deepEqual(series(run, 'loss'), { steps: [10, 20], values: [0.5, 0.4] });
      assert.deepEqual(series(run, 'accuracy'), { steps: [10], values: [0.8] }, 'an epoch is not a step once the stream counts steps');
    });

    it('reads per-epoch step counters (`Epoch [2/5], Step [100/600]`) as global steps', () => {
      const run = read(lines('Epoch [1/5], Step [100/600], Loss: 0.2241', 'Epoch [1/5], Step [600/600], Loss: 0.1241', 'Epoch [2/5], Step [100/600], Loss: 0.0941'));
      assert.deepEqual(series(run, 'Loss'), { steps: [100, 600, 700], values: [0.2241, 0.1241, 0.0941] });
    });

    it('uses the epoch as the step in logs that only report epochs', () => {
      const run = read(lines('Epoch 0 | train_loss=0.9 | val_loss=1.0', 'Epoch 1 | train_loss=0.8 | val_loss=0.95', 'Epoch 2/10 - loss: 0.5 - val_loss: 0.6'));
      assert.deepEqual(series(run, 'train_loss'), { steps: [0, 1], values: [0.9, 0.8] });
      assert.deepEqual(series(run, 'val_loss'), { steps: [0, 1, 2], values: [1.0, 0.95, 0.6] });
    });
  });

  describe('console noise', () => {
    it('reads the dict after tqdm redraws, ignores bare bars, and reads a bar postfix that names the step', () => {
      const run = read(
        lines(
          '  0%|          | 0/100 [00:00<?, ?it/s]\r  1%|          | 1/100 [00:00<00:50,  1.98it/s]\r                                                  \r{\'loss\': 4.2, \'grad_norm\': 3.1, \'learning_rate\': 5e-05, \'epoch\': 0.01}',
          ' 45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]',
          'Training:  45%|████▌     | 45/100 [00:10<00:12,  4.50it/s, loss=0.5, step=45]\rTraining:  46%|████▌     | 46/100 [00:10<00:12,  4.50it/s, loss=0.4, step=46]',
        ),
      );
      assert.deepEqual(series(run, 'loss'), { steps: [1, 45, 46], values: [4.2, 0.5, 0.4] });
      assert.deepEqual(run.warnings, []);
    });

    it('strips ANSI colours', () => {
      const run = read(lines('\x1b[32mStep 1:\x1b[0m loss=\x1b[1m2.5\x1b[0m, grad_norm=\x1b[31mnan\x1b[0m', '\x1b]0;training\x07Step 2: loss=2.4, grad_norm=1.0'));
      assert.deepEqual(series(run, 'loss'), { steps: [1, 2], values: [2.5, 2.4] });
      assert.ok(Number.isNaN(series(run, 'grad_norm').values[0]));
    });

    it('passes over banners, warnings and tracebacks without warnings', () => {
      const run = read(
        lines(
          'W0101 12:00:00.000000 140 torch/distributed/run.py:779] Setting OMP_NUM_THREADS environment variable for each process to be 1 in default',
          '/usr/lib/python3/site-packages/torch/nn/modules/rnn.py:82: UserWarning: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=0.2 and num_layers=1',
          'Step 1: loss=2.5, grad_norm=1.0',
          'Saving model checkpoint to ./out/checkpoint-500',
          'Traceback (most recent call last):',
          '  File "/app/train.py", line 42, in <module>',
          'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.2 GiB already allocated)',
        ),
      );
      assert.deepEqual(tags(run), ['loss', 'grad_norm']);
      assert.deepEqual(run.warnings, []);
    });

    it('warns once when a text file holds no training values at all, and names over-long lines', () => {
      const empty = read(lines('hello', 'Traceback (most recent call last):', 'Epoch: [0] Total time: 0:10:00'));
      assert.equal(empty.warnings.length, 1);
      assert.match(empty.warnings[0].message, /no training values/);
      assert.deepEqual(read('').warnings, []);
      const long = read(lines('Step 1: loss=1', 'x'.repeat(8 * 1024 * 1024 + 1), 'Step 2: loss=2'));
      assert.deepEqual(series(long, 'loss').steps, [1, 2]);
      assert.deepEqual(long.warnings.map((w) => w.line), [2]);
    });

    it('reads a restart (steps going back) as replacing the later data', () => {
      const run = read(lines('Step 0: loss=5', 'Step 1: loss=4', 'Step 2: loss=3', 'Step 1: loss=9'));
      assert.deepEqual(series(run, 'loss'), { steps: [0, 1], values: [5, 9] });
    });
  });

  describe('ranks', () => {
    it('gives each launcher rank its own stream, unprefixed lines going to the default one', () => {
      const runs = readRuns(
        lines(
          '[default0]:Step 1: loss=2.5, grad_norm=1.0',
          '[default1]:Step 1: loss=2.6, grad_norm=1.1',
          '[rank1]:[W reducer.cpp:1360] Warning: find_unused_parameters=True was specified in DDP constructor',
          '[rank1]:Step 2: loss=2.4, grad_norm=0.9',
          '[1,0]<stdout>:Step 2: loss=2.3, grad_norm=0.8',
          ' 2: Step 1: loss=2.7, grad_norm=1.2',
          '0: step    3/50 | train loss 2.2 | norm 0.7',
          'Step 9: loss=1.0',
        ),
      );
      assert.deepEqual(series(stream(runs, 'rank 0'), 'loss'), { steps: [1, 2], values: [2.5, 2.3] });
      assert.deepEqual(series(stream(runs, 'rank 0'), 'train loss'), { steps: [3], values: [2.2] });
      assert.deepEqual(series(stream(runs, 'rank 1'), 'loss'), { steps: [1, 2], values: [2.6, 2.4] });
      assert.deepEqual(series(stream(runs, 'rank 2'), 'loss'), { steps: [1], values: [2.7] });
      assert.deepEqual(series(stream(runs, undefined), 'loss'), { steps: [9], values: [1.0] });
      assert.equal(stream(runs, 'rank 1').id, 'log [rank 1]');
    });

    it('does not take a number that starts a line for a rank unless the rest reads', () => {
      const runs = readRuns(lines('12: loss=0.5', 'Step 1: loss=0.4'));
      assert.deepEqual(runs.map((r) => r.stream), [undefined]);
    });
  });

  describe('loss-scaler skips', () => {
    it('puts a skip printed before a step line on that step, and one after the last step on the step after it', () => {
      const run = read(
        lines(
          'Step 1: loss=2.5, grad_norm=1.0',
          '[2023-01-01 12:00:00,000] [INFO] [loss_scaler.py:183:update_scale] [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768',
          'Step 2: loss=2.5, grad_norm=inf',
          'Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to 32768.0',
          'Step 3: loss=2.4, grad_norm=nan',
          '2023-01-01 12:00:00 | WARNING | fairseq.trainer | NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0',
        ),
      );
      assert.deepEqual(
        run.events.map((e) => [e.kind, e.step]),
        [
          ['overflow-skip', 2],
          ['overflow-skip', 3],
          ['overflow-skip', 4],
        ],
      );
      assert.match(run.events[0].text, /^\[2023-01-01 12:00:00,000\] \[INFO\].*OVERFLOW! Rank 0 Skipping step/);
      assert.deepEqual(series(run, 'grad_norm').steps, [1, 2, 3], 'a skip is an event, not a value');
    });

    it('keeps skips apart per rank and reads a skip reported on its own step line', () => {
      const runs = readRuns(
        lines('[default0]:Step 1: loss=2.5', '[default1]:[deepspeed] OVERFLOW! Rank 1 Skipping step. Attempted loss scale: 4096, reducing to 2048', '[default1]:Step 1: loss=2.6', '[default0]:step 2: loss=nan (overflow, skipping step)'),
      );
      assert.deepEqual(stream(runs, 'rank 0').events.map((e) => e.step), [2]);
      assert.deepEqual(stream(runs, 'rank 1').events.map((e) => e.step), [1]);
    });

    it('counts Megatron-DeepSpeed skips once when both tools report them', () => {
      const run = read(lines('[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768', ' iteration       10/     100 | lm loss: 2.0E+00 | loss scale: 32768.0 | number of skipped iterations:   1 |'));
      assert.deepEqual(run.events.map((e) => e.step), [10]);
      assert.match(run.events[0].text, /OVERFLOW/);
    });
  });

  describe('robustness', () => {
    it('gives the same runs for any chunking, cuts inside UTF-8 sequences and between \\r and \\n included', () => {
      const bytes = encode(MIXED_LOG);
      const whole = snapshot(readBytes(readTextLog, [bytes]));
      const crlf = [...bytes.keys()].filter((i) => bytes[i] === 0x0d && bytes[i + 1] === 0x0a).map((i) => i + 1);
      const inside = [...bytes.keys()].filter((i) => (bytes[i] & 0xc0) === 0x80);
      assert.deepEqual(snapshot(readBytes(readTextLog, cut(bytes, crlf))), whole);
      assert.deepEqual(snapshot(readBytes(readTextLog, cut(bytes, inside))), whole);
      assert.deepEqual(snapshot(readBytes(readTextLog, [...bytes].map((b) => Uint8Array.of(b)))), whole);
      assertSameForAnyChunking(readTextLog, bytes, 'text', 30);
    });

    it('reads the mixed log as a user would expect', () => {
      const runs = readBytes(readTextLog, [encode(MIXED_LOG)]);
      const main = stream(runs, undefined);
      // The Trainer dict comes after a step line, so it takes that step rather than a count of its own.
      assert.deepEqual(series(main, 'loss'), { steps: [0, 10], values: [2.345, 6.9] });
      assert.deepEqual(series(main, 'lm loss'), { steps: [2], values: [2.123456] });
      assert.deepEqual(series(main, 'val loss'), { steps: [10], values: [4] });
      assert.deepEqual(main.events.map((e) => e.step), [2]);
      assert.equal(series(stream(runs, 'rank 1'), 'norm').values[0], Infinity);
      assert.deepEqual(main.warnings, []);
    });

    it('never throws on random text built from log fragments, and chunking never changes what it reads', () => {
      const fragment = fc.constantFrom(
        'step', 'Step 3', ' iteration ', 'Epoch', 'Epoch: [0]', '[1][5/10]', 'Iter(val)', '(train)', 'Train: 1 [', 'epoch 2/5', ' ', '  ', '\t', '|', ',', ':', '=', '/', '[', ']', '(', ')', '{', '}',
        "'", '"', "{'loss': ", "'2.5'", '1', '42', '-3.5e-4', 'nan', 'inf', 'N/A', 'loss', 'grad norm', 'val loss', 'eval_loss', 'train_runtime', '\r', '\n', '\r\n',
        '\x1b[31m', '\x1b]0;t\x07', '[default0]:', '[rank1]:', '0: ', '[1,0]<stdout>:', 'OVERFLOW! Skipping step', 'Gradient overflow.', 'number of skipped iterations: 2', 'é', '█', '😀', 'tensor(', 'ms',
      );
      fc.assert(
        fc.property(fc.array(fragment, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), (parts, offsets) => {
          const bytes = encode(parts.join(''));
          const whole = snapshot(readBytes(readTextLog, [bytes]));
          assert.deepEqual(snapshot(readBytes(readTextLog, cut(bytes, offsets.map((o) => o % (bytes.length + 1))))), whole);
        }),
        { numRuns: 500 },
      );
    });

    it('never throws on random, truncated or corrupted bytes', () => {
      const bytes = encode(MIXED_LOG);
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 2000 }),
          fc.nat({ max: bytes.length }),
          fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }),
          (random, truncate, flips) => {
            readBytes(readTextLog, [random]);
            readBytes(readTextLog, [bytes.subarray(0, truncate)]);
            const corrupted = bytes.slice();
            for (const [at, value] of flips) corrupted[at] = value;
            readBytes(readTextLog, [corrupted]);
          },
        ),
      );
    });

    it('reads hostile long lines in linear time', function () {
      this.timeout(20_000);
      const size = 400_000;
      const hostile = [
        ' '.repeat(size),
        'step '.repeat(size / 5),
        ' (a)'.repeat(size / 4) + ' x',
        "{'a".repeat(size / 3),
        'overflow '.repeat(size / 9),
        'loss: '.repeat(size / 6),
        'a '.repeat(size / 2) + ': 1',
        '\x1b]'.repeat(size / 2),
        'Epoch [1]['.repeat(size / 10),
      ];
      const started = Date.now();
      for (const line of hostile) readBytes(readTextLog, [encode(`Step 1: loss=1\n${line}\n`)]);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    });
  });
});
