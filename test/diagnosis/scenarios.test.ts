import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import type { Diagnosis, Finding } from '../../src/diagnosis/types';
import { openRuns } from '../../src/logs/open';

/**
 * Runs trained for real under Debian's PyTorch (test/diagnosis/train_scenarios.py),
 * written as the tool that would have run them lays its logs out, read from
 * disk the way `gradlens analyze` reads them. The assertions are what a user reads.
 */
const PYTHON = '/usr/bin/python3';
/**
 * torch and OpenBLAS pick their float32 kernels by CPU (AVX2, AVX-512), and
 * the chaotic runs here part ways at the last bit: with the kernels every
 * x86-64 has, one thread, each scenario trains the same on every machine.
 */
const SAME_KERNELS_EVERYWHERE = { ATEN_CPU_CAPABILITY: 'default', OPENBLAS_CORETYPE: 'Nehalem', OPENBLAS_NUM_THREADS: '1' };
const SCRIPT = path.join(__dirname, 'train_scenarios.py');
const CLI = path.join(__dirname, '../../dist/cli.js');

/** A run trained by GradLens's own engine (`gradlens train`), read back from its JSON lines. */
async function engineRun(...args: string[]): Promise<Diagnosis> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradlens-engine-')), 'grads.jsonl');
  const result = spawnSync(process.execPath, [CLI, 'train', ...args, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  const [run] = await openRuns(out);
  return diagnose(run);
}

async function scenario(name: string): Promise<Diagnosis> {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradlens-scenario-')), name);
  mkdirSync(dir);
  const result = spawnSync(PYTHON, [SCRIPT, dir, name], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...SAME_KERNELS_EVERYWHERE } });
  assert.equal(result.status, 0, `${name}: ${result.stderr}`);
  const runs = await openRuns(dir);
  assert.equal(runs.length, 1, runs.map((r) => r.id).join(', '));
  return diagnose(runs[0]);
}

const hintIds = (d: Diagnosis) => d.findings.flatMap((f) => f.hints.map((h) => h.id));
const hintTexts = (d: Diagnosis) => d.findings.flatMap((f) => f.hints.map((h) => h.text));
const alarms = (d: Diagnosis) => d.findings.filter((f) => f.severity !== 'info');
const describe_ = (findings: Finding[]) => findings.map((f) => `${f.severity} ${f.kind}@${f.step}`).join(', ');

