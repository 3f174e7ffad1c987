/**
 * Where things are in a PyTorch training script: the training step
 * (`backward()` followed by the optimizer's `step()`), the clipping call, the
 * recurrent layers, the optimizer's construction, the hidden state carried
 * between batches. The dashboard's hints open the script at the place their
 * fix belongs; the logger insertion uses the same landmarks. No vscode import.
 */
import type { HintId } from '../diagnosis/types';
import { enclosing, parsePython, type PythonSource, type Statement } from './python-source';

export interface TrainingStep {
  /** Index (into statements) of the backward call. */
  backward: number;
  /** Index of the optimizer step that follows it. */
  step: number;
  /** Clipping calls between the two, in order. */
  clips: number[];
  /** The optimizer's variable, when the step names it (`opt.step()`, `scaler.step(opt)`). */
  optimizer?: string;
  /** The GradScaler's variable, when the step goes through one (`scaler.step(opt)`). */
  scaler?: string;
}

const BACKWARD = /\.backward\s*\(|\bbackward\s*\(/;
const CLIP = /\bclip_grad_(?:norm|value)_?\s*\(/;
/** `opt.step(`, `self.optimizer.step(`, `scaler.step(opt)`; not a scheduler's step. */
const STEP_CALL = /([A-Za-z_][\w.]*)\.step\s*\(/g;
const SCHEDULER = /sched|lr_|warmup/i;

function optimizerStep(code: string): { optimizer?: string; scaler?: string } | undefined {
  for (const match of code.matchAll(STEP_CALL)) {
    const receiver = match[1];
    if (SCHEDULER.test(receiver)) continue;
    if (!/scaler$/i.test(receiver)) return { optimizer: receiver };
    const argument = /^\s*([A-Za-z_][\w.]*)\s*\)/.exec(code.slice(match.index + match[0].length));
    return { optimizer: argument?.[1], scaler: receiver };
  }
  return undefined;
}

/** The first backward call followed by an optimizer step, with what lies between. */
export function findTrainingStep(statements: readonly Statement[]): TrainingStep | undefined {
  for (let b = 0; b < statements.length; b++) {
    if (!BACKWARD.test(statements[b].code) || /^\s*def\s/.test(statements[b].code)) continue;
    const clips: number[] = [];
    for (let s = b + 1; s < statements.length; s++) {
      const code = statements[s].code;
      if (/^\s*(?:def|class)\s/.test(code)) break;
      if (BACKWARD.test(code)) break;
      const step = optimizerStep(code);
      if (step) return { backward: b, step: s, clips, ...step };
      if (CLIP.test(code)) clips.push(s);
    }
  }
  return undefined;
}

/** Whether the text holds a training step: what makes a Python file a training script. */
export function hasTrainingStep(text: string): boolean {
  // Cheap test first: most Python files never call backward.
  return BACKWARD.test(text) && findTrainingStep(parsePython(text).statements) !== undefined;
}

/** Where in the script a hint's fix belongs. */
export type HintSite = 'clipping' | 'recurrent-layer' | 'vanilla-rnn' | 'hidden-state' | 'optimizer' | 'scaler' | 'model' | 'data-loop' | 'backward';

export const HINT_SITES: Record<HintId, HintSite> = {
  'add-norm-clipping': 'clipping',
  'lower-clip-threshold': 'clipping',
  'raise-clip-threshold': 'clipping',
  'prefer-norm-clipping': 'clipping',
  'unscale-before-clipping': 'clipping',
  'orthogonal-init': 'recurrent-layer',
  'spectral-norm': 'recurrent-layer',
  'gated-cells': 'vanilla-rnn',
  'truncated-bptt': 'hidden-state',
  'lower-lr': 'optimizer',
  'lr-warmup': 'optimizer',
  'loss-scaler': 'scaler',
  'residual-connections': 'model',
  'check-data': 'data-loop',
  'log-gradients': 'backward',
};

export function isHintId(id: string): id is HintId {
  return Object.prototype.hasOwnProperty.call(HINT_SITES, id);
}

export interface CodeLocation {
  /** 0-based line and the column range of what was found on it. */
  line: number;
  startColumn: number;
  endColumn: number;
  /** What is there, for a person: "the clip_grad_norm_ call". */
  what: string;
  /** False when the hint's own landmark is not in the script and this is the training step instead. */
  exact: boolean;
}

const RECURRENT = /\b(?:nn\.)?(RNN|LSTM|GRU)(?:Cell)?\s*\(/;
const VANILLA_RNN = /\b(?:nn\.)?RNN(?:Cell)?\s*\(/;
const OPTIMIZER = /\b(?:optim\.(?!lr_scheduler)[A-Za-z_]\w*|SGD|Adam|AdamW|RMSprop|Adagrad|Adadelta|Adamax|NAdam|RAdam|LBFGS|Lion|Adafactor)\s*\(/;
const GRAD_SCALER = /\bGradScaler\s*\(/;
const MODEL = /^\s*class\s+\w+\s*\([^)]*\bModule\b[^)]*\)|\bnn\.Sequential\s*\(/;
const HIDDEN_NAME = String.raw`(?:hidden|hiddens|hid|hx|h|h0|h_0|h_t|hc|state|states|carry)`;
/** The loop passes its hidden state from batch to batch: `output, hidden = model(x, hidden)`. */
const CARRIED_HIDDEN = new RegExp(String.raw`^\s*[\w\s,()]*\b${HIDDEN_NAME}\b[\w\s,()]*=[^=].*\(.*\b${HIDDEN_NAME}\b`, 's');
const DETACH_HIDDEN = new RegExp(String.raw`\brepackage_hidden\s*\(|\b${HIDDEN_NAME}\b\s*=.*\.detach\s*\(`, 's');
const INIT_HIDDEN = /\binit_hidden\s*\(/;
const LOOP = /^\s*(?:async\s+)?(?:for|while)\s/;

function located(source: PythonSource, statement: Statement, pattern: RegExp | undefined, what: string, exact: boolean): CodeLocation {
  const match = pattern ? pattern.exec(statement.code) : null;
  if (match) {
    const before = statement.code.slice(0, match.index);
    const line = statement.start + (before.match(/\n/g)?.length ?? 0);
    const startColumn = match.index - (before.lastIndexOf('\n') + 1);
    const text = match[0].trimStart();
    const leading = match[0].length - text.length;
    return { line, startColumn: startColumn + leading, endColumn: Math.min(source.lines[line].length, startColumn + match[0].length), what, exact };
  }
  const text = source.lines[statement.start];
  return { line: statement.start, startColumn: statement.indent.length, endColumn: text.length, what, exact };
}

function firstMatching(statements: readonly Statement[], pattern: RegExp, from = 0, to = statements.length): number | undefined {
  for (let i = from; i < to; i++) if (pattern.test(statements[i].code)) return i;
  return undefined;
}

/** The loops around the backward call, innermost first. */
export function loopsAround(statements: readonly Statement[], index: number): number[] {
  return enclosing(statements, index).filter((i) => LOOP.test(statements[i].code));
}

/**
 * Where the fix of a hint goes in this script, or undefined when the script
 * has no training step. When the hint's own landmark is missing (no nn.LSTM
 * in the file, say), the location is the training step, with `exact: false`.
 */
export function hintLocation(text: string, hint: HintId): CodeLocation | undefined {
  const source = parsePython(text);
  const { statements } = source;
  const step = findTrainingStep(statements);
  if (!step) return undefined;
  const at = (index: number | undefined, pattern: RegExp | undefined, what: string): CodeLocation | undefined =>
    index === undefined ? undefined : located(source, statements[index], pattern, what, true);
  const backward = (): CodeLocation => located(source, statements[step.backward], BACKWARD, 'the backward() call', false);
  const optimizerStepLocation = (): CodeLocation => located(source, statements[step.step], /[\w.]*\.step\s*\(/, 'the optimizer step', true);

  switch (HINT_SITES[hint]) {
    case 'clipping':
      // An existing clip call is what to change; without one, the clip goes right before the optimizer step.
      return at(step.clips[0], CLIP, 'the gradient clipping call') ?? optimizerStepLocation();
    case 'recurrent-layer':
      return at(firstMatching(statements, RECURRENT), RECURRENT, 'the recurrent layer') ?? backward();
    case 'vanilla-rnn':
      return at(firstMatching(statements, VANILLA_RNN) ?? firstMatching(statements, RECURRENT), RECURRENT, 'the recurrent layer') ?? backward();
    case 'hidden-state': {
      const loop = loopsAround(statements, step.backward).at(-1) ?? step.backward;
      return (
        at(firstMatching(statements, CARRIED_HIDDEN, loop, step.backward + 1), undefined, 'the hidden state carried between batches') ??
        at(firstMatching(statements, DETACH_HIDDEN), undefined, 'where the hidden state is detached') ??
        at(firstMatching(statements, INIT_HIDDEN), INIT_HIDDEN, 'the hidden state initialisation') ??
        backward()
      );
    }
    case 'optimizer':
      return at(firstMatching(statements, OPTIMIZER), OPTIMIZER, 'the optimizer construction') ?? backward();
    case 'scaler':
      return at(firstMatching(statements, GRAD_SCALER), GRAD_SCALER, 'the GradScaler') ?? backward();
    case 'model':
      return at(firstMatching(statements, MODEL), undefined, 'the model definition') ?? backward();
    case 'data-loop': {
      // The innermost loop is the one over batches.
      const loop = loopsAround(statements, step.backward)[0];
      return loop === undefined ? backward() : located(source, statements[loop], undefined, 'the loop over the batches', true);
    }
    case 'backward':
      return { ...backward(), exact: true };
  }
}
