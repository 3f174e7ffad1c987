import { clipGradNorm, clipGradValue, gradientNorms } from './clip';
import { Graph } from './graph';
import { gemmPlain, type Gemm } from './kernels/gemm';
import { createPlainTranscendentals, type Transcendentals } from './kernels/transcendentals';
import { createWasmGemm, wasmSimdAvailable } from './kernels/wasm-gemm';
import { createWasmTranscendentals, wasmTranscendentalsAvailable } from './kernels/wasm-transcendentals';
import { spectralReading } from './instruments';
import type { InitName } from './init';
import { createModel, type Model, type ModelSpec } from './models';
import { Mlp } from './nn/mlp';
import type { Nonlinearity } from './nn/recurrent';
import { lossOf } from './ops/loss';
import type { RecurrentLayer } from './ops/recurrent';
import { createOptimizer, type Optimizer, type OptimizerName } from './optim';
import { Random } from './random';
import type { StepRecord } from './record';
import { createTask, type Task, type TaskName } from './tasks';
import { type DType, squaredNorm, Tensor } from './tensor';

export const MODEL_KINDS = ['rnn', 'lstm', 'gru', 'mlp'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export type ClipSpec = { mode: 'none' } | { mode: 'norm'; maxNorm: number } | { mode: 'value'; value: number };

export interface TrainConfig {
  model: ModelKind;
  inputSize: number;
  hiddenSize: number;
  /** Recurrent layers, or the depth (number of linear layers) of an MLP. */
  layers: number;
  seqLen: number;
  batch: number;
  task: TaskName;
  init: InitName;
  /** Recurrent nets: spectral radius of W_hh. MLPs: per-layer gain. */
  radius?: number;
  nonlinearity?: Nonlinearity;
  /** MLPs: residual connections around the hidden layers. */
  residual?: boolean;
  /** Recurrent nets: spectral normalisation of W_hh. */
  spectralNorm?: boolean;
  optimizer: OptimizerName;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  clip: ClipSpec;
  /** Truncated BPTT: detach the hidden state every k steps (0 = full BPTT). */
  tbptt: number;
  steps: number;
  seed: number;
  dtype: DType;
  /** Stop after the first step whose gradient norm is above this (or not finite). */
  stopAboveNorm?: number;
  /** Spectral readings and the backward profile every this many steps (0 = never). */
  instrumentEvery: number;
  /** Matrix kernel: WebAssembly SIMD for float32 when the runtime has it, else plain TypeScript. */
  kernel?: 'auto' | 'plain';
  /** Sigmoid and tanh: WebAssembly SIMD when the runtime has it, else Math.exp and Math.tanh; the same bits either way. */
  transcendentals?: 'auto' | 'plain';
}

export const DEFAULT_CONFIG: TrainConfig = {
  model: 'rnn', inputSize: 4, hiddenSize: 32, layers: 1, seqLen: 50, batch: 16, task: 'memory', init: 'default',
  optimizer: 'sgd', lr: 0.01, clip: { mode: 'none' }, tbptt: 0, steps: 200, seed: 0, dtype: 'float32', instrumentEvery: 10,
};

export function chooseGemm(dtype: DType, kernel: TrainConfig['kernel'] = 'auto'): Gemm {
  return dtype === 'float32' && kernel === 'auto' && wasmSimdAvailable() ? createWasmGemm() : gemmPlain;
}

export function chooseTranscendentals(kernel: TrainConfig['transcendentals'] = 'auto'): Transcendentals {
  return kernel === 'auto' && wasmTranscendentalsAvailable() ? createWasmTranscendentals() : createPlainTranscendentals();
}

/**
 * One training run: the graph is built once and replayed every step, so a
 * step allocates nothing but its record. NaN and infinities flow through and
 * are recorded; nothing throws on them.
 */
export class Trainer {
  readonly model: Model;
  readonly task: Task;
  readonly parameterNames: string[];
  private readonly params: Tensor[];
  private readonly graph: Graph;
  private readonly input: Tensor;
  private readonly target: Tensor;
  private readonly loss: Tensor;
  private readonly recurrent: RecurrentLayer[];
  private readonly carried: Array<{ h: Tensor; c?: Tensor }>;
  private readonly optimizer: Optimizer;
  private readonly gradNorms: Float64Array;
  private stepIndex = 0;

  constructor(readonly config: TrainConfig) {
    validateConfig(config);
    const rng = new Random(config.seed);
    const dataRng = new Random(config.seed + 0x9e3779b9);
    const { dtype } = config;
    this.task = createTask(config.task, { batch: config.batch, seqLen: config.seqLen, inputSize: config.inputSize }, dataRng);
    const task = this.task;
    if (config.model === 'mlp' && task.vocabSize) throw new Error(`task ${task.name} feeds token ids and needs a recurrent model`);
    const spec: ModelSpec =
      config.model === 'mlp'
        ? {
            kind: 'mlp',
            layers: Mlp.stack(config.seqLen * task.inputSize, config.hiddenSize, config.layers, task.outputSize, mlpActivation(config.nonlinearity)),
            residual: config.residual,
          }
        : {
            kind: config.model, inputSize: task.inputSize, hiddenSize: config.hiddenSize, numLayers: config.layers, nonlinearity: config.nonlinearity,
            outputSize: task.outputSize, output: task.output, vocabSize: task.vocabSize, spectralNorm: config.spectralNorm,
          };
    this.model = createModel(dtype, spec, rng, { scheme: config.init, radius: config.radius });
    const named = this.model.parameters();
    this.parameterNames = named.map(([n]) => n);
    this.params = named.map(([, t]) => t);
    this.gradNorms = new Float64Array(this.params.length);
    this.optimizer = createOptimizer(config.optimizer, named, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });

    this.graph = new Graph(dtype, chooseGemm(dtype, config.kernel), chooseTranscendentals(config.transcendentals));
    const inputShape = config.model === 'mlp' ? [config.batch, config.seqLen * task.inputSize] : task.inputShape;
    this.input = Tensor.zeros(dtype, inputShape, false, 'input');
    this.target = Tensor.zeros(dtype, task.targetShape, false, 'target');
    this.carried = task.stateful
      ? Array.from({ length: config.layers }, () => ({
          h: Tensor.zeros(dtype, [config.batch, config.hiddenSize]),
          c: config.model === 'lstm' ? Tensor.zeros(dtype, [config.batch, config.hiddenSize]) : undefined,
        }))
      : [];
    const forward = this.model.forward(this.graph, this.input, { initial: task.stateful ? this.carried : undefined, detachEvery: config.tbptt });
    this.recurrent = forward.recurrent;
    this.loss = lossOf(this.graph, task.loss, forward.prediction, this.target);
  }

  get stepsDone(): number {
    return this.stepIndex;
  }

  /** Runs one optimisation step on a fresh batch and returns its record. */
  step(): StepRecord {
    const { config } = this;
    if (this.task.stateful && this.stepIndex > 0) {
      // Carry the final states into this batch as constants: the detach of truncated BPTT.
      this.recurrent.forEach((layer, l) => layer.finalState(this.carried[l].h.data, this.carried[l].c?.data));
    }
    this.task.fill(this.input.data, this.target.data);
    this.graph.forward();
    this.optimizer.zeroGrad();
    this.graph.backward(this.loss);

    const total = gradientNorms(this.params, this.gradNorms);
    const layers: Record<string, number> = {};
    const nonfinite: string[] = [];
    this.parameterNames.forEach((name, k) => {
      layers[name] = this.gradNorms[k];
      if (!Number.isFinite(this.gradNorms[k])) nonfinite.push(name);
    });
    const instrumented = config.instrumentEvery > 0 && this.stepIndex % config.instrumentEvery === 0;
    const profile = instrumented ? this.hiddenGradientProfile() : undefined;

    let clipped = false;
    if (config.clip.mode === 'norm') {
      clipGradNorm(this.params, config.clip.maxNorm, total);
      clipped = !(total <= config.clip.maxNorm);
    } else if (config.clip.mode === 'value') {
      const bound = config.clip.value;
      clipped = this.params.some((p) => p.grad!.some((v) => !(Math.abs(v) <= bound)));
      clipGradValue(this.params, bound);
    }
    this.optimizer.step();

    const weightNorms: Record<string, number> = {};
    this.parameterNames.forEach((name, k) => (weightNorms[name] = Math.sqrt(squaredNorm(this.params[k].data))));
    const record: StepRecord = {
      step: this.stepIndex,
      loss: this.loss.data[0],
      grad_norm: total,
      lr: this.optimizer.lr,
      clipped,
      ...(config.clip.mode === 'norm' ? { max_norm: config.clip.maxNorm } : {}),
      ...(config.clip.mode === 'value' ? { clip_value: config.clip.value } : {}),
      layers,
      weight_norms: weightNorms,
      nonfinite,
    };
    if (instrumented) {
      record.spectral = Object.fromEntries(this.model.recurrentWeights().map((w) => [w.name, spectralReading(w)]));
      record.hidden_grad_norms = profile;
    }
    this.stepIndex++;
    return record;
  }

  private hiddenGradientProfile(): Record<string, number[]> | undefined {
    if (this.recurrent.length === 0) return undefined;
    return Object.fromEntries(this.recurrent.map((layer, l) => [`rnn.l${l}`, Array.from(layer.hiddenGradNorms)]));
  }
}

