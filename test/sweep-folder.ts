/**
 * A hyperparameter sweep on disk, for `npm run bench:sweep` and the
 * end-to-end sweep suite: one folder per run, a quarter each JSON lines
 * (every twentieth run exploding), Lightning-style CSV with its
 * hparams.yaml, a TensorBoard dir and a trainer_state.json with its
 * training_args.json (both logs copied from test/fixtures/real).
 *
 *   const files = writeSweep(root, 1000);   // the files the log globs would match
 */
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const STEPS = 300;
/** The learning rates the sweep tries, one per run in turn. */
const LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2];

/** Run `index` explodes: its gradient norm jumps by 1e4 after step 200 (JSON-lines runs only). */
export const sweepRunExplodes = (index: number): boolean => index % 20 === 0;

/**
 * Writes `runs` run folders `lr-0` … under `root`; returns the files the log
 * globs would match. `fixtures` is test/fixtures/real, named by a caller
 * that runs this file bundled elsewhere (test/e2e/prepare.mjs).
 */
export function writeSweep(root: string, runs: number, fixtures = path.join(__dirname, 'fixtures', 'real')): string[] {
  const files: string[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = path.join(root, `lr-${i}`);
    mkdirSync(dir, { recursive: true });
    const lr = LEARNING_RATES[i % LEARNING_RATES.length];
    switch (i % 4) {
      case 0: {
        const file = path.join(dir, 'grads.jsonl');
        const lines = Array.from({ length: STEPS }, (_, s) =>
          JSON.stringify({ step: s, loss: 2 - s / STEPS, grad_norm: 1 + (s % 7) + (sweepRunExplodes(i) && s > 200 ? 1e4 : 0), lr, layers: { 'rnn.weight_hh_l0': 0.5, 'head.weight': 0.3 } }),
        );
        writeFileSync(file, lines.join('\n') + '\n');
        files.push(file);
        break;
      }
      case 1: {
        const file = path.join(dir, 'metrics.csv');
        writeFileSync(file, 'step,train_loss,grad_2.0_norm_total\n' + Array.from({ length: STEPS }, (_, s) => `${s},${2 - s / STEPS},${1 + (s % 5)}`).join('\n') + '\n');
        writeFileSync(path.join(dir, 'hparams.yaml'), `lr: ${lr}\nbatch_size: ${32 << i % 3}\ngradient_clip_val: 1.0\nprecision: 16-mixed\n`);
        files.push(file);
        break;
      }
      case 2: {
        const tb = path.join(dir, 'tb');
        cpSync(path.join(fixtures, 'torch_rnn_orthogonal_clip1', 'tb'), tb, { recursive: true });
        for (const name of readdirSync(tb)) files.push(path.join(tb, name));
        break;
      }
      default: {
        const file = path.join(dir, 'trainer_state.json');
        cpSync(path.join(fixtures, 'hf_gpt2_lr3e-4_clip1', 'trainer_state.json'), file);
        // The fixture's TrainingArguments, exported beside it (its TensorBoard copy would be a run of its own).
        writeFileSync(path.join(dir, 'training_args.json'), JSON.stringify({ learning_rate: 3e-4, per_device_train_batch_size: 16, max_grad_norm: 1.0, warmup_steps: 0, bf16: false, fp16: false }, null, 2));
        files.push(file);
      }
    }
  }
  return files;
}
