/**
 * Where a console line says which training step it is about. Tools write it
 * in many ways; each pattern below is one tool's (or one idiom's) format.
 */

/** What the line's position marker says. `start`/`end` bound it, so its numbers are not read as values. */
export type StepMark = { start: number; end: number } & (
  | { kind: 'step'; step: number }
  /** A step counter that restarts every epoch (`Epoch [2/5], Step [100/600]`): made global with the stream's epoch base. */
  | { kind: 'epoch-step'; epoch: number; stepInEpoch: number; stepsPerEpoch: number }
  /**
   * A progress bar's count of batches done, which restarts with each epoch: made global with the
   * epoch of the `Epoch 3/10` line above it, or else by counting the passes. `keras` for Keras's bar.
   */
  | { kind: 'bar'; done: number; total: number; keras: boolean }
  /** Only an epoch (`Epoch 3: loss=0.5`): used as the step when the stream has no step counter. */
  | { kind: 'epoch'; epoch: number }
  /** An evaluation pass (`Epoch(val) [1][500/500]`): its values belong to the latest training step. */
  | { kind: 'eval'; mode: string }
);

/**
 * OpenMMLab and DeiT headers:
 * - mmcv `Epoch [1][100/62598]`, mmengine `Epoch(train)  [1][ 100/1000]`: 1-based epoch and iteration;
 * - mmcv `Iter [100/1000]`, mmengine `Iter(train) [ 100/1000]`: the global iteration;
 * - `Epoch(val) [1][500]`, `Epoch(test) [500/500]`, `Iter(val) [500/500]`: evaluation passes;
 * - DeiT's MetricLogger `Epoch: [0]  [  10/1251]`: 0-based epoch and iteration.
 */
const OPENMMLAB = /(?<![\w/.-])(Epoch|Iter)(?:\((\w+)\))?(:)?\s*(?:\[\s*(\d{1,9})\s*\]\s*)?\[\s*(\d{1,12})\s*(?:\/\s*(\d{1,12})\s*)?\]/;
/** timm's train.py: `Train: 3 [ 100/1251 (  8%)]`, 0-based epoch and update. */
const TIMM = /(?<![\w/.-])Train:\s*(\d{1,9})\s*\[\s*(\d{1,12})\s*\/\s*(\d{1,12})\s*(?:\([^()]*\))?\s*\]/;
/**
 * A step counter: `Step   3:`, `step    1/50`, `step:1/1750`, `iteration     5426/  250000`,
 * `iter 100:`, `global_step=100`, `Step [100/600]`, fairseq's `num_updates=1000`.
 * `step_avg:` and `Skipping step.` are not counters.
 */
