import assert from 'node:assert/strict';
import { diagnose } from '../../src/diagnosis/diagnose';
import type { Diagnosis, Finding, FindingKind } from '../../src/diagnosis/types';
import { RunBuilder, type LogFormat, type Run } from '../../src/logs/run';
import type { RunSettings } from '../../src/logs/settings';

/** A run from columns { tag: values } at steps first, first+every, ...; settings as its folder would state them. */
function runOf(columns: Record<string, number[]>, options: { format?: LogFormat; settings?: RunSettings; every?: number; first?: number } = {}): Run {
  const builder = new RunBuilder({ id: 'test', path: 'test', files: ['test'], format: options.format ?? 'jsonl' });
  const every = options.every ?? 1;
  for (const [tag, values] of Object.entries(columns)) values.forEach((v, i) => builder.scalar(tag, (options.first ?? 0) + i * every, v));
  const run = builder.runs()[0];
  return options.settings ? { ...run, settings: options.settings } : run;
}

/** A deterministic, gently noisy series around `level`. */
function noisy(n: number, level: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return level * (0.8 + 0.4 * (s / 2147483647));
  });
}

/** A loss that falls from 10 towards 3, as language models' do. */
const falling = (n: number) => noisy(n, 1, 7).map((noise, i) => 3 + 7 * Math.exp(-i / (n / 5)) + 0.05 * noise);

const of = (d: Diagnosis, kind: FindingKind): Finding[] => d.findings.filter((f) => f.kind === kind);
const ids = (d: Diagnosis) => d.findings.flatMap((f) => f.hints.map((h) => h.id));

