/**
 * Console output of training scripts: simple loops (`Step 3: loss=43.2,
 * grad_norm=117.9`), llm.c, modded-nanoGPT, Megatron-LM, mmcv/mmengine, DeiT
 * and timm, and the Hugging Face Trainer's printed dicts, possibly with the
 * rank prefixes of distributed launchers, progress bars and colours.
 *
 * A console log is mostly noise (banners, warnings, tracebacks, bars), so
 * lines that hold no step and no values are passed over silently. A line is
 * read when it says which step it is about and names at least one number;
 * evaluation lines without a step belong to the latest training step.
 */
import { lineReader } from '../lines';
import type { LogReader, LogSink, ReaderFactory } from '../sink';
import type { Writer } from '../settings';
import { trainerEntryPrefix } from './hf-trainer-state';
import { EPOCH_HEADER, findBlockHeader, findStep, type BlockHeader, type StepMark } from './text-steps';
import { readBlockLine, readDict, readPairs, type Pair } from './text-values';

// Colours and cursor moves (CSI), window titles (OSC), and two-byte escapes.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;

/** torchrun `--tee`/`--log-dir` (`[default0]:`, `[trainer1]:`, `[${rank}]:` templates) and torch's own `[rank1]:`. */
const TORCHRUN_PREFIX = /^\[[A-Za-z_]*(\d{1,6})\]:/;
/** `mpirun --tag-output`: `[jobid,rank]<stdout>:`. */
const MPIRUN_PREFIX = /^\[\d+,(\d{1,6})\]<std(?:out|err)>:/;
/**
 * `srun --label` and DeepSpeed's launchers: ` 0: `. A script may print
 * `12: loss=0.5` too, so this is taken for a rank only when the rest of the
 * line is something this reader reads.
 */
const LABEL_PREFIX = /^\s*(\d{1,6}): /;

/**
 * fp16 loss-scaler skips: DeepSpeed's `OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768`,
 * apex's `Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to 32768.0`,
 * fairseq's `NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0`.
 */
const OVERFLOW = /\boverflow\b/i;
const OVERFLOW_OUTCOME = /\bskip|loss[ _]scale|ignoring grad/i;
/** torchtitan's logger starts every line with `[titan]` (after torchrun's `[rank0]:`). */
const TORCHTITAN_PREFIX = '[titan] ';
/** Megatron-LM counts the skipped iterations of each logging interval in its iteration line. */
const MEGATRON_SKIPS = 'number of skipped iterations';

const EVAL_KEY = /^(?:val|valid|validation|eval|test)(?:[\s_/.-]|$)/i;
/** Keys that give the step of a printed dict (`{'step': 10, 'loss': 2.3}`). */
const DICT_STEP_KEYS = new Set(['step', 'global_step', 'iteration', 'iter', 'num_updates']);
const MAX_EVENT_TEXT = 300;

/** What one carriage-return segment of a line says. */
type Reading =
  /** Values of a step; `overflow` when the line also reports a loss-scaler skip. */
  | { kind: 'step'; mark: StepMark; pairs: Pair[]; overflow: boolean }
  /** A printed dict: whose step it is depends on its keys. */
  | { kind: 'dict'; pairs: Pair[]; others: number }
  /** Evaluation values without a step: they belong to the latest training step. */
  | { kind: 'latest'; pairs: Pair[] }
  /** A loss-scaler skip without a step: it belongs to the next step line. */
  | { kind: 'skip' }
  /** `Epoch 3/10` alone on its line: the progress bars below it count within that epoch. */
  | { kind: 'epoch-header'; epoch: number }
  /** A progress marker whose values follow on the indented lines below it (OLMo, Composer). */
  | { kind: 'block'; header: BlockHeader };