function mlpActivation(n: Nonlinearity | undefined): 'tanh' | 'relu' | 'identity' {
  return n === 'linear' ? 'identity' : (n ?? 'relu');
}

const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/** Checks a configuration, naming the field and what it accepts. */
export function validateConfig(c: TrainConfig): void {
  const bad = (field: string, accepts: string, got: unknown): never => {
    throw new Error(`${field} must be ${accepts} (got ${String(got)})`);
  };
  for (const field of ['inputSize', 'hiddenSize', 'layers', 'seqLen', 'batch'] as const) if (!positiveInt(c[field])) bad(field, 'a whole number ≥ 1', c[field]);
  if (!(Number.isInteger(c.steps) && c.steps >= 0)) bad('steps', 'a whole number ≥ 0', c.steps);
  if (!(Number.isInteger(c.tbptt) && c.tbptt >= 0)) bad('tbptt', 'a whole number ≥ 0', c.tbptt);
  if (!(c.lr > 0 && Number.isFinite(c.lr))) bad('lr', 'a positive number', c.lr);
  if (c.radius !== undefined && !(c.radius > 0 && Number.isFinite(c.radius))) bad('radius', 'a positive number', c.radius);
  if (c.clip.mode === 'norm' && !(c.clip.maxNorm > 0)) bad('clip', 'norm:X with X > 0', c.clip.maxNorm);
  if (c.clip.mode === 'value' && !(c.clip.value > 0)) bad('clip', 'value:X with X > 0', c.clip.value);
  if (c.model === 'mlp' && c.tbptt > 0) bad('tbptt', '0 for an MLP (it has no time steps)', c.tbptt);
  if (c.model === 'mlp' && c.spectralNorm) bad('spectralNorm', 'off for an MLP (it has no recurrent weight)', c.spectralNorm);
  // The task checks its own constraints (fixed input sizes, minimum lengths).
  createTask(c.task, { batch: c.batch, seqLen: c.seqLen, inputSize: c.inputSize }, new Random(0));
}
