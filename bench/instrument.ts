/**
 * `npm run bench:instrument`: what GradLens's zero-code instrumentation
 * (`gradlens run`) costs a training step, on Debian's PyTorch on the CPU (one
 * thread), for a small LSTM and an MLP (bench/instrument_train.py). Writes the
 * section "Zero-code instrumentation" of BENCHMARKS.md.
 *
 * Options: --blocks=N (pairs of blocks per run, default 30), --block-steps=N
 * (steps per block, default 10), --no-write (print only).
 *
 * The script times, in one process, blocks of steps made through the hooks
 * and blocks of the same steps made straight to PyTorch's functions, in ABBA
 * order: the machine is shared, and only a comparison under the same load
 * means anything. The overhead is the median over the pairs of blocks of
 * hooked / plain. The same script without the bootstrap, where both kinds of
 * block are the same calls, gives the noise floor. Nothing asserts on a time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../src/diagnosis/stats';
import { bootstrapSite, instrumentedEnv } from '../src/instrument/launch';
import { cpuModel, writeSection } from './report';

const PYTHON = '/usr/bin/python3'; // Debian's python3-torch is installed for the system interpreter only
const SCRIPT = path.join(__dirname, 'instrument_train.py');
const SECTION = 'Zero-code instrumentation';
const MODELS = ['lstm', 'mlp'] as const;

interface Config {
  name: string;
  /** GRADLENS_* settings; undefined: the script without the bootstrap. */
  settings?: { every: number; weightsEvery: number };
}

const CONFIGS: readonly Config[] = [
  { name: 'without the bootstrap (the noise floor: both kinds of block are the same calls)' },
  { name: 'norms: `--every 1 --weights-every 0` (per-parameter gradient norms, loss, lr, clipping, every step)', settings: { every: 1, weightsEvery: 0 } },
  { name: 'norms every 10th step: `--every 10 --weights-every 0`', settings: { every: 10, weightsEvery: 0 } },
  { name: '`gradlens run` as it comes: norms every step, weight norms and update ratios every 100th', settings: { every: 1, weightsEvery: 100 } },
  { name: 'weight norms too, every step: `--every 1 --weights-every 1`', settings: { every: 1, weightsEvery: 1 } },
];

interface Measured {
  plainMs: number;
  ratio: number;
}

function measure(model: string, config: Config, blocks: number, blockSteps: number, dir: string): Measured {
  const out = path.join(dir, `${model}.jsonl`);
  rmSync(out, { force: true });
  const base = { ...process.env };
  delete base.PYTHONPATH;
  const env = config.settings ? instrumentedEnv(base, bootstrapSite(), out, config.settings) : base;
  const result = spawnSync(PYTHON, [SCRIPT, model, '--blocks', String(blocks), '--block-steps', String(blockSteps)], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${model} (${config.name}): exit ${result.status}: ${result.stderr}`);
  const times = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { plain: number[]; hooked: number[] };
  return { plainMs: 1000 * median(times.plain)!, ratio: median(times.hooked.map((hooked, i) => hooked / times.plain[i]))! };
}

function main(): void {
  const { values } = parseArgs({ options: { blocks: { type: 'string', default: '30' }, 'block-steps': { type: 'string', default: '10' }, 'no-write': { type: 'boolean', default: false } } });
  const blocks = Math.max(2, Number.parseInt(values.blocks, 10) || 30);
  const blockSteps = Math.max(1, Number.parseInt(values['block-steps'], 10) || 10);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-bench-instrument-'));
  const results = CONFIGS.map((config) =>
    MODELS.map((model) => {
      process.stderr.write(`${model}: ${config.name}\n`);
      return measure(model, config, blocks, blockSteps, dir);
    }),
  );
  rmSync(dir, { recursive: true, force: true });

  const percent = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${Math.abs(100 * (ratio - 1)).toFixed(1)}%`;
  const torchVersion = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  const plainMs = MODELS.map((_, m) => median(results.map((row) => row[m].plainMs))!);
  const text = [
    `\`npm run bench:instrument\` (${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, ${os.cpus().length} cores shared with other work, PyTorch ${torchVersion} from Debian, one thread): ` +
      'the CPU time a training step of `bench/instrument_train.py` (forward, loss, backward, `clip_grad_norm_`, SGD with momentum) gains under `gradlens run`. ' +
      `The LSTM: 16 inputs, 128 hidden, 50 time steps, batch 32, 6 parameters (a step takes about ${plainMs[0].toFixed(1)} ms here); the MLP: 784-512-512-10, batch 128, 6 parameters, 2.7 MB of gradients (about ${plainMs[1].toFixed(1)} ms).`,
    '',
    '| under `gradlens run` | LSTM | MLP |',
    '| --- | --- | --- |',
    ...CONFIGS.map((config, c) => `| ${config.name} | ${results[c].map((r) => percent(r.ratio)).join(' | ')} |`),
    '',
    `Each run times, in one process, ${blocks} pairs of blocks of ${blockSteps} steps: steps made as any script makes them (through the bootstrap's hooks) and the same steps made straight to PyTorch's functions (which the hooks name in \`__wrapped__\`), in ABBA order; ` +
      'the figure is the median over the pairs of hooked / plain CPU time. One process and CPU time because the machine is shared: only a comparison under the same load means anything, and the first row shows how far the load moves even identical blocks. ' +
      'The goal for the norms at `--every 1` is under 5%. What they cost is one more read of every gradient per logged step (the pass `clip_grad_norm_` makes too) and some Python per step; ' +
      'a step that does little arithmetic per byte of gradient (the MLP) feels it most, and `--every N` divides it by N.',
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (!values['no-write']) {
    writeSection(SECTION, text);
    process.stderr.write(`wrote the section "${SECTION}" of BENCHMARKS.md\n`);
  }
}

main();