const STEP = /(?<![\w/.-])(?:global[_ ]step|num_updates|iteration|iter|step)(?![\w/.-])\s*(?:[:=#]\s*)?(?:\[\s*)?(\d{1,15})(?:\s*\/\s*(\d{1,15}))?(?:\s*\])?(?:\s*:)?/i;
const EPOCH = /(?<![\w/.-])epoch(?![\w/.-])\s*(?:[:=#]\s*)?(?:\[\s*)?(\d{1,9})(?:\s*\/\s*(\d{1,9}))?(?:\s*\])?(?:\s*:)?/i;

/**
 * A tqdm bar with values in its postfix (`pbar.set_postfix(loss=...)`, and
 * Lightning's progress bar): `Epoch 2:  50%|█████     | 50/100 [00:05<00:05, 9.8it/s, v_num=0, train_loss=0.512]`.
 * The count is of batches done; with Lightning's `Epoch N:` (0-based) before it,
 * so `Epoch 1: 0/100` holds the values of `Epoch 0: 100/100`. A bar without
 * values is not a step.
 */
const TQDM = /(?:(?<![\w/.-])Epoch\s+(\d{1,9}):\s*)?\d{1,3}%\|[^|]*\|\s*(\d{1,12})\/(\d{1,12})\s*\[[^\],]*,[^\],]*(?=,)/;

/**
 * Keras's `model.fit` progress bar, with its values after ` - `: Keras 2
 * ` 7/50 [===>..........] - ETA: 1s - loss: 0.9 - accuracy: 0.7`, Keras 3
 * `50/50 ━━━━━━━━━━━━━━━━━━━━ 1s 9ms/step - accuracy: 0.8 - loss: 0.5`, and
 * `verbose=2`'s `50/50 - 1s - 9ms/step - loss: 0.5`. The loss shown is the
 * mean over the epoch's batches so far.
 */
const KERAS_BAR = /^\s*(\d{1,12})\/(\d{1,12})(?:\s+\[[=.>]*\]|\s+━+| - \d+m?s)(?=.* - [A-Za-z_][\w./]*: )/;
/** The line `fit` prints before each epoch's bar, and loops often print too: `Epoch 3/10`. */
export const EPOCH_HEADER = /^\s*Epoch (\d{1,9})\/(\d{1,9})\s*$/;

/** llm.c's main.log (llmc/logger.h): `s:250 trl:4.5610 lr:0.000600 norm:0.92`, `s:250 tel:4.5643`; the step starts the line. */
const LLMC = /^\s*s:(\d{1,12})(?=\s)/;

export function findStep(text: string): StepMark | undefined {
  return openMMLabStep(text) ?? timmStep(text) ?? tqdmStep(text) ?? kerasStep(text) ?? llmcStep(text) ?? counterStep(text);
}

function llmcStep(text: string): StepMark | undefined {
  const match = LLMC.exec(text);
  return match ? { start: match.index, end: match.index + match[0].length, kind: 'step', step: Number(match[1]) } : undefined;
}

/**
 * A progress marker that heads a block of metric lines, one `name=value` or
 * `name: value` per indented line below it, rather than holding values itself.
 */
export type BlockHeader = { kind: 'step'; step: number } | { kind: 'eval' };

/**
 * OLMo (`[step=10/739328]`) and OLMo-core (`[step=10/5000,epoch=0,eta=3h12m]`)
 * end their console logger's header with it, after the logging prefix (and
 * before the `train.py:967` that Rich's handler puts at the right margin).
 */
const OLMO_HEADER = /\[step=(\d{1,15})\/(?:\d{1,15}|\?{3})(?:,epoch=\d{1,9})?(?:,eta=[^\]\s]*)?\](?:\s+[\w./-]+\.py:\d+)?\s*$/;
/**
 * Composer's ConsoleLogger (llm-foundry prints through it): `[batch=12/6000]:`,
 * `[token=2048/100000]:`, and with a duration in epochs `[epoch=2][batch=12/100]:`,
 * whose batch counts within the (1-based) epoch.
 */
const COMPOSER_HEADER = /^\s*(?:\[epoch=(\d{1,9})\])?\[(?:batch|sample|token|iteration|step)=(\d{1,15})(?:\/(\d{1,15}))?\]:\s*$/;
/** Composer's evaluation block: `[Eval batch=10/10] Eval on eval data:`. */
const COMPOSER_EVAL_HEADER = /^\s*\[Eval batch=\d{1,12}(?:\/\d{1,12})?\] Eval on \S+ data:\s*$/;

export function findBlockHeader(text: string): BlockHeader | undefined {
  // Every header is bracketed; most console lines are not, and are passed over without a regex.
  if (!text.includes('[')) return undefined;
  const olmo = OLMO_HEADER.exec(text);
  if (olmo) return { kind: 'step', step: Number(olmo[1]) };
  const composer = COMPOSER_HEADER.exec(text);
  if (composer) {
    const [, epoch, count, total] = composer;
    const step = epoch !== undefined && total !== undefined ? (Number(epoch) - 1) * Number(total) + Number(count) : Number(count);
    return { kind: 'step', step };
  }
  return COMPOSER_EVAL_HEADER.test(text) ? { kind: 'eval' } : undefined;
}

function openMMLabStep(text: string): StepMark | undefined {
  const match = OPENMMLAB.exec(text);
  if (!match) return undefined;
  const [whole, unit, mode, colon, epochText, iterText, totalText] = match;
  const start = match.index;
  const end = start + whole.length;
  if (mode !== undefined && mode !== 'train') return { start, end, kind: 'eval', mode };
  const iter = Number(iterText);
  if (unit === 'Iter') return { start, end, kind: 'step', step: iter };
  // A training epoch header needs both the epoch and the epoch's length; `Epoch [1/5]` is another idiom.
  if (epochText === undefined || totalText === undefined) return undefined;
  const epoch = Number(epochText);
  const total = Number(totalText);
  const step = colon ? epoch * total + iter : (epoch - 1) * total + iter;
  return { start, end, kind: 'step', step };
}

function tqdmStep(text: string): StepMark | undefined {
  const match = text.includes('%|') ? TQDM.exec(text) : null;
  if (!match) return undefined;
  const [whole, epoch, done, total] = match;
  const bounds = { start: match.index, end: match.index + whole.length };
  if (epoch === undefined) return { ...bounds, kind: 'bar', done: Number(done), total: Number(total), keras: false };
  return { ...bounds, kind: 'step', step: Number(epoch) * Number(total) + Number(done) };
}

function kerasStep(text: string): StepMark | undefined {
  const match = KERAS_BAR.exec(text);
  return match ? { start: match.index, end: match.index + match[0].length, kind: 'bar', done: Number(match[1]), total: Number(match[2]), keras: true } : undefined;
}

function timmStep(text: string): StepMark | undefined {
  const match = TIMM.exec(text);
  if (!match) return undefined;
  const step = Number(match[1]) * Number(match[3]) + Number(match[2]);
  return { start: match.index, end: match.index + match[0].length, kind: 'step', step };
}

function counterStep(text: string): StepMark | undefined {
  const step = STEP.exec(text);
  const epoch = EPOCH.exec(text);
  if (step) {
    const start = step.index;
    const end = start + step[0].length;
    const stepsPerEpoch = step[2];
    // `Epoch [2/5], Step [100/600]`: an epoch counted out of a total, and a step out of the epoch's length.
    if (epoch && epoch[2] !== undefined && stepsPerEpoch !== undefined) {
      return { start, end, kind: 'epoch-step', epoch: Number(epoch[1]), stepInEpoch: Number(step[1]), stepsPerEpoch: Number(stepsPerEpoch) };
    }
    return { start, end, kind: 'step', step: Number(step[1]) };
  }
  if (epoch) return { start: epoch.index, end: epoch.index + epoch[0].length, kind: 'epoch', epoch: Number(epoch[1]) };
  return undefined;
}
