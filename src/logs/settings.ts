/**
 * Which tool wrote a run, and the training settings its log or run folder
 * states (clipping, precision, warm-up), so that advice speaks the tool's
 * language and never asks for what is already on.
 */
import type { Run } from './run';

/** The tools whose advice differs; `pytorch` is a hand-written loop (and anything not recognised). */
export const WRITERS = ['hf-trainer', 'lightning', 'keras', 'megatron', 'deepspeed', 'fairseq', 'mmengine', 'torchtitan', 'llm.c', 'nanogpt', 'optax', 'pytorch'] as const;
export type Writer = (typeof WRITERS)[number];

export interface RunSettings {
  /** Norm-clipping threshold the configuration states; 0 when it says clipping is off. */
  clipNorm?: number;
  /** Value-clipping threshold (Lightning's gradient_clip_algorithm="value"). */
  clipValue?: number;
  precision?: 'fp16' | 'bf16' | 'fp32';
  /** Learning-rate warm-up the configuration states, in steps or as a share of training. */
  warmupSteps?: number;
  warmupRatio?: number;
  /** The learning rate the configuration states (the peak of a schedule). */
  learningRate?: number;
  /** Batch size per device the configuration states. */
  batchSize?: number;
  /** The files the settings were read from, by name. */
  sources: string[];
}

const NUMBER = String.raw`([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)`;
const NUMBER_VALUE = new RegExp(`^${NUMBER}`);
const WORD_VALUE = /^[A-Za-z0-9_-]+/;
/** The keys read, and whether each takes a number or a word. */
const SETTING_KEYS = {
  max_grad_norm: NUMBER_VALUE,
  gradient_clip_val: NUMBER_VALUE,
  clip_grad: NUMBER_VALUE,
  grad_clip: NUMBER_VALUE,
  gradient_clipping: NUMBER_VALUE,
  global_clipnorm: NUMBER_VALUE,
  clipnorm: NUMBER_VALUE,
  clip_norm: NUMBER_VALUE,
  max_norm: NUMBER_VALUE,
  gradient_clip_algorithm: WORD_VALUE,
  precision: WORD_VALUE,
  bf16: WORD_VALUE,
  fp16: WORD_VALUE,
  warmup_steps: NUMBER_VALUE,
  lr_warmup_iters: NUMBER_VALUE,
  warmup_iters: NUMBER_VALUE,
  warmup_updates: NUMBER_VALUE,
  warmup_ratio: NUMBER_VALUE,
  lr_warmup_fraction: NUMBER_VALUE,
  learning_rate: NUMBER_VALUE,
  max_lr: NUMBER_VALUE,
  per_device_train_batch_size: NUMBER_VALUE,
  micro_batch_size: NUMBER_VALUE,
  batch_size: NUMBER_VALUE,
} as const;
type SettingKey = keyof typeof SETTING_KEYS;
/**
 * `key: value`, `key = value`, `"key": value`, a Python dict's `'key': value`, `key=value,` and Megatron's `key ...... value`, for any
 * of the keys: one pass over the text, where a pattern per key took eight times as long over 256 KB.
 */
const SETTING = new RegExp(String.raw`(?:^|[\s,{(|"'])(${Object.keys(SETTING_KEYS).join('|')})["']?\s*(?:[:=]|\.{2,}|\s\|)\s*["']?([-+.\w]+)`, 'gm');
const TRUE = /^(true|1)$/i;
const LR_LINE = new RegExp(String.raw`^[ \t]*lr[ \t]*:[ \t]*${NUMBER}[ \t]*$`, 'm');