interface StreamState {
  /** The step of the latest training values. */
  lastStep?: number;
  /** Hugging Face console dicts carry no step: train entries are numbered 1, 2, 3... */
  entries: number;
  /** Skips reported since the latest step line; skips are printed inside optimizer.step(), before the loop logs that step. */
  pendingSkips: string[];
  /** A step counter was seen: lines with only an epoch are then no longer steps. */
  counted: boolean;
  /** For step counters that restart each epoch: the first epoch's number (0 or 1). */
  epochBase?: number;
  /** The batches of the progress bars before the current one, and the current bar's count and length. */
  barsBefore: number;
  bar?: { done: number; total: number };
  /** The epoch of the latest `Epoch 3/10` line, which the progress bars below it count within. */
  epochHeader?: number;
  /** The step the indented metric lines under the latest block header belong to. */
  block?: number;
}

const newStreamState = (): StreamState => ({ entries: 0, pendingSkips: [], counted: false, barsBefore: 0 });

export const readTextLog: ReaderFactory = (sink: LogSink, file: string): LogReader => {
  const streams = new Map<string, StreamState>();
  let sawText = false;
  let emitted = false;
  let reportedEmpty = false;

  const state = (stream: string | undefined): StreamState => {
    const key = stream ?? '';
    let found = streams.get(key);
    if (!found) {
      found = newStreamState();
      streams.set(key, found);
    }
    return found;
  };

  const emitValues = (pairs: Pair[], step: number, stream: string | undefined, prefix = ''): void => {
    for (const [key, value] of pairs) sink.scalar(prefix + key, step, value, stream);
    emitted ||= pairs.length > 0;
  };

  const skipEvent = (step: number, text: string, stream: string | undefined): void => {
    sink.event({ kind: 'overflow-skip', step, text: text.slice(0, MAX_EVENT_TEXT) }, stream);
  };

  /** Values of a training step: a step before the latest one means training restarted from a checkpoint. */
  const emitStep = (step: number, pairs: Pair[], stream: string | undefined, at: StreamState, text: string, overflow: boolean): void => {
    if (at.lastStep !== undefined && step < at.lastStep) sink.purge(step, stream);
    for (const skip of at.pendingSkips) skipEvent(step, skip, stream);
    if (overflow) skipEvent(step, text, stream);
    const reported = overflow || at.pendingSkips.length > 0;
    at.pendingSkips = [];
    emitValues(pairs, step, stream);
    // Megatron-DeepSpeed also prints DeepSpeed's own message for the same skips: count them once.
    const skipped = pairs.find(([key]) => key === MEGATRON_SKIPS);
    if (skipped && skipped[1] > 0 && !reported) skipEvent(step, `${MEGATRON_SKIPS}: ${skipped[1]}`, stream);
    at.lastStep = step;
  };

  const stepOf = (mark: Exclude<StepMark, { kind: 'eval' }>, at: StreamState): number => {
    switch (mark.kind) {
      case 'step':
        return mark.step;
      case 'epoch':
        return mark.epoch;
      case 'epoch-step':
        at.epochBase ??= mark.epoch === 0 ? 0 : 1;
        return (mark.epoch - at.epochBase) * mark.stepsPerEpoch + mark.stepInEpoch;
      case 'bar':
        if (at.epochHeader !== undefined) {
          at.epochBase ??= at.epochHeader === 0 ? 0 : 1;
          return (at.epochHeader - at.epochBase) * mark.total + mark.done;
        }
        // A count below the last one is the next pass's bar.
        if (at.bar && mark.done < at.bar.done) at.barsBefore += at.bar.total;
        at.bar = { done: mark.done, total: mark.total };
        return at.barsBefore + mark.done;
    }
  };

  const applyDict = (pairs: Pair[], others: number, stream: string | undefined, at: StreamState, text: string): void => {
    const stepPair = pairs.find(([key]) => DICT_STEP_KEYS.has(key));
    const summaryPrefix = trainerEntryPrefix(pairs.map(([key]) => key));
    if (stepPair) {
      at.counted = true;
      emitStep(stepPair[1], pairs.filter((pair) => pair !== stepPair), stream, at, text, false);
    } else if (summaryPrefix !== '') {
      emitValues(pairs, at.lastStep ?? 0, stream, summaryPrefix);
    } else if (pairs.every(([key]) => key === 'epoch' || EVAL_KEY.test(key))) {
      // An evaluation's epoch is its training entry's.
      emitValues(pairs.filter(([key]) => key !== 'epoch'), at.lastStep ?? 0, stream);
    } else if (at.counted) {
      // Metrics printed between the step lines of a loop that counts its steps.
      emitValues(pairs, at.lastStep ?? 0, stream);
    } else if (others === 0) {
      // A Trainer console entry. A step-less dict with words or flags in it is a printed config, not an entry: numbering it would shift every entry after it.
      at.entries++;
      emitStep(at.entries, pairs, stream, at, text, false);
    }
  };

  const apply = (reading: Reading, stream: string | undefined, text: string): void => {
    const at = state(stream);
    switch (reading.kind) {
      case 'step': {
        const { mark } = reading;
        if (mark.kind === 'eval') {
          emitValues(reading.pairs, at.lastStep ?? 0, stream, `${mark.mode}/`);
          return;
        }
        if (mark.kind !== 'epoch') at.counted = true;
        emitStep(stepOf(mark, at), reading.pairs, stream, at, text, reading.overflow);
        return;
      }
      case 'epoch-header': {
        at.epochHeader = reading.epoch;
        return;
      }
      case 'dict':
        applyDict(reading.pairs, reading.others, stream, at, text);
        return;
      case 'latest':
        emitValues(reading.pairs, at.lastStep ?? 0, stream);
        return;
      case 'skip':
        at.pendingSkips.push(text.slice(0, MAX_EVENT_TEXT));
        return;
      case 'block':
        if (reading.header.kind === 'step') {
          at.counted = true;
          emitStep(reading.header.step, [], stream, at, text, false);
          sink.stepHeader?.(reading.header.step, stream);
        }
        at.block = at.lastStep ?? 0;
        return;
    }
  };

  /** A line of the block under the latest header, read as that step's; any line not indented ends the block. */
  const readInBlock = (body: string, stream: string | undefined): boolean => {
    const at = streams.get(stream ?? '');
    if (at?.block === undefined) return false;
    if (!/^\s/.test(body)) {
      at.block = undefined;
      return false;
    }
    const pair = readBlockLine(body);
    if (pair) emitValues([pair], at.block, stream);
    return pair !== undefined;
  };

  const onLine = (raw: string): void => {
    const line = raw.includes('\x1b') ? raw.replace(ANSI, '') : raw;
    if (line.trim().length === 0) return;
    sawText = true;
    let stream: string | undefined;
    let body = line;
    const tagged = TORCHRUN_PREFIX.exec(line) ?? MPIRUN_PREFIX.exec(line);
    if (tagged) {
      stream = `rank ${Number(tagged[1])}`;
      body = line.slice(tagged[0].length);
    } else {
      const label = LABEL_PREFIX.exec(line);
      if (label) {
        const labelled = `rank ${Number(label[1])}`;
        const rest = line.slice(label[0].length);
        const at = streams.get(labelled) ?? newStreamState();
        // A block's indented lines read only under their header, which this rank's stream remembers.
        const inBlock = at.block !== undefined && /^\s/.test(rest) && readBlockLine(rest) !== undefined;
        if (inBlock || rest.split('\r').some((segment) => read(segment, at) !== undefined)) {
          stream = labelled;
          body = rest;
        }
      }
    }
    if (readInBlock(body, stream)) return;
    // Progress bars redraw with carriage returns: each segment is one complete redraw or message.
    for (const segment of body.split('\r')) {
      const reading = read(segment, state(stream));
      if (!reading) continue;
      const rank = stream === undefined ? rankInLine(reading) : undefined;
      const writer = writerOfLine(segment, reading);
      if (writer) sink.writtenBy?.(writer, rank?.stream ?? stream);
      if (rank) apply(rank.reading, rank.stream, segment.trim());
      else apply(reading, stream, segment.trim());
    }
  };

  const onEnd = (): void => {
    for (const [key, at] of streams) {
      // Skips after the last step line happened in a step that was never logged.
      const step = at.lastStep === undefined ? 0 : at.lastStep + 1;
      for (const skip of at.pendingSkips) skipEvent(step, skip, key || undefined);
      at.pendingSkips = [];
    }
    if (sawText && !emitted && !reportedEmpty) {
      reportedEmpty = true;
      sink.warning({ file, message: 'no training values found: no line names a step (step N, iteration N, Epoch [e][i/n]...) together with numbers' });
    }
  };

  return lineReader(file, (warning) => sink.warning(warning), onLine, onEnd);
};

