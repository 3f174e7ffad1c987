import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { findPreset, PRESETS } from '../engine/presets';
import { toJsonLine, type StepRecord } from '../engine/record';
import { clipLabel, describe as describeRun, summarize } from '../engine/summary';
import { INIT_NAMES } from '../engine/init';
import { NONLINEARITIES } from '../engine/nn/recurrent';
import { OPTIMIZER_NAMES } from '../engine/optim';
import { TASK_NAMES, fixedInputSize } from '../engine/tasks';
import { DTYPES } from '../engine/tensor';
import { DEFAULT_CONFIG, MODEL_KINDS, type ClipSpec, type TrainConfig, validateConfig } from '../engine/trainer';
import { errorCode, errorMessage } from '../shared/errors';
import { startTraining } from '../worker/training-client';
import { choiceOption, numberOption, stringOption, type CommandSpec, type Parsed, UsageError } from './args';

export const trainSpec: CommandSpec = {
  name: 'train',
  summary:
    'Trains a network with GradLens’s engine and writes one JSON line per step (step, loss, grad_norm before clipping, per-parameter norms, ...). ' +
    'Without --task it learns a long-memory regression over random sequences of --input features.',
  usage: 'gradlens train [--preset NAME] [options]',
  positionals: [0, 0],
  options: [
    { name: 'preset', type: { kind: 'enum', values: PRESETS.map((p) => p.name) }, help: 'start from a named experiment; other options override it' },
    { name: 'model', type: { kind: 'enum', values: MODEL_KINDS }, help: 'architecture' },
    { name: 'input', type: { kind: 'int', min: 1 }, help: 'input features per time step' },
    { name: 'hidden', type: { kind: 'int', min: 1 }, help: 'hidden size' },
    { name: 'layers', type: { kind: 'int', min: 1 }, help: 'recurrent layers, or linear layers of an MLP' },
    { name: 'seq-len', type: { kind: 'int', min: 1 }, help: 'sequence length T' },
    { name: 'batch', type: { kind: 'int', min: 1 }, help: 'batch size' },
    { name: 'task', type: { kind: 'enum', values: TASK_NAMES }, help: 'synthetic task' },
    { name: 'init', type: { kind: 'enum', values: INIT_NAMES }, help: 'weight initialisation (default = PyTorch’s)' },
    { name: 'radius', type: { kind: 'number', positive: true }, help: 'spectral radius of W_hh (orthogonal, normal); per-layer gain for an MLP; implies --init orthogonal when --init is not given' },
    { name: 'nonlinearity', type: { kind: 'enum', values: NONLINEARITIES }, help: 'vanilla RNN / MLP activation (linear: none, RNN only)' },
    { name: 'residual', type: { kind: 'flag' }, help: 'MLP: residual connections around hidden layers' },
    { name: 'spectral-norm', type: { kind: 'flag' }, help: 'RNN/LSTM/GRU: spectral normalisation of W_hh' },
    { name: 'optim', type: { kind: 'enum', values: OPTIMIZER_NAMES }, help: 'optimiser' },
    { name: 'lr', type: { kind: 'number', positive: true }, help: 'learning rate' },
    { name: 'momentum', type: { kind: 'number' }, help: 'SGD momentum' },
    { name: 'weight-decay', type: { kind: 'number' }, help: 'weight decay (L2 for SGD/Adam, decoupled for AdamW)' },
    { name: 'clip', type: { kind: 'string', placeholder: 'none, norm:X or value:X' }, help: 'gradient clipping: none, norm:X (clip_grad_norm_) or value:X (clip_grad_value_)' },
    { name: 'tbptt', type: { kind: 'int', min: 0 }, help: 'truncated BPTT: detach the hidden state every K steps (0 = full)' },
    { name: 'steps', type: { kind: 'int', min: 0 }, help: 'training steps' },
    { name: 'seed', type: { kind: 'int', min: 0 }, help: 'random seed (same seed, same numbers)' },
    { name: 'dtype', type: { kind: 'enum', values: DTYPES }, help: 'number type' },
    { name: 'stop-above', type: { kind: 'number', positive: true }, help: 'stop after the first step whose gradient norm exceeds this or is not finite' },
    { name: 'instrument-every', type: { kind: 'int', min: 0 }, help: 'spectral readings and ‖∂L/∂h_t‖ profile every N steps (0 = off)' },
    { name: 'out', type: { kind: 'string', placeholder: 'a file path' }, help: 'write the JSON lines here instead of stdout' },
  ],
};

export function parseClip(raw: string): ClipSpec {
  if (raw === 'none') return { mode: 'none' };
  const m = /^(norm|value):(.+)$/.exec(raw);
  const x = m ? Number(m[2]) : NaN;
  if (!m || !(x > 0 && Number.isFinite(x))) throw new UsageError(`gradlens train: --clip expects none, norm:X or value:X with X > 0 (got "${raw}")`);
  return m[1] === 'norm' ? { mode: 'norm', maxNorm: x } : { mode: 'value', value: x };
}

