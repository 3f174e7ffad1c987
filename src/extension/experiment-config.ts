/**
 * The "Custom…" experiment of Run Experiment: the choices a person makes
 * (model, initialisation, spectral radius, clipping, steps), what each input
 * accepts, and the engine configuration they make. No vscode import.
 */
import type { InitName } from '../engine/init';
import { findPreset } from '../engine/presets';
import type { ClipSpec, ModelKind, TrainConfig } from '../engine/trainer';

export const CUSTOM_MODELS: ReadonlyArray<{ model: ModelKind; detail: string }> = [
  { model: 'rnn', detail: 'Vanilla tanh RNN, H=64, T=50, memory task, SGD lr 0.05 (the setup of rnn-exploding)' },
  { model: 'lstm', detail: 'LSTM, H=32, T=100, memory task, Adam lr 0.003 (the setup of lstm-long)' },
  { model: 'gru', detail: 'GRU, H=32, T=100, memory task, Adam lr 0.003' },
  { model: 'mlp', detail: '24-layer ReLU MLP without residual connections, SGD lr 0.01 (the setup of deep-mlp)' },
];

export const CUSTOM_INITS: ReadonlyArray<{ init: InitName; detail: string }> = [
  { init: 'orthogonal', detail: 'Orthogonal W_hh scaled to the spectral radius (exactly), Xavier input weights, zero biases' },
  { init: 'normal', detail: 'Gaussian weights, std = radius/√H: spectral radius about the given value' },
  { init: 'default', detail: "PyTorch's default: U(±1/√H) for recurrent layers, U(±1/√fan_in) for linear ones" },
  { init: 'xavier', detail: 'Xavier (Glorot) uniform' },
  { init: 'zeros', detail: 'All weights zero: nothing to learn from (a control)' },
];

export const CLIP_MODES: ReadonlyArray<{ mode: ClipSpec['mode']; detail: string }> = [
  { mode: 'none', detail: 'No clipping' },
  { mode: 'norm', detail: 'clip_grad_norm_: rescale the whole gradient when its norm is above the threshold' },
  { mode: 'value', detail: 'clip_grad_value_: clamp each component to ±threshold (turns the direction)' },
];

export interface NumberRule {
  /** What the input is, in words for the message: "The spectral radius". */
  what: string;
  min: number;
  max: number;
  integer?: boolean;
  /** `min` itself is not allowed (a threshold of 0 means nothing). */
  exclusiveMin?: boolean;
}

export const RADIUS_RULE: NumberRule = { what: 'The spectral radius', min: 0, max: 10, exclusiveMin: true };
export const GAIN_RULE: NumberRule = { what: 'The per-layer gain', min: 0, max: 10, exclusiveMin: true };
export const THRESHOLD_RULE: NumberRule = { what: 'The clipping threshold', min: 0, max: 1e6, exclusiveMin: true };
export const STEPS_RULE: NumberRule = { what: 'The number of steps', min: 1, max: 100_000, integer: true };

/** The error message for a typed value, or undefined when it is acceptable. */
export function checkNumber(text: string, rule: NumberRule): string | undefined {
  const trimmed = text.trim();
  const value = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(value)) return `${rule.what} must be a number${rule.integer ? ' (a whole one)' : ''}, like ${rule.integer ? '200' : '1.5'}.`;
  if (rule.integer && !Number.isInteger(value)) return `${rule.what} must be a whole number.`;
  const low = rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (low || value > rule.max) return `${rule.what} must be ${rule.exclusiveMin ? 'above' : 'at least'} ${rule.min} and at most ${rule.max.toLocaleString('en-US')}.`;
  return undefined;
}

export interface CustomChoice {
  model: ModelKind;
  init: InitName;
  /** Spectral radius of W_hh, or the per-layer gain of an MLP. */
  radius: number;
  clip: ClipSpec;
  steps: number;
}

/** The preset whose setup a custom run of this model starts from. */
function baseConfig(model: ModelKind): TrainConfig {
  const name = model === 'rnn' ? 'rnn-exploding' : model === 'mlp' ? 'deep-mlp' : 'lstm-long';
  return { ...findPreset(name)!.runs[0].config, model };
}

export function defaultRadius(model: ModelKind): number {
  return baseConfig(model).radius ?? 1;
}

export function defaultSteps(model: ModelKind): number {
  return baseConfig(model).steps;
}

export function customExperiment(choice: CustomChoice): { id: string; config: TrainConfig } {
  const config: TrainConfig = { ...baseConfig(choice.model), init: choice.init, radius: choice.radius, clip: choice.clip, steps: choice.steps };
  const c = choice.clip;
  const clip = c.mode === 'none' ? 'noclip' : c.mode === 'norm' ? `norm${c.maxNorm}` : `value${c.value}`;
  return { id: `custom-${choice.model}-${choice.init}-r${choice.radius}-${clip}`, config };
}
