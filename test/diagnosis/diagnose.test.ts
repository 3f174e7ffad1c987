import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import type { Diagnosis, FindingKind } from '../../src/diagnosis/types';
import { noFindingsText } from '../../src/diagnosis/verdict';
import { readCsv } from '../../src/logs/formats/csv';
import { readTrainerState } from '../../src/logs/formats/hf-trainer-state';
import { readJsonLines } from '../../src/logs/formats/jsonl';
import { RunBuilder, type Run } from '../../src/logs/run';
import type { ReaderFactory } from '../../src/logs/sink';
import { readBytes } from '../logs/read';

const FIXTURES = path.join(__dirname, '../fixtures/real');

function fixture(file: string, reader: ReaderFactory): Diagnosis {
  return diagnose(readBytes(reader, [readFileSync(path.join(FIXTURES, file))])[0]);
}

function finding(d: Diagnosis, kind: FindingKind) {
  const found = d.findings.find((f) => f.kind === kind);
  assert.ok(found, `no ${kind} finding; findings: ${d.findings.map((f) => `${f.severity} ${f.kind}@${f.step}`).join(', ')}`);
  return found;
}

const serious = (d: Diagnosis) => d.findings.filter((f) => f.severity !== 'info');

/** A run from columns: { tag: values } at steps 0..n-1; NaN in a column means "not logged" only when `missing` says so. */
function runOf(columns: Record<string, number[]>, events: { step: number }[] = []): Run {
  const builder = new RunBuilder({ id: 'test', path: 'test', files: ['test'], format: 'jsonl' });
  for (const [tag, values] of Object.entries(columns)) values.forEach((v, step) => builder.scalar(tag, step, v));
  for (const e of events) builder.event({ kind: 'overflow-skip', step: e.step, text: 'OVERFLOW! Skipping step' });
  return builder.runs()[0];
}

/** A deterministic, gently noisy healthy norm around `level`. */
function healthy(n: number, level: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return level * (0.8 + 0.4 * (s / 2147483647));
  });
}

