import type { LossKind } from './ops/loss';
import type { Random } from './random';
import type { FloatArray } from './tensor';

/**
 * Seeded synthetic tasks. Sequence inputs are batch-first [B, T, I]; an MLP
 * sees the same sequence flattened to [B, T·I]. Each `fill` writes a fresh
 * batch into buffers allocated once.
 */
export const TASK_NAMES = ['memory', 'sum', 'adding', 'copy', 'binary', 'chars'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export const TASKS: Record<TaskName, string> = {
  memory: 'long-memory regression: predict the (scaled) sum of the first step’s inputs from the last hidden state',
  sum: 'long-memory sequence sum: predict the (scaled) sum of every input of the sequence',
  adding: 'the adding problem: add the two values marked in a sequence of random numbers (input size 2)',
  copy: 'copy/memory task: reproduce the first symbols after a long blank stretch (input size 10, cross-entropy per step)',
  binary: 'binary classification with BCE: is the sum of the first feature over the sequence positive?',
  chars: 'character-level language modelling on text from a seeded grammar, hidden state carried across batches',
};

export interface Task {
  readonly name: TaskName;
  /** Feature size the model receives per step (the embedding size for token tasks). */
  readonly inputSize: number;
  readonly outputSize: number;
  readonly loss: LossKind;
  /** 'last': one target per sequence; 'all': a target per step. */
  readonly output: 'last' | 'all';
  /** Inputs are token ids of this vocabulary, [B, T]. */
  readonly vocabSize?: number;
  /** Batches continue each other's text: carry the final hidden state (detached) into the next batch. */
  readonly stateful: boolean;
  readonly inputShape: number[];
  readonly targetShape: number[];
  fill(input: FloatArray, target: FloatArray): void;
}

export interface TaskOptions {
  batch: number;
  seqLen: number;
  inputSize: number;
}

export function fixedInputSize(name: TaskName): number | null {
  return name === 'adding' ? 2 : name === 'copy' ? COPY_CLASSES : null;
}

const COPY_SYMBOLS = 8;
const COPY_BLANK = 8;
const COPY_DELIMITER = 9;
const COPY_CLASSES = 10;

export function createTask(name: TaskName, { batch: B, seqLen: T, inputSize }: TaskOptions, rng: Random): Task {
  const fixed = fixedInputSize(name);
  if (fixed !== null && inputSize !== fixed) throw new Error(`task ${name} has input size ${fixed} (got ${inputSize})`);
  if (!(B >= 1 && T >= 1 && inputSize >= 1)) throw new Error(`task ${name}: batch, sequence length and input size must be at least 1`);
  const I = inputSize;
  const regression = (fill: (x: FloatArray, y: FloatArray) => void, loss: LossKind = 'mse'): Task => ({
    name, inputSize: I, outputSize: 1, loss, output: 'last', stateful: false, inputShape: [B, T, I], targetShape: [B, 1], fill,
  });
  const gaussian = (x: FloatArray): void => {
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  };
  switch (name) {
    case 'memory':
      return regression((x, y) => {
        gaussian(x);
        for (let b = 0; b < B; b++) {
          let s = 0;
          for (let i = 0; i < I; i++) s += x[b * T * I + i];
          y[b] = s / Math.sqrt(I);
        }
      });
    case 'sum':
      return regression((x, y) => {
        gaussian(x);
        for (let b = 0; b < B; b++) {
          let s = 0;
          for (let k = 0; k < T * I; k++) s += x[b * T * I + k];
          y[b] = s / Math.sqrt(T * I);
        }
      });
    case 'binary':
      return regression((x, y) => {
        gaussian(x);
        for (let b = 0; b < B; b++) {
          let s = 0;
          for (let t = 0; t < T; t++) s += x[(b * T + t) * I];
          y[b] = s > 0 ? 1 : 0;
        }
      }, 'bce_with_logits');
    case 'adding':
      if (T < 2) throw new Error('task adding needs a sequence length of at least 2');
      return regression((x, y) => {
        x.fill(0);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) x[(b * T + t) * 2] = rng.uniform();
          const half = Math.floor(T / 2);
          const first = rng.int(half);
          const second = half + rng.int(T - half);
          x[(b * T + first) * 2 + 1] = 1;
          x[(b * T + second) * 2 + 1] = 1;
          y[b] = x[(b * T + first) * 2] + x[(b * T + second) * 2];
        }
      });
    case 'copy': {
      const S = Math.max(1, Math.min(10, Math.floor(T / 3)));
      if (T < 2 * S + 1) throw new Error(`task copy needs a sequence length of at least ${2 * S + 1}`);
      return {
        name, inputSize: COPY_CLASSES, outputSize: COPY_CLASSES, loss: 'cross_entropy', output: 'all', stateful: false,
        inputShape: [B, T, COPY_CLASSES], targetShape: [B, T],
        fill(x, y) {
          x.fill(0);
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              let symbol = COPY_BLANK;
              if (t < S) symbol = rng.int(COPY_SYMBOLS);
              else if (t === T - S - 1) symbol = COPY_DELIMITER;
              x[(b * T + t) * COPY_CLASSES + symbol] = 1;
              y[b * T + t] = t >= T - S ? argmaxOneHot(x, (b * T + t - (T - S)) * COPY_CLASSES) : COPY_BLANK;
            }
          }
        },
      };
    }
    case 'chars':
      return charTask(B, T, I, rng);
  }
}

