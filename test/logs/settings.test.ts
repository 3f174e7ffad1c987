import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { discoverRuns } from '../../src/logs/discovery';
import { openRuns } from '../../src/logs/open';
import { RunTail } from '../../src/logs/tail';
import { RunBuilder } from '../../src/logs/run';
import { mergeSettings, settingsFromText, writerOf } from '../../src/logs/settings';

describe('training settings a log or its folder states', () => {
  it('reads the TrainingArguments the Hugging Face Trainer writes to TensorBoard', () => {
    const text = '\u0000\u0012args/text_summary{\n  "output_dir": "out",\n  "learning_rate": 0.0003,\n  "warmup_ratio": 0.0,\n  "warmup_steps": 0,\n  "max_grad_norm": 1.0,\n  "bf16": false,\n  "fp16": true\n}';
    assert.deepEqual(settingsFromText(text, 'events.out.tfevents.1'), { sources: ['events.out.tfevents.1'], clipNorm: 1, precision: 'fp16', warmupSteps: 0, warmupRatio: 0, learningRate: 0.0003 });
  });

  it('reads the learning rate and batch size a configuration states, and a bare lr only as a configuration line', () => {
    assert.deepEqual(settingsFromText('lr: 0.001\nbatch_size: 64\n', 'hparams.yaml'), { sources: ['hparams.yaml'], learningRate: 0.001, batchSize: 64 });
    assert.deepEqual(settingsFromText('{"per_device_train_batch_size": 16, "per_device_eval_batch_size": 8}', 'training_args.json'), { sources: ['training_args.json'], batchSize: 16 });
    // A JSON-lines head logs the rate of its first step, which a warm-up keeps far below the rate set.
    assert.deepEqual(settingsFromText('{"step": 0, "loss": 2.3, "lr": 1e-6}\n', 'grads.jsonl'), { sources: [] });
  });

  it("reads Megatron's printed arguments, nanoGPT's overrides and Lightning's config", () => {
    const megatron = ['------------------------ arguments ------------------------', '  bf16 ............................................ True', '  clip_grad ....................................... 1.0', '  fp16 ............................................ False', '  lr_warmup_iters ................................. 2000'].join('\n');
    assert.deepEqual(settingsFromText(megatron, 'train.log'), { sources: ['train.log'], clipNorm: 1, precision: 'bf16', warmupSteps: 2000 });
    assert.deepEqual(settingsFromText('Overriding config with config/train_shakespeare_char.py:\nOverriding: grad_clip = 0.0\n', 'train.log'), { sources: ['train.log'], clipNorm: 0 });
    assert.deepEqual(settingsFromText('trainer:\n  gradient_clip_val: 0.25\n  gradient_clip_algorithm: value\n  precision: bf16-mixed\n', 'config.yaml'), { sources: ['config.yaml'], clipValue: 0.25, precision: 'bf16' });
    assert.deepEqual(settingsFromText('step 1: loss 2.3\n', 'train.log'), { sources: [] });
    assert.deepEqual(settingsFromText('[INFO] [config.py:1001:print]   gradient_clipping ............ 1.0\n', 'train.log'), { sources: ['train.log'], clipNorm: 1 });
    assert.deepEqual(settingsFromText('_wandb:\n  value:\n    cli_version: 0.17.0\nmax_grad_norm:\n  desc: null\n  value: 0.5\nbf16:\n  value: true\n', 'config.yaml'), { sources: ['config.yaml'], clipNorm: 0.5, precision: 'bf16' });
  });

  it("reads fairseq's printed configuration and MMEngine's config dump", () => {
    const fairseq =
      "2020-09-01 12:00:00 | INFO | fairseq_cli.train | {'_name': None, 'common': {'log_interval': 100, 'fp16': True}, 'optimization': {'max_update': 50000, 'clip_norm': 0.0, 'lr': [0.0005]}, 'lr_scheduler': {'_name': 'inverse_sqrt', 'warmup_updates': 4000}}";
    assert.deepEqual(settingsFromText(fairseq, 'train.log'), { sources: ['train.log'], clipNorm: 0, precision: 'fp16', warmupSteps: 4000 });
    // fairseq before Hydra printed an argparse Namespace.
    assert.deepEqual(settingsFromText('Namespace(arch=\'transformer\', clip_norm=0.1, fp16=False, warmup_updates=4000)', 'train.log'), { sources: ['train.log'], clipNorm: 0.1, warmupSteps: 4000 });
    const mmengine = ['optim_wrapper = dict(', '    clip_grad=dict(max_norm=35, norm_type=2),', "    optimizer=dict(lr=0.02, momentum=0.9, type='SGD', weight_decay=0.0001),", "    type='OptimWrapper')"].join('\n');
    assert.deepEqual(settingsFromText(mmengine, '20240101_100000.log'), { sources: ['20240101_100000.log'], clipNorm: 35 });
    assert.deepEqual(settingsFromText("optim_wrapper = dict(clip_grad=None, optimizer=dict(lr=0.02, type='SGD'))", '20240101_100000.log'), { sources: [] });
  });

  it('reads a setting after one left empty, and the first value of the kind a key takes', () => {
    assert.deepEqual(settingsFromText('gradient_clip_val:\nbatch_size: 32\n', 'hparams.yaml'), { sources: ['hparams.yaml'], batchSize: 32 });
    assert.deepEqual(settingsFromText('"max_grad_norm": null, "warmup_steps": 5\nmax_grad_norm = 2.5\n', 'train.log'), { sources: ['train.log'], clipNorm: 2.5, warmupSteps: 5 });
  });

  it('finds in one pass what a search for each key finds', () => {
    const keys = ['max_grad_norm', 'gradient_clip_val', 'clip_grad', 'grad_clip', 'clip_norm', 'max_norm', 'precision', 'bf16', 'fp16', 'warmup_steps', 'lr_warmup_iters', 'warmup_iters', 'warmup_updates', 'learning_rate', 'max_lr', 'micro_batch_size', 'batch_size', 'per_device_train_batch_size'];
    const fragment = fc.oneof(
      fc.constantFrom(...keys, ...keys.map((k) => `_${k}`), ...keys.map((k) => `"${k}"`), ...keys.map((k) => `'${k}'`)),
      fc.constantFrom(': ', ':', ' = ', '=', ' ...... ', ' | ', '\n', ' ', ', ', '{', '"', "'", '(', '\t'),
      fc.constantFrom('1.0', '0', '-2', '3e-4', '.5', 'true', 'False', 'None', 'null', '16-mixed', 'bf16', 'x', '"1.5"', '1.'),
    );
    // The oracle: each setting's pattern searched on its own.
    const NUMBER = String.raw`([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)`;
    const alone = (text: string, key: string, value: string) => new RegExp(String.raw`(?:^|[\s,{(|"'])${key}["']?\s*(?:[:=]|\.{2,}|\s\|)\s*["']?${value}`, 'm').exec(text)?.[1];
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const found = settingsFromText(text, 'f');
        const number = (key: string) => {
          const v = alone(text, key, NUMBER);
          return v === undefined ? undefined : Number(v);
        };
        const clip = number('max_grad_norm') ?? number('gradient_clip_val') ?? number('clip_grad') ?? number('grad_clip') ?? number('clip_norm') ?? number('max_norm');
        assert.equal(found.clipNorm, clip === undefined || !Number.isFinite(clip) ? undefined : Math.max(clip, 0), text);
        assert.equal(found.warmupSteps, number('warmup_steps') ?? number('lr_warmup_iters') ?? number('warmup_iters') ?? number('warmup_updates'), text);
        assert.equal(found.batchSize, number('per_device_train_batch_size') ?? number('micro_batch_size') ?? number('batch_size'), text);
        const word = (key: string) => alone(text, key, '([A-Za-z0-9_-]+)');
        const bf16 = /^(true|1)$/i.test(word('bf16') ?? '');
        if (bf16) assert.equal(found.precision, 'bf16', text);
        else if (/^(true|1)$/i.test(word('fp16') ?? '')) assert.equal(found.precision, 'fp16', text);
        else if (/^bf16/i.test(word('precision') ?? '')) assert.equal(found.precision, 'bf16', text);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the first statement of each setting, the run log before its folder', () => {
    const merged = mergeSettings([settingsFromText('max_grad_norm: 0.5', 'a'), settingsFromText('max_grad_norm: 2\nbf16: true', 'b')]);
    assert.deepEqual(merged, { sources: ['a', 'b'], clipNorm: 0.5, precision: 'bf16' });
    assert.equal(mergeSettings([{ sources: [] }]), undefined);
  });

  it('tells the writing tool from the format, the layout and the tags', () => {
    const run = (format: 'csv' | 'jsonl' | 'text' | 'tfevents' | 'hf-trainer-state', tags: string[], file = 'log') => {
      const builder = new RunBuilder({ id: 'r', path: file, files: [file], format });
      for (const tag of tags) builder.scalar(tag, 0, 1);
      return builder.runs()[0];
    };
    assert.equal(writerOf(run('hf-trainer-state', ['loss'])), 'hf-trainer');
    assert.equal(writerOf(run('tfevents', ['train/loss', 'train/grad_norm', 'train/epoch'])), 'hf-trainer');
    assert.equal(writerOf(run('csv', ['grad_2.0_norm_total', 'train_loss'])), 'lightning');
    assert.equal(writerOf(run('tfevents', ['train_loss'], 'proj/lightning_logs/version_3')), 'lightning');
    assert.equal(writerOf(run('csv', ['loss', 'accuracy', 'val_loss', 'val_accuracy'])), 'keras');
    assert.equal(writerOf(run('tfevents', ['epoch_loss'])), 'keras');
    assert.equal(writerOf(run('text', ['lm loss', 'grad norm', 'loss scale'])), 'megatron');
    assert.equal(writerOf(run('text', ['trl', 'norm', 'lr'])), 'llm.c');
    assert.equal(writerOf(run('text', ['loss', 'time', 'mfu'])), 'nanogpt');
    assert.equal(writerOf(run('text', ['Epoch', 'Rank', 'loss', 'skipped', 'lr'])), 'deepspeed');
    assert.equal(writerOf(run('text', ['loss', 'nll_loss', 'ppl', 'wps', 'ups', 'wpb', 'bsz', 'lr', 'gnorm', 'loss_scale'])), 'fairseq');
    assert.equal(writerOf(run('text', ['base_lr', 'lr', 'time', 'data_time', 'memory', 'grad_norm', 'loss'])), 'mmengine');
    assert.equal(writerOf(run('jsonl', ['lr', 'loss', 'grad_norm'], 'work_dirs/faster-rcnn/20240101_100000/vis_data/scalars.json')), 'mmengine');
    // detectron2's metrics.json has data_time too, but no memory.
    assert.equal(writerOf(run('jsonl', ['data_time', 'time', 'lr', 'total_loss'])), 'pytorch');
    assert.equal(writerOf(run('jsonl', ['loss', 'grad_norm'])), 'pytorch');
  });

  it('opens a run with the settings of its folder: hparams.yaml beside a Lightning metrics.csv, TrainingArguments in a Trainer output dir, an MLflow run\'s params', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-settings-'));
    const version = path.join(root, 'lightning_logs', 'version_0');
    mkdirSync(version, { recursive: true });
    writeFileSync(path.join(version, 'metrics.csv'), 'epoch,grad_2.0_norm_total,step,train_loss\n0,1.5,0,2.0\n0,1.2,1,1.9\n');
    writeFileSync(path.join(version, 'hparams.yaml'), 'gradient_clip_val: 0.5\n');
    const tb = path.join(root, 'tb', 'version_0');
    mkdirSync(tb, { recursive: true });
    writeFileSync(path.join(tb, 'metrics.csv'), 'step,train_loss\n0,2.0\n1,1.9\n');
    writeFileSync(path.join(tb, 'hparams.yaml'), '{}\n');
    const hf = path.join(root, 'out');
    mkdirSync(path.join(hf, 'checkpoint-2'), { recursive: true });
    mkdirSync(path.join(hf, 'runs', 'Dec01'), { recursive: true });
    writeFileSync(path.join(hf, 'checkpoint-2', 'trainer_state.json'), JSON.stringify({ global_step: 2, log_history: [{ step: 1, loss: 2, grad_norm: 1.5 }, { step: 2, loss: 1.9, grad_norm: 1.2 }] }));
    writeFileSync(path.join(hf, 'runs', 'Dec01', 'events.out.tfevents.1.host'), '\u0000garbage "max_grad_norm": 0.3, "bf16": true');
    const mlflow = path.join(root, 'mlruns', '0', 'abc123');
    mkdirSync(path.join(mlflow, 'metrics'), { recursive: true });
    mkdirSync(path.join(mlflow, 'params'));
    writeFileSync(path.join(mlflow, 'meta.yaml'), 'run_id: abc123\nlifecycle_stage: active\n');
    writeFileSync(path.join(mlflow, 'metrics', 'loss'), '1700000000000 2.0 1\n1700000000001 1.9 2\n');
    writeFileSync(path.join(mlflow, 'params', 'max_grad_norm'), '0.7');
    writeFileSync(path.join(mlflow, 'params', 'learning_rate'), '5e-05');
    const runs = await openRuns(root);
    assert.deepEqual(runs.find((r) => r.format === 'mlflow')?.settings, { sources: ['params'], clipNorm: 0.7, learningRate: 5e-5 });
    const under = (folder: string) => (r: { path: string }) => r.path.startsWith(path.join(root, folder) + path.sep);
    const lightning = runs.find(under('lightning_logs'));
    // An empty hparams.yaml states nothing, but says Lightning wrote the run.
    const bare = runs.find(under('tb'))!;
    assert.deepEqual(bare.settings, { sources: ['hparams.yaml'] });
    assert.equal(writerOf(bare), 'lightning');
    assert.deepEqual(lightning?.settings, { sources: ['hparams.yaml'], clipNorm: 0.5 });
    const trainer = runs.find((r) => r.format === 'hf-trainer-state');
    assert.deepEqual(trainer?.settings, { sources: ['events.out.tfevents.1.host'], clipNorm: 0.3, precision: 'bf16' });
    // A followed run (the dashboard's) reads them too.
    const tail = new RunTail((await discoverRuns(version))[0]);
    await tail.poll();
    assert.deepEqual(tail.runs()[0].settings, { sources: ['hparams.yaml'], clipNorm: 0.5 });
  });
});