describe('diagnosis on real runs', () => {
  it('LSTM at lr 40 without clipping: explosion at step 3 in the recurrent weights, dead layers after it, loss diverged', () => {
    const d = fixture('torch_lstm_sgd_noclip/grads.jsonl', readJsonLines);
    const explosion = finding(d, 'explosion');
    assert.equal(explosion.severity, 'error');
    assert.equal(explosion.step, 3);
    assert.ok(explosion.layers.some((l) => /weight_hh/.test(l)));
    assert.match(explosion.message, /step 3: 118/);
    assert.ok(explosion.hints.some((h) => h.id === 'add-norm-clipping'));
    const dead = finding(d, 'vanishing');
    assert.equal(dead.step, 5);
    assert.ok(dead.layers.includes('lstm.weight_hh_l0'));
    assert.equal(finding(d, 'divergence').severity, 'error');
    assert.equal(d.gradNorm.maxStep, 4);
    assert.equal(d.gradNorm.firstNonFiniteStep, null);
  });

  it('the same LSTM with clipping at 1: a warning, since clipping contained the explosion, and no divergence', () => {
    const d = fixture('torch_lstm_sgd_clip1/grads.jsonl', readJsonLines);
    const explosion = finding(d, 'explosion');
    assert.equal(explosion.severity, 'warning');
    assert.equal(explosion.step, 3);
    assert.ok(!explosion.hints.some((h) => h.id === 'add-norm-clipping'));
    assert.ok(!d.findings.some((f) => f.kind === 'divergence' || f.kind === 'nonfinite'));
    assert.ok(d.clippedFraction! > 0.1 && d.clippedFraction! < 0.3);
  });

  it('vanilla RNN with radius 1.6: explosion at step 0, NaN from step 1 in the recurrent layer, never recovered', () => {
    const d = fixture('torch_rnn_radius1.6_noclip/grads.jsonl', readJsonLines);
    const nonfinite = finding(d, 'nonfinite');
    assert.equal(nonfinite.severity, 'error');
    assert.equal(nonfinite.step, 1);
    assert.deepEqual(nonfinite.layers, ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0']);
    assert.match(nonfinite.message, /never recovered/);
    assert.equal(finding(d, 'explosion').step, 0);
    assert.equal(d.gradNorm.firstNonFiniteStep, 1);
    assert.equal(d.parameters[0].nanSteps > 0, true, 'non-finite parameters lead the table');
  });

  it('orthogonal RNN clipped at 1: no warning, but clipping on every step is pointed out', () => {
    const d = fixture('torch_rnn_orthogonal_clip1/grads.jsonl', readJsonLines);
    assert.deepEqual(serious(d), []);
    assert.equal(finding(d, 'clipping').evidence.clippedFraction, 1);
    assert.equal(d.clippedFraction, 1);
  });

  it('Lightning RNN without clipping: the recurrent layer saturates after the explosion at step 1', () => {
    const d = fixture('lightning_rnn_noclip/csv/version_0/metrics.csv', readCsv);
    const dead = finding(d, 'vanishing');
    assert.equal(dead.severity, 'error');
    assert.equal(dead.step, 2);
    assert.match(dead.message, /right after the explosion at step 1/);
    assert.equal(finding(d, 'nonfinite').step, 58);
    assert.deepEqual(finding(d, 'nonfinite').layers, ['model.head.weight']);
  });

  it('GPT-2 fine-tuning with the Hugging Face Trainer: healthy, with a clip threshold advised from its norms', () => {
    const d = fixture('hf_gpt2_lr3e-4_clip1/trainer_state.json', readTrainerState);
    assert.deepEqual(serious(d), []);
    assert.equal(d.steps, 300);
    assert.ok(d.threshold.recommended! > 0.8 && d.threshold.recommended! < 2);
  });
});

describe('diagnosis rules', () => {
  it('gives a healthy run no warning', () => {
    const n = 500;
    const d = diagnose(runOf({ grad_norm: healthy(n, 2), loss: Array.from({ length: n }, (_, i) => 3 * Math.exp(-i / 200) + 0.5) }));
    assert.deepEqual(d.findings, []);
  });

  it('threshold advice is the p95 of finite norms below 1e6, with mean, median, p99 and max', () => {
    const norms = [...Array.from({ length: 100 }, (_, i) => i + 1), NaN, Infinity, 5e6];
    const d = diagnose(runOf({ grad_norm: norms }));
    assert.equal(d.threshold.median, 50.5);
    assert.equal(d.threshold.mean, 50.5);
    assert.equal(d.threshold.max, 100);
    assert.ok(Math.abs(d.threshold.p95! - 95.05) < 1e-9);
    assert.ok(Math.abs(d.threshold.p99! - 99.01) < 1e-9);
  });

  it('flags growth ×100 within 10 steps even below the absolute thresholds', () => {
    const norms = [...healthy(50, 0.05), 8, 9, ...healthy(50, 0.05)];
    const explosion = finding(diagnose(runOf({ grad_norm: norms })), 'explosion');
    assert.equal(explosion.step, 50);
    assert.match(explosion.message, /× the/);
  });

  it('reports a gradient spike followed by a loss spike that does not recover as a warning, a lone spike as information', () => {
    const norms = healthy(200, 1);
    norms[80] = 6;
    norms[150] = 6;
    const loss = Array.from({ length: 200 }, () => 2);
    for (let step = 151; step < 175; step++) loss[step] = 9;
    const spikes = diagnose(runOf({ grad_norm: norms, loss }))
      .findings.filter((f) => f.kind === 'spike')
      .sort((a, b) => a.step - b.step);
    assert.deepEqual(
      spikes.map((f) => [f.step, f.severity]),
      [
        [80, 'info'],
        [150, 'warning'],
      ],
    );
    assert.match(spikes[1].message, /loss jumped to 9 at step 151/);
  });

  it('reports fp16 loss-scaler skips as such, and as an error only when they persist', () => {
    const norms = healthy(100, 1);
    norms[10] = NaN;
    norms[40] = Infinity;
    const scale = Array.from({ length: 100 }, (_, i) => (i < 10 ? 65536 : i < 40 ? 32768 : 16384));
    const d = diagnose(runOf({ grad_norm: norms, loss_scale: scale }));
    assert.deepEqual(
      d.findings.map((f) => [f.kind, f.severity, f.step]),
      [['nonfinite', 'info', 10]],
    );
    assert.match(d.findings[0].message, /loss scaler skipped 2 of 100 steps \(2%/);

    const stuck = healthy(100, 1).map((v, i) => (i >= 90 ? NaN : v));
    const persistent = diagnose(runOf({ grad_norm: stuck }, Array.from({ length: 10 }, (_, i) => ({ step: 90 + i }))));
    assert.equal(finding(persistent, 'nonfinite').severity, 'error');
    assert.match(finding(persistent, 'nonfinite').message, /stopped learning/);
  });

  it('finds a parameter that carries most of the norm, and one whose gradient vanishes', () => {
    const n = 100;
    const d = diagnose(runOf({ 'grad_norm/rnn.weight_hh_l0': healthy(n, 10), 'grad_norm/rnn.weight_ih_l0': healthy(n, 1, 2), 'grad_norm/rnn.bias': healthy(n, 1e-5, 3), loss: healthy(n, 1) }));
    assert.equal(d.gradNormSource, 'parameters');
    assert.deepEqual(finding(d, 'dominance').layers, ['rnn.weight_hh_l0']);
    assert.deepEqual(finding(d, 'vanishing').layers, ['rnn.bias']);
  });

  it('points out value clipping and weights that grow without bound', () => {
    const n = 100;
    const d = diagnose(runOf({ grad_norm: healthy(n, 1), clip_value: Array(n).fill(0.5), 'weight_norm/fc.weight': Array.from({ length: n }, (_, i) => 1.05 ** i) }));
    assert.ok(finding(d, 'clipping').hints.some((h) => h.id === 'prefer-norm-clipping'));
    assert.deepEqual(finding(d, 'divergence').layers, ['fc.weight']);
  });

  it('says when a clip threshold sits above the explosion it should have caught', () => {
    const norms = healthy(100, 2).map((v, i) => (i >= 60 && i < 65 ? 300 : v));
    const d = diagnose(runOf({ grad_norm: norms, max_norm: Array(100).fill(1000) }));
    assert.equal(finding(d, 'explosion').severity, 'error', 'clipping at 1000 did not contain norms of 300');
    const clipping = finding(d, 'clipping');
    assert.equal(clipping.severity, 'warning');
    assert.equal(clipping.step, 60);
    assert.deepEqual(
      clipping.hints.map((h) => h.id),
      ['lower-clip-threshold'],
    );
  });

  it('lets --threshold move the explosion threshold', () => {
    const run = runOf({ grad_norm: healthy(100, 30) });
    assert.deepEqual(diagnose(run).findings, []);
    assert.equal(finding(diagnose(run, { warnThreshold: 1, alertThreshold: 10 }), 'explosion').severity, 'error');
  });

  it('counts loss-scaler skips against the steps the log covers, not against gradient norms it does not have', () => {
    // Loss at every step, OVERFLOW announcements at 38 of 2000, no gradient norm at all (DeepSpeed's console).
    const skipsAt = Array.from({ length: 38 }, (_, k) => 13 + 52 * k);
    const d = diagnose(runOf({ loss: healthy(2000, 2) }, skipsAt.map((step) => ({ step }))));
    assert.deepEqual(d.findings.map((f) => [f.kind, f.severity]), [['nonfinite', 'info']]);
    assert.match(d.findings[0].message, /skipped 38 of 2000 steps \(2%;/);
    // A log that prints every tenth step still covers the nine between, and its own running count says how many were skipped.
    const sparse = new RunBuilder({ id: 'ds', path: 'ds', files: ['ds'], format: 'text' });
    for (let step = 10; step <= 2000; step += 10) {
      sparse.scalar('loss', step, 2);
      sparse.scalar('skipped', step, Math.floor(step / 50));
    }
    sparse.event({ kind: 'overflow-skip', step: 50, text: 'OVERFLOW! Rank 0 Skipping step.' });
    const counted = diagnose(sparse.runs()[0]);
    assert.equal(finding(counted, 'nonfinite').severity, 'info');
    assert.match(finding(counted, 'nonfinite').message, /skipped 40 of 1991 steps/);
  });

  it('finds divergence for a loss of any sign, relative to its own scale', () => {
    const curve = (from: number, to: number) => Array.from({ length: 100 }, (_, i) => from + ((to - from) * i) / 99);
    const unbounded = diagnose(runOf({ loss: curve(-3.4e4, -6.5e7) }));
    assert.equal(finding(unbounded, 'divergence').severity, 'error');
    assert.match(finding(unbounded, 'divergence').message, /fell without bound/);
    assert.equal(finding(diagnose(runOf({ loss: curve(2.3, -0.5) })), 'divergence').severity, 'warning');
    assert.equal(finding(diagnose(runOf({ loss: curve(-10, 15) })), 'divergence').severity, 'warning');
    assert.equal(finding(diagnose(runOf({ loss: curve(2, 30) })), 'divergence').severity, 'error');
    // Learning, not diverging: a loss that falls towards 0, and a signed objective that falls within its scale.
    for (const loss of [curve(2.3, 0), curve(-100, -150), curve(0.7, 0.1)]) assert.ok(!diagnose(runOf({ loss })).findings.some((f) => f.kind === 'divergence'), String(loss[0]));
  });

  it('has nothing to say about a run with no step of loss or gradient norm, and its warning names what it found', () => {
    const run = runOf({ lr: healthy(50, 1e-3), 'throughput/tokens': healthy(50, 1e4) });
    const d = diagnose(run);
    assert.equal(d.steps, 0);
    assert.deepEqual(d.findings, []);
    assert.equal(run.warnings.length, 1);
    assert.match(run.warnings[0].message, /^2 numeric series found, none recognised as a training loss or a gradient norm: "lr", "throughput\/tokens"\. .*--tag-role .*gradlens\.tagRoles/);
  });

  it('never calls the gradients of a run without gradient norms healthy', () => {
    const d = diagnose(runOf({ loss: healthy(100, 2) }));
    assert.deepEqual(d.findings, []);
    assert.match(noFindingsText(d), /^No findings, but this log has no gradient norms: the loss was checked for divergence and non-finite values; explosions, vanishing gradients and clipping could not be/);
    assert.equal(noFindingsText(diagnose(runOf({ loss: healthy(100, 2), grad_norm: healthy(100, 1) }))), 'No findings: the gradients look healthy.');
  });
});