/**
 * A step line that names its own rank (DeepSpeed-Chat's `Epoch: 0, Step: 10,
 * Rank: 1, loss = 2.3`, printed by every rank): one run per rank, as with a
 * launcher's prefix, rather than ranks taking turns at the same steps. Rank 0
 * stays the run itself, with the lines that name no rank (DeepSpeed's own
 * messages are rank 0's).
 */
function rankInLine(reading: Reading): { reading: Reading; stream: string | undefined } | undefined {
  if (reading.kind !== 'step') return undefined;
  const rank = reading.pairs.find(([key, value]) => key.length === 4 && key.toLowerCase() === 'rank' && Number.isInteger(value) && value >= 0);
  if (!rank) return undefined;
  return { reading: { ...reading, pairs: reading.pairs.filter((pair) => pair !== rank) }, stream: rank[1] === 0 ? undefined : `rank ${rank[1]}` };
}

/** The tool a step line's look names, where its keys alone do not: Keras's progress bar, torchtitan's `[titan]` prefix. */
function writerOfLine(segment: string, reading: Reading): Writer | undefined {
  if (reading.kind !== 'step') return undefined;
  if (reading.mark.kind === 'bar' && reading.mark.keras) return 'keras';
  return segment.startsWith(TORCHTITAN_PREFIX) ? 'torchtitan' : undefined;
}

