import { clipGradNorm, gradientNorms } from './clip';
import { Graph } from './graph';
import { gemmPlain } from './kernels/gemm';
import { createModel, type ModelSpec } from './models';
import type { MlpLayer } from './nn/mlp';
import { lossOf, type LossKind } from './ops/loss';
import { createOptimizer, type OptimizerName } from './optim';
import { Random } from './random';
import { type DType, Tensor } from './tensor';

/**
 * The `gradlens-reference-v1` format: cases computed by PyTorch in float64,
 * each with a model, its parameters, an input and a target, and the expected
 * loss, gradients, clipped gradients and parameters after one optimiser step.
 */
export interface ArrayValue {
  shape: number[];
  data: number[];
}
export type ParameterValues = Record<string, ArrayValue>;

export interface ReferenceCase {
  name: string;
  model: Record<string, unknown>;
  input: ArrayValue;
  target: ArrayValue;
  params: ParameterValues;
  loss?: number;
  grad_norm?: number;
  grads?: ParameterValues;
  'clip_grad_norm_0.5'?: ParameterValues;
  'sgd_lr0.1_after_clip'?: ParameterValues;
  'adam_lr0.01_step1_after_clip'?: ParameterValues;
}

export interface ReferenceFile {
  format: 'gradlens-reference-v1';
  cases: ReferenceCase[];
}

export interface ComputedCase {
  name: string;
  loss: number;
  grad_norm: number;
  grads: Record<string, number[]>;
  'clip_grad_norm_0.5': Record<string, number[]>;
  'sgd_lr0.1_after_clip': Record<string, number[]>;
  'adam_lr0.01_step1_after_clip': Record<string, number[]>;
}

const CLIP = 0.5;

function fail(where: string, what: string): never {
  throw new Error(`reference file: ${where}: ${what}`);
}

function isArrayValue(v: unknown): v is ArrayValue {
  const a = v as ArrayValue;
  return typeof a === 'object' && a !== null && Array.isArray(a.shape) && Array.isArray(a.data) && a.data.length === a.shape.reduce((x, y) => x * y, 1);
}

/** Validates the parsed JSON of a reference file, naming the first thing that is wrong. */
export function parseReferenceFile(json: unknown): ReferenceFile {
  const file = json as ReferenceFile;
  if (typeof file !== 'object' || file === null || file.format !== 'gradlens-reference-v1') fail('top level', 'expected "format": "gradlens-reference-v1"');
  if (!Array.isArray(file.cases) || file.cases.length === 0) fail('top level', 'expected a non-empty "cases" array');
  file.cases.forEach((c, i) => {
    const where = `case ${i} (${c?.name ?? 'unnamed'})`;
    if (typeof c.name !== 'string') fail(where, 'missing "name"');
    if (typeof c.model !== 'object' || c.model === null) fail(where, 'missing "model"');
    for (const key of ['input', 'target'] as const) if (!isArrayValue(c[key])) fail(where, `"${key}" must be {"shape": [...], "data": [...]} with matching sizes`);
    if (typeof c.params !== 'object' || c.params === null) fail(where, 'missing "params"');
    for (const [name, v] of Object.entries(c.params)) if (!isArrayValue(v)) fail(where, `parameter ${name} must be {"shape", "data"} with matching sizes`);
  });
  return file;
}

function modelSpecOf(c: ReferenceCase): { spec: ModelSpec; loss: LossKind } {
  const m = c.model;
  const loss = m.loss as LossKind;
  if (!['mse', 'bce_with_logits', 'cross_entropy'].includes(loss)) fail(c.name, `unknown loss ${String(m.loss)}`);
  if (m.kind === 'mlp') {
    const layers = m.layers as MlpLayer[];
    if (!Array.isArray(layers)) fail(c.name, 'an mlp model needs "layers"');
    return { spec: { kind: 'mlp', layers }, loss };
  }
  if (m.kind !== 'rnn' && m.kind !== 'lstm' && m.kind !== 'gru') fail(c.name, `unknown model kind ${String(m.kind)}`);
  const num = (key: string): number => {
    const v = m[key];
    if (typeof v !== 'number') fail(c.name, `model needs a number "${key}"`);
    return v;
  };
  return {
    spec: {
      kind: m.kind,
      inputSize: num('input_size'),
      hiddenSize: num('hidden_size'),
      numLayers: num('num_layers'),
      nonlinearity: m.nonlinearity === 'relu' ? 'relu' : 'tanh',
      outputSize: num('head_out'),
      output: 'last',
    },
    loss,
  };
}