/** The runs a `train` command line asks for: a preset's runs (or the defaults) with the options applied on top. */
export function runsFromOptions(parsed: Parsed): Array<{ id: string; config: TrainConfig }> {
  const o = parsed.options;
  const preset = findPreset(stringOption(parsed, 'preset') ?? '');
  const base = preset ? preset.runs : [{ id: 'run', config: DEFAULT_CONFIG }];
  return base.map(({ id, config }) => {
    const c: TrainConfig = { ...config };
    const num = (name: string): number | undefined => numberOption(parsed, name);
    c.model = choiceOption(parsed, 'model', MODEL_KINDS) ?? c.model;
    c.task = choiceOption(parsed, 'task', TASK_NAMES) ?? c.task;
    c.inputSize = num('input') ?? fixedInputSize(c.task) ?? c.inputSize;
    const fixed = fixedInputSize(c.task);
    if (fixed !== null && c.inputSize !== fixed) throw new UsageError(`gradlens train: --task ${c.task} has input size ${fixed} (got --input ${c.inputSize})`);
    c.hiddenSize = num('hidden') ?? c.hiddenSize;
    c.layers = num('layers') ?? c.layers;
    c.seqLen = num('seq-len') ?? c.seqLen;
    c.batch = num('batch') ?? c.batch;
    c.radius = num('radius') ?? c.radius;
    c.init = choiceOption(parsed, 'init', INIT_NAMES) ?? (o.has('radius') && c.init === 'default' ? 'orthogonal' : c.init);
    c.nonlinearity = choiceOption(parsed, 'nonlinearity', NONLINEARITIES) ?? c.nonlinearity;
    if (o.has('residual')) c.residual = true;
    if (o.has('spectral-norm')) c.spectralNorm = true;
    c.optimizer = choiceOption(parsed, 'optim', OPTIMIZER_NAMES) ?? c.optimizer;
    c.lr = num('lr') ?? c.lr;
    c.momentum = num('momentum') ?? c.momentum;
    c.weightDecay = num('weight-decay') ?? c.weightDecay;
    const clip = stringOption(parsed, 'clip');
    if (clip !== undefined) c.clip = parseClip(clip);
    c.tbptt = num('tbptt') ?? c.tbptt;
    c.steps = num('steps') ?? c.steps;
    c.seed = num('seed') ?? c.seed;
    c.dtype = choiceOption(parsed, 'dtype', DTYPES) ?? c.dtype;
    c.stopAboveNorm = num('stop-above') ?? c.stopAboveNorm;
    c.instrumentEvery = num('instrument-every') ?? c.instrumentEvery;
    try {
      validateConfig(c);
    } catch (error) {
      throw new UsageError(`gradlens train: ${errorMessage(error)}`);
    }
    return { id, config: c };
  });
}

/** The file a run writes to: FILE itself for one run, FILE with "-<id>" before its extension for several. */
export function outputPath(out: string, id: string, runs: number): string {
  if (runs === 1) return out;
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}-${id}${ext || '.jsonl'}`;
}

/** Opens the log before training starts, so a wrong path is reported at once and nothing is trained for nothing. */
function openOutput(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (error) {
    throw new UsageError(`gradlens: cannot write ${file}: ${errorCode(error) ?? errorMessage(error)}`);
  }
}

function progressBar(id: string, done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((width * done) / total) : width;
  return `\r${id} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Trains each run in the worker, streaming its records; returns the records for the summary. */
export async function trainRuns(
  runs: Array<{ id: string; config: TrainConfig }>,
  workerPath: string,
  out: string | undefined,
  stderr: NodeJS.WriteStream,
  stdout: NodeJS.WritableStream,
): Promise<Array<{ id: string; config: TrainConfig; records: StepRecord[]; file?: string; reason: string }>> {
  const results = [];
  for (const { id, config } of runs) {
    const file = out ? outputPath(out, id, runs.length) : undefined;
    const fd = file ? openOutput(file) : null;
    const records: StepRecord[] = [];
    const showProgress = stderr.isTTY === true;
    const handle = startTraining(workerPath, config, {
      onRecords(batch, total) {
        const lines = batch.map((r) => toJsonLine(fd !== null || runs.length === 1 ? r : { run: id, ...r })).join('\n') + '\n';
        if (fd !== null) writeSync(fd, lines);
        else stdout.write(lines);
        records.push(...batch);
        if (showProgress) stderr.write(progressBar(id, records.length, total));
      },
    });
    const stop = (): void => handle.cancel();
    process.once('SIGINT', stop);
    try {
      const result = await handle.done;
      if (showProgress) stderr.write('\n');
      results.push({ id, config, records, file, reason: result.reason });
    } finally {
      process.removeListener('SIGINT', stop);
      if (fd !== null) closeSync(fd);
    }
  }
  return results;
}

export async function trainCommand(parsed: Parsed, workerPath: string): Promise<number> {
  const runs = runsFromOptions(parsed);
  const out = stringOption(parsed, 'out');
  const results = await trainRuns(runs, workerPath, out, process.stderr, process.stdout);
  for (const r of results) {
    const stopped = r.reason === 'stop-rule' ? ' Stopped by the stop rule.' : r.reason === 'cancelled' ? ' Cancelled.' : '';
    process.stderr.write(`${r.id}: ${describeRun(summarize(r.records), clipLabel(r.config.clip))}${stopped}${r.file ? ` Log: ${r.file}` : ''}\n`);
  }
  return 0;
}