function argmaxOneHot(x: FloatArray, offset: number): number {
  for (let c = 0; c < COPY_CLASSES; c++) if (x[offset + c] === 1) return c;
  return COPY_BLANK;
}

/**
 * A small seeded grammar: sentences about training networks, so the text is
 * the project's own. Each batch row reads its own endless stream, and
 * consecutive batches continue the streams: the setting of truncated BPTT.
 */
const GRAMMAR = {
  subject: ['the network', 'the gradient', 'a recurrent cell', 'the optimiser', 'every layer', 'the hidden state', 'the loss'],
  verb: ['explodes', 'vanishes', 'grows', 'shrinks', 'oscillates', 'settles', 'diverges', 'converges'],
  clause: ['when the weights are large', 'after a few hundred steps', 'unless it is clipped', 'as the sequence gets longer', 'with orthogonal init', 'under a high learning rate'],
  advice: ['clip the norm', 'lower the rate', 'detach the state', 'use a gated cell', 'normalise the weights'],
};

export const CHAR_VOCAB = Array.from(new Set(Object.values(GRAMMAR).flat().join('') + ' .,;')).sort().join('');

function sentence(rng: Random): string {
  const pick = (words: string[]): string => words[rng.int(words.length)];
  const main = `${pick(GRAMMAR.subject)} ${pick(GRAMMAR.verb)} ${pick(GRAMMAR.clause)}`;
  return rng.uniform() < 0.5 ? `${main}; ${pick(GRAMMAR.advice)}. ` : `${main}. `;
}

function charTask(B: number, T: number, I: number, rng: Random): Task {
  const streams = Array.from({ length: B }, () => ({ text: '', pos: 0 }));
  const next = (s: { text: string; pos: number }): number => {
    while (s.pos >= s.text.length) {
      s.text = s.text.slice(s.pos) + sentence(rng);
      s.pos = 0;
    }
    return CHAR_VOCAB.indexOf(s.text[s.pos++]);
  };
  // The character after the last input of a batch is the first input of the next.
  const lookahead = streams.map((s) => next(s));
  return {
    name: 'chars', inputSize: I, outputSize: CHAR_VOCAB.length, loss: 'cross_entropy', output: 'all', vocabSize: CHAR_VOCAB.length, stateful: true,
    inputShape: [B, T], targetShape: [B, T],
    fill(x, y) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          x[b * T + t] = lookahead[b];
          lookahead[b] = next(streams[b]);
          y[b * T + t] = lookahead[b];
        }
      }
    },
  };
}