describe('diagnosis of runs trained with PyTorch', function () {
  this.timeout(180_000);

  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    assert.equal(probe.status, 0, `${PYTHON} cannot import torch (install python3-torch): ${probe.stderr ?? probe.error?.message}`);
  });

  it('a Lightning RNN clipped at 0.5 that gets worse: no advice to add or raise clipping, no threshold from its norms, the loss rise said, in Lightning terms', async () => {
    const d = await scenario('lightning-clipped-rnn');
    assert.equal(d.setup.writer, 'lightning');
    assert.deepEqual(d.setup.clipping, { on: true, mode: 'norm', threshold: 0.5, source: 'config' });
    assert.equal(d.threshold.recommended, null, 'no stretch of a run that explodes under its clip gives a threshold');
    const ids = hintIds(d);
    for (const id of ['add-norm-clipping', 'raise-clip-threshold', 'unscale-before-clipping'] as const) assert.ok(!ids.includes(id), `${id} advised: ${ids.join(', ')}`);
    assert.ok(!hintTexts(d).some((text) => /clip_grad_norm_/.test(text)), 'raw torch code for a Lightning user');
    const worse = d.findings.find((f) => f.kind === 'divergence' || f.kind === 'loss-trend');
    assert.ok(worse, `nothing says the loss rose: ${describe_(d.findings)}`);
    assert.match(worse.message, /the loss ends at \d/);
    const clipping = d.findings.find((f) => f.kind === 'clipping');
    assert.ok(clipping);
    assert.match(clipping.message, /gradient_clip_val 0\.5/);
    assert.match(clipping.message, /hides an unstable run/);
    assert.ok(hintTexts(d).some((text) => /configure_optimizers\(\)/.test(text)), 'the learning rate in Lightning terms');
    const explosions = d.findings.filter((f) => f.kind === 'explosion');
    assert.ok(explosions.length >= 1, describe_(d.findings));
    for (let i = 1; i < explosions.length; i++) assert.ok(explosions[i].step > explosions[i - 1].endStep, 'each explosion is its own episode');
    assert.ok(explosions.every((f) => /Norm clipping at 0\.5 \(as the configuration states\)/.test(f.message)));
  });

  it('an fp16 loss scaler skipping steps: benign, said once, no explosion and no unscale advice', async () => {
    const d = await scenario('amp-scaler');
    assert.equal(d.setup.precision.scaler, true);
    assert.deepEqual(alarms(d), [], describe_(d.findings));
    const skips = d.findings.find((f) => f.kind === 'nonfinite');
    assert.ok(skips);
    assert.match(skips.message, /This is the scaler's normal behaviour, not an explosion/);
    assert.deepEqual(skips.hints.map((h) => h.id), ['loss-scaler']);
    assert.ok(!d.findings.some((f) => f.kind === 'explosion'));
  });

  it('outlier batches: one-step spikes that recover are information with a look at the batch, listed in the ledger as recovered, caught by the policies', async () => {
    const d = await scenario('fast-spikes');
    assert.deepEqual(alarms(d), [], describe_(d.findings));
    const outliers = [120, 200, 260];
    const spikes = d.findings.filter((f) => f.kind === 'explosion' || f.kind === 'spike');
    assert.deepEqual(spikes.map((f) => f.step), outliers);
    for (const f of spikes) {
      assert.match(f.message, /It recovered: the norm was back below the warning threshold at the next step and the loss back at its level within 1 step/);
      assert.deepEqual(f.hints.map((h) => h.id), ['check-data']);
    }
    const ledger = d.ledger.spikes.filter((s) => s.series === 'gradNorm');
    assert.deepEqual(ledger.map((s) => [s.step, s.verdict, s.recoverySteps]), outliers.map((step) => [step, 'recovered', 1]));
    assert.deepEqual(d.ledger.lag, { medianSteps: 0, pairs: 3, gradNormSpikes: 3, lossSpikes: 3 });
    assert.ok(d.ledger.spikeScore.gradNorm! > 0);
    const clip = d.policies.find((p) => p.name === 'clip-norm');
    assert.equal(clip?.parameters.tau, 5);
    for (const step of outliers) assert.ok(clip?.steps.includes(step));
    assert.deepEqual(d.policies.find((p) => p.name === 'lightning-spike-detection')?.steps, outliers);
  });

  it('prints the spike ledger and the policy replay in the terminal report', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradlens-scenario-')), 'fast-spikes');
    mkdirSync(dir);
    assert.equal(spawnSync(PYTHON, [SCRIPT, dir, 'fast-spikes'], { encoding: 'utf8', timeout: 120_000 }).status, 0);
    const text = spawnSync(process.execPath, [CLI, 'analyze', dir], { encoding: 'utf8' }).stdout;
    assert.match(text, /\n  spike ledger\n    step  series +value +× median +steps out +back after +verdict\n    120 +grad norm +\d+ +\d+ +1 +1 step +recovered\n/);
    assert.match(text, /\n  policy replay \(what each spike policy would have done on this log\)\n    · Lightning SpikeDetection \(window 10, rtol 2\) would have stopped the run at step 120/);
    assert.match(text, /· Norm clipping at τ = 5 \(the threshold in force\) would clip 1% of steps/);
  });

  it('a healthy transformer written as the Trainer writes it: no finding, the Trainer\'s default clip and the warm-up known, a threshold from the whole run', async () => {
    const d = await scenario('healthy-transformer');
    assert.deepEqual(d.findings, []);
    assert.equal(d.setup.writer, 'hf-trainer');
    assert.deepEqual(d.setup.clipping, { on: true, mode: 'norm', threshold: 1, source: 'default' });
    assert.equal(d.setup.warmup?.source, 'lr');
    assert.deepEqual(d.threshold.basis, { fromStep: 1, toStep: 300, steps: 300 });
    assert.deepEqual(
      d.policies.map((p) => [p.name, p.steps.length]),
      [['lightning-spike-detection', 0], ['olmo-core-skip-step', 0], ['llm.c-zscore-skip', 0], ['megatron-large-grads', 0], ['clip-norm', 0]],
    );
  });
});

describe('diagnosis of runs trained with the engine', function () {
  this.timeout(180_000);

  it('an unclipped exploding RNN: the clip line of a plain loop, at the 95th percentile of the steps before the explosion', async () => {
    const d = await engineRun('--preset', 'rnn-exploding', '--steps', '120');
    assert.equal(d.setup.writer, 'pytorch');
    const explosion = d.findings.find((f) => f.kind === 'explosion');
    assert.equal(explosion?.severity, 'error');
    const basis = d.threshold.basis!;
    assert.equal(basis.fromStep, 0);
    assert.ok(basis.toStep < explosion!.step);
    assert.match(
      explosion!.hints.find((h) => h.id === 'add-norm-clipping')!.text,
      new RegExp(`^Clip between backward\\(\\) and optimizer\\.step\\(\\): torch\\.nn\\.utils\\.clip_grad_norm_\\(model\\.parameters\\(\\), max_norm=[\\d.]+\\) \\(the 95th percentile of the stable stretch, steps 0–${basis.toStep}\\)\\.$`),
    );
  });

  it('an RNN clipped at 0.5 whose loss rises: told the clip hides an unstable run and that it got worse, never to add or raise clipping', async () => {
    const d = await engineRun('--model', 'rnn', '--radius', '2.5', '--clip', 'norm:0.5', '--lr', '2', '--optim', 'sgd', '--steps', '300', '--seq-len', '30');
    assert.deepEqual(d.setup.clipping, { on: true, mode: 'norm', threshold: 0.5, source: 'log' });
    const ids = hintIds(d);
    assert.ok(!ids.includes('add-norm-clipping') && !ids.includes('raise-clip-threshold'), ids.join(', '));
    assert.ok(d.findings.some((f) => f.kind === 'divergence' || f.kind === 'loss-trend'), describe_(d.findings));
    assert.match(d.findings.find((f) => f.kind === 'clipping')!.message, /max_norm 0\.5, .*hides an unstable run/);
  });
});
