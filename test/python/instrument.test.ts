import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import { parsePythonJson } from '../../src/logs/formats/python-json';
import { openRuns } from '../../src/logs/open';
import { PYTHON, pythonWithoutTorch } from './interpreters';

/**
 * The zero-code instrumentation (media/gradlens_instrument.py, loaded by
 * media/gradlens_site/sitecustomize.py), run for real on unmodified training
 * scripts (test/python/instrument/train_shapes.py) under Debian's PyTorch.
 * Each script also computes its own gradient norms (float64, before
 * clipping) into a "truth" file, in the same run: the log must agree with it,
 * and the training must give the same numbers with and without GradLens.
 */
const ROOT = path.join(__dirname, '../..');
const SITE = path.join(ROOT, 'media/gradlens_site');
const SHAPES = path.join(ROOT, 'test/python/instrument/train_shapes.py');
const RNN = ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias'];

interface StepRecord {
  step: number;
  loss?: number;
  grad_norm?: number;
  lr?: number;
  lr_groups?: number[];
  clipped?: boolean;
  max_norm?: number;
  clip_value?: number;
  loss_scale?: number;
  skipped?: number;
  layers: Record<string, number>;
  weight_norms?: Record<string, number>;
  update_ratios?: Record<string, number>;
  nonfinite: string[];
}

interface TruthLine {
  step: number;
  loss: number;
  layers: Record<string, number>;
  nonfinite: string[];
  lr?: number;
  lr_groups?: number[];
  loss_scale?: number;
  after_step?: number;
  weight_norms?: Record<string, number>;
  update_ratios?: Record<string, number>;
}