/** Each key's first stated value of the kind it takes. */
function statedValues(text: string): Map<SettingKey, string> {
  const values = new Map<SettingKey, string>();
  SETTING.lastIndex = 0;
  for (let match = SETTING.exec(text); match; match = SETTING.exec(text)) {
    const key = match[1] as SettingKey;
    const token = match[2];
    const value = SETTING_KEYS[key].exec(token)?.[0];
    if (value !== undefined && !values.has(key)) values.set(key, value);
    // Go on from just before the token: it may be the next key, when this one's value was left empty (`gradient_clip_val:` then a line `batch_size: 32`).
    SETTING.lastIndex = match.index + match[0].length - token.length - 1;
  }
  return values;
}

/**
 * Settings stated in a configuration or log text: TrainingArguments as the
 * Hugging Face Trainer writes them to TensorBoard (`"max_grad_norm": 1.0`),
 * Lightning's config.yaml/hparams.yaml, Megatron's printed arguments
 * (`clip_grad ...... 1.0`), nanoGPT's config overrides (`grad_clip = 0.0`),
 * W&B's config.yaml and MLflow's params as `key: value` lines.
 */
export function settingsFromText(raw: string, source: string): RunSettings {
  // W&B's config.yaml nests each value: `max_grad_norm:\n  desc: null\n  value: 1.0`.
  const text = raw.includes('value:') ? raw.replace(/^([A-Za-z_][\w.-]*):[ \t]*\r?\n(?:[ \t]+desc:.*\r?\n)?[ \t]+value:[ \t]*(.*)$/gm, '$1: $2') : raw;
  const found: RunSettings = { sources: [] };
  const stated = statedValues(text);
  const number = (key: SettingKey) => {
    const value = stated.get(key);
    return value === undefined ? undefined : Number(value);
  };
  const word = (key: SettingKey) => stated.get(key);
  const clip =
    number('max_grad_norm') ?? number('gradient_clip_val') ?? number('clip_grad') ?? number('grad_clip') ?? number('gradient_clipping') ?? number('global_clipnorm') ?? number('clipnorm') ??
    number('clip_norm') ?? number('max_norm');
  if (clip !== undefined && Number.isFinite(clip)) {
    if (/^value$/i.test(word('gradient_clip_algorithm') ?? '')) found.clipValue = clip;
    else found.clipNorm = Math.max(clip, 0);
  }
  const precision = word('precision');
  if (precision !== undefined && /^(16|16-mixed|fp16)$/i.test(precision)) found.precision = 'fp16';
  else if (precision !== undefined && /^bf16/i.test(precision)) found.precision = 'bf16';
  else if (precision !== undefined && /^(32|32-true|fp32)$/i.test(precision)) found.precision = 'fp32';
  if (TRUE.test(word('bf16') ?? '')) found.precision = 'bf16';
  else if (TRUE.test(word('fp16') ?? '')) found.precision = 'fp16';
  else if (/^false$/i.test(word('bf16') ?? '') && /^false$/i.test(word('fp16') ?? '')) found.precision ??= 'fp32';
  const warmupSteps = number('warmup_steps') ?? number('lr_warmup_iters') ?? number('warmup_iters') ?? number('warmup_updates');
  if (warmupSteps !== undefined && Number.isFinite(warmupSteps)) found.warmupSteps = warmupSteps;
  const warmupRatio = number('warmup_ratio') ?? number('lr_warmup_fraction');
  if (warmupRatio !== undefined && Number.isFinite(warmupRatio)) found.warmupRatio = warmupRatio;
  // A bare `lr` only as a configuration line (hparams.yaml): in a JSON-lines head it is the first step's logged rate.
  const lrLine = text.includes('lr') ? LR_LINE.exec(text) : null;
  const learningRate = number('learning_rate') ?? number('max_lr') ?? (lrLine ? Number(lrLine[1]) : undefined);
  if (learningRate !== undefined && Number.isFinite(learningRate)) found.learningRate = learningRate;
  const batchSize = number('per_device_train_batch_size') ?? number('micro_batch_size') ?? number('batch_size');
  if (batchSize !== undefined && Number.isFinite(batchSize)) found.batchSize = batchSize;
  if (Object.keys(found).length > 1) found.sources.push(source);
  return found;
}