/** What a segment says, read without changing any state (a rank label is decided by whether its line reads). */
function read(segment: string, at: StreamState): Reading | undefined {
  const header = findBlockHeader(segment);
  if (header) return { kind: 'block', header };
  const epochHeader = EPOCH_HEADER.exec(segment);
  if (epochHeader) return { kind: 'epoch-header', epoch: Number(epochHeader[1]) };
  const dict = readDict(segment);
  if (dict) {
    // `epoch 3: {'accuracy': 0.8}`: a dict after a step or epoch is that step's.
    const mark = usableStep(segment.slice(0, dict.start), at);
    return mark && mark.kind !== 'eval' ? { kind: 'step', mark, pairs: dict.pairs, overflow: false } : { kind: 'dict', pairs: dict.pairs, others: dict.others };
  }
  const overflowAt = segment.search(OVERFLOW);
  const overflow = overflowAt >= 0 && OVERFLOW_OUTCOME.test(segment.slice(overflowAt));
  const mark = usableStep(segment, at);
  if (mark) {
    const pairs = readPairs(`${segment.slice(0, mark.start)}|${segment.slice(mark.end)}`);
    if (pairs.length > 0 || (overflow && mark.kind !== 'eval')) return { kind: 'step', mark, pairs, overflow };
    return undefined;
  }
  if (overflow) return { kind: 'skip' };
  const pairs = readPairs(segment);
  if (pairs.length > 0 && pairs.every(([key]) => EVAL_KEY.test(key))) return { kind: 'latest', pairs };
  return undefined;
}

/** The step mark of a segment, unless it is only an epoch in a stream that counts steps. */
function usableStep(text: string, at: StreamState): StepMark | undefined {
  const mark = findStep(text);
  return mark && !(mark.kind === 'epoch' && at.counted) ? mark : undefined;
}