interface Summary {
  losses: string[];
  digest: string;
  names: string[];
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  out: string;
  truth: string;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-instrument-'));
let runs = 0;

/** Runs a shape, instrumented unless `env` is null; extra GRADLENS_* settings in env. */
function run(shape: string, options: { env?: Record<string, string> | null; steps?: number; python?: string; pythonPath?: string } = {}): Ran {
  const id = `${shape}-${runs++}`;
  const out = path.join(dir, `${id}.jsonl`);
  const truth = path.join(dir, `${id}.truth{rank}.jsonl`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PYTHONPATH;
  if (options.env !== null) Object.assign(env, { PYTHONPATH: options.pythonPath ?? SITE, GRADLENS_OUT: out, ...options.env });
  const result = spawnSync(options.python ?? PYTHON, [SHAPES, shape, '--steps', String(options.steps ?? 20), '--truth', truth], { encoding: 'utf8', env, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, out, truth: truth.replace('{rank}', '') };
}

function lines<T>(file: string): T[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file}: the last line is complete`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => parsePythonJson(line) as T);
}

function summary(ran: Ran): Summary {
  assert.equal(ran.status, 0, ran.stderr);
  return JSON.parse(ran.stdout.trim().split('\n').at(-1)!) as Summary;
}

function close(actual: number, expected: number, what: string, tolerance = 1e-6): void {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) {
    assert.ok(Object.is(actual, expected), `${what}: ${actual} vs ${expected}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(Math.abs(expected), 1e-12), `${what}: ${actual} vs ${expected}`);
}

/** The log against the script's own measurements: one record per optimizer step, every norm to 1e-6. */
function assertMatchesTruth(records: StepRecord[], truth: TruthLine[], names: string[], sameLoss = true): void {
  const steps = truth.filter((t) => t.after_step === undefined);
  assert.deepEqual(
    records.map((r) => r.step),
    steps.map((t) => t.step),
  );
  for (const [i, record] of records.entries()) {
    const expected = steps[i];
    assert.deepEqual(Object.keys(record.layers), names, `step ${record.step}: parameter names`);
    for (const name of names) close(record.layers[name], expected.layers[name], `step ${record.step} ${name}`);
    close(record.grad_norm!, Math.hypot(...Object.values(expected.layers)), `step ${record.step} grad_norm`);
    if (sameLoss) close(record.loss!, expected.loss, `step ${record.step} loss`, 1e-12);
    assert.deepEqual(record.nonfinite, expected.nonfinite, `step ${record.step} nonfinite`);
  }
}

describe('zero-code instrumentation (media/gradlens_instrument.py)', function () {
  this.timeout(240_000);

  before(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    assert.equal(probe.status, 0, `${PYTHON} cannot import torch (install python3-torch): ${probe.stderr}`);
  });

  /** Runs a shape with and without GradLens: the same losses and final weights, bit for bit. */
  function instrumentedAndPlain(shape: string, env: Record<string, string> = {}): { ran: Ran; records: StepRecord[]; truth: TruthLine[]; names: string[] } {
    const plain = summary(run(shape, { env: null }));
    const ran = run(shape, { env });
    const instrumented = summary(ran);
    assert.deepEqual(instrumented.losses, plain.losses, `${shape}: the losses differ with GradLens`);
    assert.equal(instrumented.digest, plain.digest, `${shape}: the final weights differ with GradLens`);
    assert.match(ran.stderr, new RegExp(`\\[gradlens\\] logging the gradients of ${plain.names.length} parameters to ${ran.out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(ran.stderr, /\[gradlens\] \d+ steps logged to /);
    return { ran, records: lines<StepRecord>(ran.out), truth: lines<TruthLine>(ran.truth), names: plain.names };
  }

  it('a plain loop: one line per optimizer.step(), the norms of every parameter by name, weight norms and update ratios every N steps', () => {
    const { records, truth, names } = instrumentedAndPlain('plain', { GRADLENS_WEIGHTS_EVERY: '5' });
    assert.deepEqual(names, ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias']);
    assertMatchesTruth(records, truth, names);
    for (const record of records) {
      assert.equal(record.lr, 0.01);
      assert.ok(!('clipped' in record) && !('max_norm' in record) && !('loss_scale' in record), `step ${record.step}: nothing about clipping or AMP`);
      const after = truth.find((t) => t.after_step === record.step)!;
      if (record.step % 5 !== 0) {
        assert.ok(!record.weight_norms && !record.update_ratios, `step ${record.step}`);
        continue;
      }
      for (const name of names) {
        close(record.weight_norms![name], after.weight_norms![name], `step ${record.step} ‖${name}‖`);
        close(record.update_ratios![name], after.update_ratios![name], `step ${record.step} update ratio of ${name}`, 1e-5);
      }
    }
  });

  it('clip_grad_norm_ (imported by name, max_norm as a keyword): the norms before clipping, max_norm, whether it bit, the LR schedule', () => {
    const { records, truth, names } = instrumentedAndPlain('clip');
    assertMatchesTruth(records, truth, names);
    for (const [i, record] of records.entries()) {
      assert.equal(record.max_norm, 1);
      assert.equal(record.clipped, record.grad_norm! > 1, `step ${record.step}`);
      assert.equal(record.lr, truth[i].lr);
    }
    assert.ok(records.some((r) => r.clipped) && records.some((r) => r.grad_norm! > 10), 'the run clips large norms');
    assert.deepEqual([...new Set(records.map((r) => r.lr))], [0.05, 0.025]);
  });

  it('clip_grad_value_: clip_value and whether any gradient element was beyond it', () => {
    const { records, truth, names } = instrumentedAndPlain('value');
    assertMatchesTruth(records, truth, names);
    for (const record of records) {
      assert.equal(record.clip_value, 0.05);
      assert.ok(!('max_norm' in record));
    }
    assert.ok(records.some((r) => r.clipped));
  });

  it('an exploding RNN: the first non-finite parameter is named, and the diagnosis of the log finds the explosion and the NaN where they happened', async () => {
    const { ran, records, truth, names } = instrumentedAndPlain('explode');
    assertMatchesTruth(records, truth, names);
    const firstNonFinite = truth.find((t) => t.nonfinite.length > 0) ?? assert.fail('the script never went non-finite');
    assert.ok(firstNonFinite.nonfinite.includes('rnn.weight_hh_l0'), firstNonFinite.nonfinite.join(', '));
    const [logged] = records.filter((r) => r.nonfinite.length > 0);
    assert.deepEqual(logged.nonfinite, firstNonFinite.nonfinite);

    const [run, ...more] = await openRuns(ran.out);
    assert.equal(more.length, 0);
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(
      run.series.filter((s) => s.role === 'paramGradNorm').map((s) => s.param),
      RNN,
    );
    const findings = diagnose(run).findings;
    const nonfinite = findings.find((f) => f.kind === 'nonfinite') ?? assert.fail(findings.map((f) => f.kind).join(', '));
    assert.equal(nonfinite.step, firstNonFinite.step);
    assert.ok(nonfinite.layers.includes('rnn.weight_hh_l0'), nonfinite.layers.join(', '));
    const explosion = findings.find((f) => f.kind === 'explosion') ?? assert.fail(findings.map((f) => f.kind).join(', '));
    assert.ok(explosion.step < firstNonFinite.step, `explosion at ${explosion.step}, NaN at ${firstNonFinite.step}`);
  });

  it('a GradScaler loop (unscale_, clip, step, update): unscaled norms and loss, the loss scale, the skipped step and its overflowing parameter', () => {
    const { records, truth, names } = instrumentedAndPlain('amp');
    assertMatchesTruth(records, truth, names);
    assert.deepEqual(
      records.map((r) => r.loss_scale),
      truth.map((t) => t.loss_scale),
    );
    assert.deepEqual(
      records.map((r) => r.loss_scale),
      [1024, 1024, 1024, 1024, ...Array<number>(16).fill(512)],
    );
    assert.deepEqual(
      records.map((r) => r.skipped),
      [0, 0, 0, 1, ...Array<number>(16).fill(1)],
    );
    assert.deepEqual(records[3].nonfinite, ['head.weight']);
    assert.ok(records.every((r) => r.grad_norm! < 100 || !Number.isFinite(r.grad_norm)), 'no norm carries the loss scale');
  });

  it('a Lightning-shaped Trainer (closure steps, gradient accumulation, gradient_clip_val, a wrapper module): one line per optimizer step, names as the LightningModule gives them', () => {
    const { records, truth, names } = instrumentedAndPlain('lightning');
    assert.ok(names.every((n) => !n.startsWith('_forward_module')) && names.includes('encoder.weight_hh_l0') && names.includes('decoder.2.bias'), names.join(', '));
    assertMatchesTruth(records, truth, names);
    assert.equal(records.length, 20, '40 batches accumulated two by two');
    assert.ok(records.every((r) => r.max_norm === 0.5));
    // LambdaLR warm-up over 4 steps from 3e-3.
    for (const [i, lr] of [0.00075, 0.0015, 0.00225, 0.003, 0.003].entries()) close(records[i].lr!, lr, `step ${i} lr`, 1e-12);
  });

  it('a Hugging Face-shaped Trainer (AcceleratedOptimizer, decay and no-decay groups, warm-up, max_grad_norm, accumulation): names, the loss of the accumulated batches, the LR of each group', () => {
    const { records, truth, names } = instrumentedAndPlain('hf');
    assert.ok(names.includes('embeddings.LayerNorm.weight') && names.includes('encoder.layer.1.0.weight'), names.join(', '));
    // The optimizer's order (decay group first), each parameter by its model name.
    const decayFirst = [...names.filter((n) => !(n.endsWith('bias') || n.includes('LayerNorm') || n.includes('.2.'))), ...names.filter((n) => n.endsWith('bias') || n.includes('LayerNorm') || n.includes('.2.'))];
    assertMatchesTruth(records, truth, decayFirst);
    for (const [i, record] of records.entries()) {
      assert.deepEqual(record.lr_groups, truth[i].lr_groups);
      assert.equal(record.lr, truth[i].lr_groups![0]);
      assert.equal(record.max_norm, 1);
    }
  });

  it('DistributedDataParallel on two gloo ranks: rank 0 writes, names without "module."; with GRADLENS_RANKS=all each rank writes its own file', () => {
    const ran = run('ddp', { steps: 6 });
    assert.equal(ran.status, 0, ran.stderr);
    const records = lines<StepRecord>(ran.out);
    assertMatchesTruth(records, lines<TruthLine>(ran.truth.replace('.truth', '.truth0')), RNN);
    // After the all-reduce rank 1 holds the same gradients (its loss is of its own batch).
    assertMatchesTruth(records, lines<TruthLine>(ran.truth.replace('.truth', '.truth1')), RNN, false);
    assert.equal((ran.stderr.match(/logging the gradients/g) ?? []).length, 1, ran.stderr);

    const all = run('ddp', { steps: 3, env: { GRADLENS_RANKS: 'all' } });
    assert.equal(all.status, 0, all.stderr);
    assert.ok(!existsSync(all.out));
    for (const rank of [0, 1]) {
      const records = lines<StepRecord>(all.out.replace(/\.jsonl$/, `.rank${rank}.jsonl`));
      assertMatchesTruth(records, lines<TruthLine>(all.truth.replace('.truth', `.truth${rank}`)), RNN);
    }
  });

  it('logs every n-th step with GRADLENS_EVERY', () => {
    const ran = run('plain', { steps: 10, env: { GRADLENS_EVERY: '3' } });
    summary(ran);
    assert.deepEqual(
      lines<StepRecord>(ran.out).map((r) => r.step),
      [0, 3, 6, 9],
    );
    assert.match(ran.stderr, /every 3 steps/);
  });

  it('a script that crashes keeps its exit code and traceback, and what was logged stays readable', async () => {
    const ran = run('crash');
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, /RuntimeError: the data loader failed at step 5/);
    assert.match(ran.stderr, /\[gradlens\] 5 steps logged to /);
    const [logged] = await openRuns(ran.out);
    assert.deepEqual(logged.warnings, []);
    assert.equal(logged.series.find((s) => s.role === 'gradNorm')!.steps.length, 5);
  });

  it('a script that never steps an optimizer, or exits at once, is told so and leaves no file', () => {
    const nostep = run('nostep');
    assert.equal(nostep.status, 0);
    assert.match(nostep.stderr, /\[gradlens\] nothing logged: no torch\.optim optimizer stepped in this process/);
    assert.ok(!existsSync(nostep.out));
    const exit = run('exit');
    assert.equal(exit.status, 3);
    assert.ok(!existsSync(exit.out));
  });

  it('runs the sitecustomize it hides, and an interpreter without torch runs the script untouched', () => {
    const user = path.join(dir, 'user-site');
    mkdirSync(user);
    writeFileSync(path.join(user, 'sitecustomize.py'), 'import sys\nsys.stderr.write("user sitecustomize ran\\n")\n');
    const chained = run('exit', { pythonPath: `${SITE}${path.delimiter}${user}` });
    assert.equal(chained.status, 3);
    assert.match(chained.stderr, /user sitecustomize ran/);

    const bare = run('plain', { python: pythonWithoutTorch(dir) });
    assert.equal(bare.status, 1);
    assert.match(bare.stderr, /ModuleNotFoundError: No module named 'torch'/);
    assert.doesNotMatch(bare.stderr, /\[gradlens\] cannot/);
    assert.ok(!existsSync(bare.out));
  });
});