/** Settings from several texts: the first to state a setting wins (the run's own log before its folder's files). */
export function mergeSettings(all: readonly RunSettings[]): RunSettings | undefined {
  const merged: RunSettings = { sources: [] };
  for (const one of all) {
    for (const [key, value] of Object.entries(one) as [keyof RunSettings, unknown][]) {
      if (key === 'sources' || value === undefined || key in merged) continue;
      (merged as unknown as Record<string, unknown>)[key] = value;
    }
    for (const source of one.sources) if (!merged.sources.includes(source)) merged.sources.push(source);
  }
  return merged.sources.length > 0 ? merged : undefined;
}

/** Tags that only one tool writes. */
const TAG_WRITERS: [RegExp, Writer][] = [
  [/^grad_2\.0_norm/, 'lightning'],
  [/^(lm loss|number of skipped iterations|number of nan iterations)$/, 'megatron'],
  [/^(trl|tel)$/, 'llm.c'],
  [/^mfu$/, 'nanogpt'],
  [/^(epoch|batch)_loss$/, 'keras'],
  [/optax/i, 'optax'],
];

/**
 * The tool that wrote a run, from its format, its files' layout and its
 * tags: trainer_state.json and TensorBoard's `train/grad_norm` with
 * `train/epoch` are the Hugging Face Trainer; `grad_2.0_norm*` tags and
 * `version_N/` folders with hparams.yaml are Lightning, LLaMA-Factory's
 * trainer_log.jsonl (`total_steps`, `percentage`) the Trainer it drives; Keras's CSVLogger
 * writes `loss` beside `val_*` columns; llm.c, nanoGPT, Megatron,
 * DeepSpeed, fairseq and MMEngine print their own keys.
 */
export function writerOf(run: Run): Writer {
  if (run.format === 'hf-trainer-state') return 'hf-trainer';
  if (run.writtenBy) return run.writtenBy;
  const tags = run.series.map((s) => s.tag);
  for (const [pattern, writer] of TAG_WRITERS) if (tags.some((tag) => pattern.test(tag))) return writer;
  if (tags.includes('train/grad_norm') && tags.some((tag) => tag === 'train/epoch' || tag === 'train/learning_rate')) return 'hf-trainer';
  // LLaMA-Factory's trainer_log.jsonl: the Trainer's log entries with its progress keys; its YAML takes TrainingArguments.
  if (tags.includes('total_steps') && tags.includes('percentage')) return 'hf-trainer';
  // fairseq's train_inner lines: `gnorm` beside its throughput meters (words per batch, updates per second).
  if (tags.includes('gnorm') && tags.some((tag) => tag === 'wpb' || tag === 'ups' || tag === 'wps')) return 'fairseq';
  // MMEngine's LogProcessor logs the scheduled `base_lr` beside `lr`, and `data_time` with `memory`; its LocalVisBackend writes vis_data/scalars.json.
  if (tags.includes('base_lr') || (tags.includes('data_time') && tags.includes('memory')) || /[/\\]vis_data[/\\]scalars\.json$/.test(run.path)) return 'mmengine';
  // DeepSpeed's engine prints `step=10, skipped=0, lr=[...]` and "OVERFLOW! Skipping step" on its loss scaler's skips.
  if (run.events.some((e) => /OVERFLOW! Skipping step/i.test(e.text)) || (run.format === 'text' && tags.includes('skipped') && tags.includes('lr'))) return 'deepspeed';
  const where = [run.path, ...run.files].join('\n');
  if (/(^|[/\\])lightning_logs[/\\]/.test(where) || run.settings?.sources.some((s) => s === 'hparams.yaml')) return 'lightning';
  if (run.format === 'csv' && tags.includes('loss') && tags.some((tag) => /^val_/.test(tag)) && !tags.some((tag) => /[/.]|_step$/.test(tag))) return 'keras';
  return 'pytorch';
}