describe('diagnosis that fits the run', () => {
  it('recognises the early transient of a from-scratch run and dates a later explosion on its own', () => {
    const norms = noisy(2000, 0.4);
    for (let i = 0; i < 30; i++) norms[i] = 40 * Math.exp(-i / 6) + 0.4;
    for (let i = 1500; i < 1504; i++) norms[i] = 300;
    const d = diagnose(runOf({ 'train/grad_norm': norms, 'train/loss': falling(2000) }, { format: 'tfevents' }));
    assert.equal(d.ledger.transient?.fromStep, 0);
    assert.ok(d.ledger.transient!.toStep < 30);
    const explosions = of(d, 'explosion');
    assert.deepEqual(explosions.map((f) => [f.step, f.endStep]), [[1500, 1503]]);
    assert.deepEqual(d.threshold.basis, { fromStep: d.ledger.transient!.toStep + 1, toStep: 1499, steps: 1499 - d.ledger.transient!.toStep });
    // Without its later explosion the same start is no finding at all.
    const healthy = diagnose(runOf({ 'train/grad_norm': norms.map((v, i) => (i >= 1500 && i < 1504 ? 0.4 : v)), 'train/loss': falling(2000) }, { format: 'tfevents' }));
    assert.deepEqual(healthy.findings, []);
  });

  it('makes two one-step explosions 26,000 steps apart two episodes, each with its own steps', () => {
    const norms = noisy(300, 0.5);
    norms[40] = 500;
    norms[300 - 40] = 800;
    const d = diagnose(runOf({ grad_norm: norms, loss: noisy(300, 2, 3) }, { every: 100 }));
    assert.deepEqual(of(d, 'explosion').map((f) => [f.step, f.endStep]), [[4000, 4000], [26000, 26000]]);
  });

  it('tells a bf16 Megatron run with its default clip of 1.0 neither to add clipping nor to unscale', () => {
    const norms = noisy(200, 0.8);
    for (let i = 120; i < 130; i++) norms[i] = 50 * (i - 118);
    const d = diagnose(runOf({ 'lm loss': falling(200), 'grad norm': norms, 'loss scale': norms.map(() => 1) }, { format: 'text' }));
    assert.equal(d.setup.writer, 'megatron');
    assert.deepEqual(d.setup.clipping, { on: true, mode: 'norm', threshold: 1, source: 'default' });
    assert.equal(d.setup.precision.scaler, false);
    const explosion = of(d, 'explosion')[0];
    assert.match(explosion.message, /Norm clipping at 1 \(--clip-grad, the default\) rescaled these steps/);
    assert.ok(!ids(d).includes('add-norm-clipping'));
    assert.ok(!ids(d).includes('unscale-before-clipping'));
    assert.match(explosion.hints.find((h) => h.id === 'lower-lr')!.text, /^Lower --lr/);
  });

  it('tells a nanoGPT run whose config turned clipping off to set grad_clip', () => {
    const norms = noisy(100, 0.5);
    norms[60] = 400;
    norms[61] = 900;
    const d = diagnose(runOf({ loss: falling(100), mfu: norms.map(() => 30), grad_norm: norms }, { format: 'text', settings: { sources: ['train.log'], clipNorm: 0 } }));
    assert.equal(d.setup.writer, 'nanogpt');
    assert.equal(d.setup.clipping.on, false);
    const add = of(d, 'explosion')[0].hints.find((h) => h.id === 'add-norm-clipping');
    assert.match(add!.text, /^Set grad_clip = 0\.\d+ in the config \(0\.0 turns clipping off\) \(the 95th percentile of the stable stretch, steps 0–59\)\.$/);
  });

  it('speaks each tool: TrainingArguments for the Trainer, Trainer arguments for Lightning, the clip line for a plain loop', () => {
    const norms = noisy(120, 0.5);
    norms[80] = 600;
    norms[81] = 2000;
    const loss = falling(120);
    const clipHint = (run: Run) => of(diagnose(run), 'explosion')[0].hints.find((h) => h.id === 'add-norm-clipping' || h.id === 'lower-clip-threshold')!.text;
    assert.match(clipHint(runOf({ grad_2: norms, 'grad_2.0_norm_total': norms, train_loss: loss }, { format: 'csv' })), /^Pass Trainer\(gradient_clip_val=0\.\d+, gradient_clip_algorithm="norm"\)/);
    assert.match(clipHint(runOf({ grad_norm: norms, loss })), /^Clip between backward\(\) and optimizer\.step\(\): torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), max_norm=0\.\d+\)/);
    // The Trainer clips at 1.0 unless told: with a stable stretch far below it, lower it where it is set.
    const trainer = clipHint(runOf({ grad_norm: norms.map((v) => v / 10), loss }, { format: 'hf-trainer-state' }));
    assert.match(trainer, /^Lower max_grad_norm in TrainingArguments from 1 to about 0\.0\d+ \(the 95th percentile of the stable stretch, steps 0–79\)/);
  });

  it("speaks fairseq's and MMEngine's options, and says their logs print means over an interval or a window", () => {
    const norms = noisy(120, 0.5);
    norms[80] = 600;
    norms[81] = 2000;
    const loss = falling(120);
    const lr = norms.map(() => 5e-4);
    const fairseq = diagnose(runOf({ loss, gnorm: norms, wps: norms.map(() => 12000), ups: norms.map(() => 3.2), wpb: norms.map(() => 3800), lr }, { format: 'text', every: 100, first: 100 }));
    assert.equal(fairseq.setup.writer, 'fairseq');
    const fairseqHints = of(fairseq, 'explosion')[0].hints;
    assert.match(fairseqHints.find((h) => h.id === 'add-norm-clipping')!.text, /^Pass --clip-norm 0\.\d+ to fairseq-train \(optimization\.clip_norm in a Hydra config; 0 turns clipping off\)/);
    assert.match(fairseqHints.find((h) => h.id === 'lower-lr')!.text, /^Lower --lr \(now 5e-4\)/);
    assert.match(fairseq.setup.caveats[0], /^fairseq's train_inner lines are means over each --log-interval \(here 100 updates; 100 by default\).*--log-interval 1/);
    const mmengine = diagnose(runOf({ loss, grad_norm: norms, base_lr: lr, lr, data_time: norms.map(() => 0.01), memory: norms.map(() => 3000) }, { format: 'text', every: 50, first: 50 }));
    assert.equal(mmengine.setup.writer, 'mmengine');
    const mmHints = of(mmengine, 'explosion')[0].hints;
    assert.match(mmHints.find((h) => h.id === 'add-norm-clipping')!.text, /^Add clip_grad=dict\(max_norm=0\.\d+, norm_type=2\) to optim_wrapper in the config/);
    assert.match(mmHints.find((h) => h.id === 'lower-lr')!.text, /^Lower the optimizer's lr in optim_wrapper/);
    assert.match(mmengine.setup.caveats[0], /^MMEngine prints grad_norm and the losses as means over the log processor's window \(log_processor = dict\(window_size=10\) by default\)/);
    assert.match(mmengine.setup.caveats[1], /^MMEngine logs every 50 iterations \(the LoggerHook's interval\)/);
    // Even a log of every iteration is smoothed by the window.
    const everyIteration = diagnose(runOf({ loss, grad_norm: norms, base_lr: lr, lr }, { format: 'text' }));
    assert.equal(everyIteration.setup.caveats.length, 1);
    // Clipping MMEngine's config turned on is lowered where it is set, never added.
    const clipped = diagnose(runOf({ loss, grad_norm: norms, base_lr: lr, lr }, { format: 'text', settings: { sources: ['20240101_100000.log'], clipNorm: 35 } }));
    assert.match(of(clipped, 'explosion')[0].hints.find((h) => h.id === 'lower-clip-threshold')!.text, /^Lower clip_grad's max_norm in optim_wrapper from 35 to about 0\.\d+/);
  });

  it("knows torchtitan's default clip of 1.0 and speaks its TOML", () => {
    const norms = noisy(120, 0.5);
    for (let i = 80; i < 95; i++) norms[i] = 100 * (i - 78);
    const run = { ...runOf({ loss: falling(120), grad_norm: norms }, { format: 'text', every: 10, first: 10 }), writtenBy: 'torchtitan' as const };
    const d = diagnose(run);
    assert.equal(d.setup.writer, 'torchtitan');
    assert.deepEqual(d.setup.clipping, { on: true, mode: 'norm', threshold: 1, source: 'default' });
    const explosion = of(d, 'explosion')[0];
    assert.match(explosion.message, /Norm clipping at 1 \(training\.max_norm, the default\)/);
    assert.match(explosion.hints.find((h) => h.id === 'lower-lr')!.text, /^Lower lr under \[optimizer\] \(--optimizer\.lr\)/);
    assert.match(d.setup.caveats[0], /^torchtitan logs every 10 steps \(\[metrics\] log_freq, 10 by default\)/);
  });

  it("tells each tool's user how to log per-parameter norms when the log has only the total", () => {
    const norms = noisy(120, 0.5);
    for (let i = 80; i < 95; i++) norms[i] = 100 * (i - 78);
    const loss = falling(120);
    const logHint = (run: Run) => of(diagnose(run), 'explosion')[0].hints.find((h) => h.id === 'log-gradients')!.text;
    assert.match(logHint(runOf({ 'grad_2.0_norm_total': norms, train_loss: loss }, { format: 'csv' })), /self\.log_dict\(grad_norm\(self, norm_type=2\)\)/);
    assert.match(logHint(runOf({ grad_norm: norms, loss }, { format: 'hf-trainer-state' })), /^Log per-parameter gradient norms to see which layer it comes from: the Trainer logs only the total; gradlens run -- python train\.py/);
    assert.match(logHint(runOf({ grad_norm: norms, loss })), /GradLens: Insert Gradient Logger adds the logger to the loop/);
    assert.match(logHint(runOf({ epoch_loss: loss, grad_norm: norms }, { format: 'tfevents' })), /tape\.gradient\(loss, self\.trainable_variables\)/);
  });

  it('knows a warm-up from the logged learning rate and asks for a longer one rather than for warm-up', () => {
    const norms = noisy(400, 0.5);
    for (let i = 5; i < 10; i++) norms[i] = 300 * (i - 4);
    const lr = Array.from({ length: 400 }, (_, i) => 3e-4 * Math.min(1, (i + 1) / 50));
    const d = diagnose(runOf({ grad_norm: norms, loss: falling(400), lr }));
    assert.equal(d.setup.warmup?.source, 'lr');
    const warmup = of(d, 'explosion')[0].hints.find((h) => h.id === 'lr-warmup');
    assert.match(warmup!.text, /^The learning rate is already warmed up over 4\d steps \(as the logged learning rate shows\): lengthen the warm-up/);
  });

  it('says when the loss ends clearly above its start, by how much, and stays quiet on noise', () => {
    const rising = noisy(300, 0.1, 5).map((noise, i) => 2 + (1.4 * i) / 300 + noise);
    const d = diagnose(runOf({ loss: rising, grad_norm: noisy(300, 1) }));
    const trend = of(d, 'loss-trend');
    assert.equal(trend.length, 1);
    assert.equal(trend[0].severity, 'warning');
    assert.match(trend[0].message, /^The run is getting worse: the loss ends at 3\.\d+ \(median of the last 30 steps\), 1\.\d+× the 2\.\d+ of the first 30/);
    const flat = diagnose(runOf({ loss: noisy(300, 2, 9), grad_norm: noisy(300, 1) }));
    assert.deepEqual(flat.findings, []);
    // An objective that goes below zero (an RL actor's) may rise as it should.
    const actor = diagnose(runOf({ actor_loss: rising.map((v) => v - 2.5), grad_norm: noisy(300, 1) }));
    assert.deepEqual(of(actor, 'loss-trend'), []);
  });

  it('says when the loss stopped improving while the gradient norm grew', () => {
    const n = 300;
    const loss = noisy(n, 0.05, 4).map((noise, i) => (i < 100 ? 3 - i / 100 : 2) + noise);
    const norms = noisy(n, 1).map((v, i) => (i < 200 ? v : v * 5));
    const trend = of(diagnose(runOf({ loss, grad_norm: norms })), 'loss-trend');
    assert.equal(trend.length, 1);
    assert.match(trend[0].message, /^The loss stopped improving .* while the gradient norm grew 5\.\d+×/);
  });

  it('names the parameter that left its normal band first, and by how many steps it led the total', () => {
    const n = 120;
    const lead = noisy(n, 0.1, 2).map((v, i) => (i >= 90 ? v * 2.5 ** Math.min(i - 89, 6) : v));
    const bulk = noisy(n, 1, 3).map((v, i) => (i >= 95 ? v * 400 : v));
    const d = diagnose(runOf({ 'grad_norm/encoder.weight': bulk, 'grad_norm/decoder.weight': lead, loss: falling(n) }));
    const explosion = of(d, 'explosion')[0];
    assert.equal(explosion.evidence.firstMover, 'decoder.weight');
    assert.ok(Number(explosion.evidence.firstMoverLead) >= 2, String(explosion.evidence.firstMoverLead));
    assert.match(explosion.message, /decoder\.weight moved first: it left its normal band at step 9\d, \d+ steps before the total norm did/);
  });

  it('names the first mover before the first non-finite value too', () => {
    const n = 130;
    const lead = noisy(n, 0.1, 2).map((v, i) => (i >= 100 ? NaN : i >= 94 ? v * 2 ** (i - 93) : v));
    const bulk = noisy(n, 1, 3).map((v, i) => (i >= 100 ? NaN : v));
    const nonfinite = of(diagnose(runOf({ 'grad_norm/a.weight': bulk, 'grad_norm/b.weight': lead, loss: falling(n) })), 'nonfinite')[0];
    assert.equal(nonfinite.step, 100);
    assert.equal(nonfinite.evidence.firstMover, 'b.weight');
    assert.match(nonfinite.message, /b\.weight moved first: it left its normal band at step 9\d, \d+ steps? before the total norm did/);
  });

  it("states the Trainer's logging caveat when it logs one step in N, and none for a log of every step", () => {
    const d = diagnose(runOf({ grad_norm: noisy(50, 0.5), loss: falling(50) }, { format: 'hf-trainer-state', every: 10, first: 10 }));
    assert.deepEqual(d.setup.caveats, [
      'The Trainer logs every 10 steps (logging_steps): grad_norm is the norm of the one step it logs, so spikes on the steps between are not in this log, and loss is averaged over the 10 steps, which hides loss spikes. Set logging_steps=1 to see every step.',
    ]);
    assert.deepEqual(diagnose(runOf({ grad_norm: noisy(50, 0.5), loss: falling(50) }, { format: 'hf-trainer-state' })).setup.caveats, []);
  });

  it("gives OLMo 2's spike score: the share of values 7σ or more from the mean of the previous 1,000", () => {
    const norms = noisy(2000, 1);
    for (const i of [300, 900, 1400, 1900]) norms[i] = 100;
    const d = diagnose(runOf({ grad_norm: norms, loss: falling(2000) }));
    // Judged from the 11th value on, once the window has 10.
    assert.equal(d.ledger.spikeScore.gradNorm, 4 / 1990);
    assert.equal(d.ledger.spikeScore.loss, 0);
  });

  it('replays the spike policies with their defaults: Lightning on the loss, OLMo-core and llm.c on both, Megatron on the norm', () => {
    const loss = noisy(400, 2, 5);
    loss[300] = 20;
    const norms = noisy(400, 1);
    norms[200] = 50;
    const d = diagnose(runOf({ grad_norm: norms, loss }));
    const steps = Object.fromEntries(d.policies.map((p) => [p.name, p.steps]));
    assert.deepEqual(steps, {
      'lightning-spike-detection': [300],
      'olmo-core-skip-step': [200, 300],
      'llm.c-zscore-skip': [200, 300],
      'megatron-large-grads': [200],
      'clip-norm': d.policies.find((p) => p.name === 'clip-norm')!.steps,
    });
    assert.match(d.policies[0].summary, /^Lightning SpikeDetection \(window 10, rtol 2\) would have stopped the run at step 300 \(mode "raise", its default\)/);
  });

  it('replays norm clipping at the threshold in force: share of steps clipped and mean scale factor', () => {
    const d = diagnose(runOf({ grad_norm: [0.5, 2, 4, 0.5], max_norm: [1, 1, 1, 1], loss: [1, 1, 1, 1] }));
    const clip = d.policies.find((p) => p.name === 'clip-norm')!;
    assert.deepEqual([clip.parameters.tau, clip.steps, clip.clippedShare, clip.meanScale], [1, [1, 2], 0.5, (1 + 0.5 + 0.25 + 1) / 4]);
    assert.match(clip.summary, /^Norm clipping at τ = 1 \(the threshold in force\) would clip 50% of steps, scaling the gradient by 0\.688 on average\.$/);
  });
});
