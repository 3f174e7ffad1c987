import { INIT_NAMES } from '../engine/init';
import { NONLINEARITIES } from '../engine/nn/recurrent';
import { OPTIMIZER_NAMES } from '../engine/optim';
import type { StepRecord } from '../engine/record';
import { TASK_NAMES } from '../engine/tasks';
import { DTYPES } from '../engine/tensor';
import { MODEL_KINDS, type TrainConfig } from '../engine/trainer';
import { playgroundParamsSchema, playgroundResultSchema } from '../protocol/playground';
import { array, boolean, finite, literal, message, number, object, oneOf, optional, record, string, union, type Infer, type Same, type Schema } from '../protocol/schema';

/**
 * Messages between a host (extension, CLI) and the training worker, declared
 * once. Each side validates what it receives: the worker refuses a
 * configuration it cannot train as asked (a `float16` dtype is an error, not
 * a float32 run), the host drops what it does not know.
 */

export const STOP_REASONS = ['completed', 'cancelled', 'stop-rule'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

const clipSpecSchema = oneOf(
  object({ mode: literal('none') }),
  object({ mode: literal('norm'), maxNorm: finite }),
  object({ mode: literal('value'), value: finite }),
);

/** TrainConfig's fields, each with its schema: a refused configuration is explained field by field. */
const TRAIN_CONFIG_FIELDS = {
  model: literal(...MODEL_KINDS),
  inputSize: finite,
  hiddenSize: finite,
  layers: finite,
  seqLen: finite,
  batch: finite,
  task: literal(...TASK_NAMES),
  init: literal(...INIT_NAMES),
  radius: optional(finite),
  nonlinearity: optional(literal(...NONLINEARITIES)),
  residual: optional(boolean),
  spectralNorm: optional(boolean),
  optimizer: literal(...OPTIMIZER_NAMES),
  lr: finite,
  momentum: optional(finite),
  weightDecay: optional(finite),
  clip: clipSpecSchema,
  tbptt: finite,
  steps: finite,
  seed: finite,
  dtype: literal(...DTYPES),
  stopAboveNorm: optional(finite),
  instrumentEvery: finite,
  kernel: optional(literal('auto', 'plain')),
  transcendentals: optional(literal('auto', 'plain')),
};
export const trainConfigSchema = object(TRAIN_CONFIG_FIELDS);

/** Why `value` is not a TrainConfig: the fields that do not match, with what they hold. */
export function configMismatch(value: unknown): string {
  if (typeof value !== 'object' || value === null) return 'the configuration is not an object';
  const fields = value as Record<string, unknown>;
  const wrong = Object.entries(TRAIN_CONFIG_FIELDS)
    .filter(([name, field]) => field.parse(fields[name]) === undefined && !('optional' in field && fields[name] === undefined))
    .map(([name]) => `${name} (got ${JSON.stringify(fields[name]) ?? 'nothing'})`);
  return `not a configuration GradLens can train: ${wrong.join(', ')}`;
}

const cancelBufferSchema: Schema<SharedArrayBuffer> = { parse: (v) => (v instanceof SharedArrayBuffer && v.byteLength >= 4 ? v : undefined) };

export const hostToTrainingSchema = message('start', {
  runId: string,
  config: trainConfigSchema,
  /** Int32Array over a SharedArrayBuffer, polled every step: non-zero = stop. */
  cancel: cancelBufferSchema,
});
export type HostToTraining = Infer<typeof hostToTrainingSchema>;

/** A `start` whose configuration was refused: the worker answers it with an error rather than leave the host waiting. */
export const refusedStartSchema = message('start', { runId: string, config: { parse: (v: unknown) => v } });

const stepRecordSchema = object({
  step: number,
  loss: number,
  grad_norm: number,
  lr: number,
  clipped: boolean,
  max_norm: optional(number),
  clip_value: optional(number),
  layers: record(number),
  weight_norms: record(number),
  nonfinite: array(string),
  spectral: optional(record(object({ norm: number, radius: array(number) }))),
  hidden_grad_norms: optional(record(array(number))),
});

export const trainingToHostSchema = union({
  started: message('started', { runId: string, parameters: array(string) }),
  records: message('records', { runId: string, records: array(stepRecordSchema), total: finite }),
  done: message('done', { runId: string, reason: literal(...STOP_REASONS), steps: finite, elapsedMs: finite }),
  error: message('error', { runId: string, message: string }),
});
export type TrainingToHost = Infer<typeof trainingToHostSchema>;

// The schemas restate the engine's types; these stop the build when the two drift apart.
const inSync: [Same<Infer<typeof trainConfigSchema>, TrainConfig>, Same<Infer<typeof stepRecordSchema>, StepRecord>] = [true, true];
void inSync;

/**
 * The playground's requests travel on the same worker bundle, in a
 * long-lived worker of their own: one request at a time, each answered by
 * its id. Both sides parse with the playground's schemas.
 */
export const playgroundRequestSchema = message('playground', { requestId: finite, params: playgroundParamsSchema });
export type PlaygroundRequest = Infer<typeof playgroundRequestSchema>;

export const playgroundReplySchema = union({
  playgroundResult: message('playgroundResult', { requestId: finite, result: playgroundResultSchema }),
  playgroundError: message('playgroundError', { requestId: finite, message: string }),
});
export type PlaygroundReply = Infer<typeof playgroundReplySchema>;