function snapshot(params: ReadonlyArray<readonly [string, Tensor]>, of: 'data' | 'grad'): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of params) out[name] = Array.from(of === 'grad' ? t.grad! : t.data);
  return out;
}

/**
 * Recomputes one case: loss and gradients, gradients after clip_grad_norm_(0.5),
 * and the parameters after one SGD (lr 0.1) and one Adam (lr 0.01) step on the
 * clipped gradients.
 */
export function computeReferenceCase(c: ReferenceCase, dtype: DType = 'float64'): ComputedCase {
  const { spec, loss: lossKind } = modelSpecOf(c);
  /** A fresh model with the case's parameters, after backward and clip_grad_norm_. */
  const clippedModel = () => {
    const model = createModel(dtype, spec, new Random(0));
    const params = model.parameters();
    const names = params.map(([n]) => n);
    const expected = Object.keys(c.params);
    if (names.join() !== expected.join()) fail(c.name, `the model's parameters are [${names.join(', ')}] but the file has [${expected.join(', ')}]`);
    for (const [name, t] of params) {
      const v = c.params[name];
      if (v.shape.join() !== t.shape.join()) fail(c.name, `parameter ${name} has shape [${v.shape.join(', ')}], the model expects [${t.shape.join(', ')}]`);
      t.data.set(v.data);
    }
    const g = new Graph(dtype, gemmPlain);
    const input = Tensor.from(dtype, c.input.shape, c.input.data);
    const target = Tensor.from(dtype, c.target.shape, c.target.data);
    const loss = lossOf(g, lossKind, model.forward(g, input).prediction, target);
    g.backward(loss);
    const grads = snapshot(params, 'grad');
    const tensors = params.map(([, t]) => t);
    const norm = gradientNorms(tensors, new Float64Array(tensors.length));
    clipGradNorm(tensors, CLIP, norm);
    return { params, loss: loss.data[0], norm, grads, clipped: snapshot(params, 'grad') };
  };
  const stepped = (optimiser: OptimizerName, lr: number): Record<string, number[]> => {
    const { params } = clippedModel();
    createOptimizer(optimiser, params, { lr }).step();
    return snapshot(params, 'data');
  };
  const base = clippedModel();
  return {
    name: c.name,
    loss: base.loss,
    grad_norm: base.norm,
    grads: base.grads,
    'clip_grad_norm_0.5': base.clipped,
    'sgd_lr0.1_after_clip': stepped('sgd', 0.1),
    'adam_lr0.01_step1_after_clip': stepped('adam', 0.01),
  };
}

/** Largest relative error |a-b| / max(|b|, floor) over every value a case states. */
export function compareCase(expected: ReferenceCase, got: ComputedCase, floor = 1e-6): { maxRelativeError: number; where: string } {
  let worst = { maxRelativeError: 0, where: '' };
  const note = (where: string, a: number, b: number): void => {
    const err = Math.abs(a - b) / Math.max(Math.abs(b), floor);
    if (!(err <= worst.maxRelativeError)) worst = { maxRelativeError: Number.isNaN(err) ? Infinity : err, where };
  };
  if (expected.loss !== undefined) note('loss', got.loss, expected.loss);
  if (expected.grad_norm !== undefined) note('grad_norm', got.grad_norm, expected.grad_norm);
  for (const key of ['grads', 'clip_grad_norm_0.5', 'sgd_lr0.1_after_clip', 'adam_lr0.01_step1_after_clip'] as const) {
    const values = expected[key];
    if (!values) continue;
    for (const [name, v] of Object.entries(values)) {
      const mine = got[key][name];
      if (!mine) {
        worst = { maxRelativeError: Infinity, where: `${key}.${name} (missing)` };
        continue;
      }
      v.data.forEach((b, i) => note(`${key}.${name}[${i}]`, mine[i], b));
    }
  }
  return worst;
}
