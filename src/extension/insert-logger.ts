/**
 * "Insert Gradient Logger": the text edits that add media/gradlens_logger.py
 * to a training script. The import goes after the script's imports, the
 * logger is created just before the training loop (model and optimizer exist
 * by then), and `log(step, loss)` goes after backward() and any
 * `scaler.unscale_()`, before clipping and the optimizer step, as the
 * logger's documentation asks. Whatever is already there is not inserted
 * again. No vscode import: the tests run it on real scripts.
 */
import { callArguments, openingBracket, originalText, parsePython, type PythonSource, type Statement } from './python-source';
import { findTrainingStep, loopsAround, type TrainingStep } from './training-script';

/** Text to insert at a position of the original document (0-based). */
export interface Insertion {
  line: number;
  character: number;
  text: string;
}

export interface LoggerPlan {
  insertions: Insertion[];
  /** `training-step`: placed around the training step; `cursor`: no training loop found, placed at the cursor; `present`: nothing to add. */
  placement: 'training-step' | 'cursor' | 'present';
  /** What was done, for the person who asked. */
  message: string;
}

export const LOGGER_MODULE = 'gradlens_logger';
export const LOGGER_VARIABLE = 'grad_logger';
const IMPORT_LINE = `from ${LOGGER_MODULE} import GradLensLogger`;
const COUNTER = 'grad_logger_step';

const IMPORT = /^(?:import\s|from\s+[\w.]+\s+import\s)/;
const HEADER_END = /^(?:def|class|async|if|for|while|with|try)\b|^@/;
const HAS_IMPORT = new RegExp(String.raw`^\s*(?:from\s+${LOGGER_MODULE}\s+import\b|import\s+${LOGGER_MODULE}\b)`, 'm');
const CONSTRUCTED = /\bGradLensLogger\s*\(/;
const STEP_NAME = /^(?:global_step|step|steps|total_steps|train_step|update_step|updates|num_updates|iteration|iterations|iter|it|n_iter)$/;

const pythonString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Lines inserted before statement `s` (at its first line). */
function before(source: PythonSource, s: Statement, lines: string[]): Insertion {
  return { line: s.start, character: 0, text: lines.map((l) => l + source.eol).join('') };
}

/** Lines inserted after line `end`; at the end of a file without a final newline, the text starts a new line. */
function after(source: PythonSource, end: number, lines: string[]): Insertion {
  if (end + 1 < source.lines.length) return { line: end + 1, character: 0, text: lines.map((l) => l + source.eol).join('') };
  return { line: end, character: source.lines[end].length, text: lines.map((l) => source.eol + l).join('') };
}

/** After the script's imports (its header: docstring, imports, constants, up to the first def, class or block). */
function importInsertion(source: PythonSource): Insertion {
  let lastImport: Statement | undefined;
  let docstring: Statement | undefined;
  for (const [i, s] of source.statements.entries()) {
    if (s.indent !== '') continue;
    const code = s.code.trimStart();
    if (i === 0 && /^[rRuUbBfF]*['"]/.test(code)) docstring = s;
    else if (IMPORT.test(code)) lastImport = s;
    else if (HEADER_END.test(code)) break;
  }
  const anchor = lastImport ?? docstring;
  if (anchor) return after(source, anchor.end, [IMPORT_LINE]);
  // Before the first statement, so a shebang or coding line stays first.
  const first = source.statements[0];
  return first ? before(source, first, [IMPORT_LINE]) : { line: 0, character: 0, text: IMPORT_LINE + source.eol };
}

/** The variable an existing GradLensLogger is bound to: `x = GradLensLogger(...)` or `with GradLensLogger(...) as x`. */
function existingLoggerVariable(statements: readonly Statement[]): string | undefined {
  for (const s of statements) {
    const assigned = /([A-Za-z_][\w.]*)\s*=\s*GradLensLogger\s*\(/.exec(s.code);
    if (assigned) return assigned[1];
    const open = s.code.search(CONSTRUCTED);
    if (open >= 0) {
      const call = callArguments(s.code, s.code.indexOf('(', open));
      const bound = call && /^\s*as\s+([A-Za-z_]\w*)/.exec(s.code.slice(call.close + 1));
      if (bound) return bound[1];
    }
  }
  return undefined;
}

/**
 * The loss, as written, of `loss.backward()`, `scaler.scale(loss).backward()`,
 * `(loss / k).backward()` and `accelerator.backward(loss)`.
 */
function lossExpression(text: string, code: string): string | undefined {
  const call = /\bbackward\s*\(/.exec(code);
  if (!call) return undefined;
  const positional = callArguments(code, call.index + call[0].length - 1)?.args.find((a) => !/^\w+\s*=/.test(a.text));
  if (positional) return text.slice(positional.start, positional.end);
  const receiverEnd = code.slice(0, call.index).trimEnd();
  if (!receiverEnd.endsWith('.')) return undefined;
  const last = receiverEnd.length - 2;
  if (code[last] !== ')') return /([A-Za-z_][\w.]*)\s*\.$/.exec(receiverEnd)?.[1];
  const open = openingBracket(code, last);
  // `( … ).backward()` is the loss itself; `scaler.scale( … ).backward()` is the scaled loss.
  if (open < 0 || !(/\.scale\s*$/.test(code.slice(0, open)) || !/[\w.)\]]\s*$/.test(code.slice(0, open)))) return undefined;
  const inner = callArguments(code, open)?.args[0];
  return inner ? text.slice(inner.start, inner.end) : undefined;
}

/** A `for` header's target and iterable: `for i, (x, y) in enumerate(loader):` → i, enumerate, loader. */
function forLoop(code: string): { index?: string; over: 'range' | 'enumerate' | 'other'; iterable?: string } | undefined {
  const header = /^\s*for\s+(.+?)\s+in\s+(.+):\s*$/s.exec(code);
  if (!header) return undefined;
  const [, target, iterable] = header;
  const call = /^(range|enumerate)\s*\(\s*([\w.]+)\s*\)$/.exec(iterable.trim()) ?? /^(range|enumerate)\s*\(/.exec(iterable.trim());
  const first = /^\(?\s*([A-Za-z_]\w*)/.exec(target)?.[1];
  if (!call) return { over: 'other' };
  return { index: first, over: call[1] as 'range' | 'enumerate', iterable: call[2] };
}

/**
 * The step to log, as Python: a counter the loop already keeps (`global_step
 * += 1`), the loop index (`epoch * len(loader) + i` for epochs of batches),
 * or undefined when GradLens has to count itself. A logged step must be new
 * each time (GradLens reads a repeated step as a restart), so a counter
 * counts only if every pass of the innermost loop adds one to it: it sits
 * in that loop's body, not under an `if`.
 */
function stepExpression(statements: readonly Statement[], loops: number[]): string | undefined {
  const [innermost, outermost] = [loops[0], loops[loops.length - 1]];
  const body = statements[innermost + 1].indent;
  const counters: string[] = [];
  for (let i = innermost + 1; i < statements.length && statements[i].indent.length >= body.length; i++) {
    const counted = statements[i].indent === body && /^\s*([A-Za-z_]\w*)\s*\+=\s*1\s*$/.exec(statements[i].code);
    if (counted && statements.slice(0, outermost).some((s) => new RegExp(String.raw`^\s*${counted[1]}\s*=[^=]`).test(s.code))) counters.push(counted[1]);
  }
  const counter = counters.find((c) => STEP_NAME.test(c)) ?? counters[0];
  if (counter) return counter;
  const inner = forLoop(statements[innermost].code);
  if (!inner?.index || inner.over === 'other') return undefined;
  if (loops.length === 1) return inner.index;
  const epoch = loops.length === 2 ? forLoop(statements[loops[1]].code) : undefined;
  if (epoch?.index && epoch.over !== 'other' && inner.iterable) {
    const perEpoch = inner.over === 'enumerate' ? `len(${inner.iterable})` : inner.iterable;
    return `${epoch.index} * ${perEpoch} + ${inner.index}`;
  }
  return undefined;
}

/** The model: what the loop clips or the optimizer was built from, else what the loop calls that the optimizer also names. */
function modelExpression(statements: readonly Statement[], step: TrainingStep | undefined, optimizer: string | undefined): string {
  const parametersOf = (s: Statement | undefined) => (s ? /([A-Za-z_][\w.]*)\.(?:named_)?parameters\s*\(/.exec(s.code)?.[1] : undefined);
  const built = optimizer ? statements.find((s) => new RegExp(String.raw`^\s*${optimizer.replace(/\./g, '\\.')}\s*=[^=]`).test(s.code)) : undefined;
  const fromClip = step?.clips.map((c) => parametersOf(statements[c])).find((m) => m !== undefined);
  const fromOptimizer = parametersOf(built);
  if (fromClip ?? fromOptimizer) return (fromClip ?? fromOptimizer)!;
  if (built && step) {
    const named = new Set(built.code.match(/[A-Za-z_]\w*/g));
    const called = statements.slice(Math.max(0, step.backward - 3), step.backward + 1).flatMap((s) => [...s.code.matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]));
    const model = called.find((name) => named.has(name) && name !== optimizer);
    if (model) return model;
  }
  return statements.map((s) => parametersOf(s)).find((m) => m !== undefined && m !== 'self') ?? 'model';
}

/** `max_norm=` for the logger, when the clip call's threshold is a literal or a name set up before the loop. */
function maxNormExpression(statements: readonly Statement[], step: TrainingStep, loopStart: number): string | undefined {
  const clip = step.clips.map((c) => statements[c].code).find((code) => /clip_grad_norm_?\s*\(/.test(code));
  if (!clip) return undefined;
  const open = clip.indexOf('(', clip.search(/clip_grad_norm_?\s*\(/));
  const args = (callArguments(clip, open)?.args ?? []).map((a) => a.text);
  const keyword = args.map((a) => /^max_norm\s*=\s*(.+)$/s.exec(a)?.[1]).find((v) => v !== undefined);
  const value = (keyword ?? (args[1] !== undefined && !args[1].includes('=') ? args[1] : undefined))?.trim();
  if (value === undefined) return undefined;
  if (/^\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$|^\.\d+$/.test(value)) return value;
  const root = /^([A-Za-z_]\w*)(?:\.\w+)*$/.exec(value)?.[1];
  return root && statements.slice(0, loopStart).some((s) => new RegExp(String.raw`\b${root}\b`).test(s.code)) ? value : undefined;
}

function optionsText(optimizer: string | undefined, maxNorm: string | undefined, scaler: string | undefined): string {
  const options: string[] = [];
  if (optimizer) options.push(`optimizer=${optimizer}`);
  if (maxNorm) options.push(`max_norm=${maxNorm}`);
  if (scaler && optimizer) options.push(`scaler=${scaler}`);
  return options.map((o) => ', ' + o).join('');
}

/** Merges insertions at one position, keeping their order, so an editor applies them as planned. */
function merged(insertions: Insertion[]): Insertion[] {
  const out: Insertion[] = [];
  for (const i of insertions) {
    const same = out.find((o) => o.line === i.line && o.character === i.character);
    if (same) same.text += i.text;
    else out.push({ ...i });
  }
  return out.sort((a, b) => a.line - b.line || a.character - b.character);
}

/** The statement the cursor is in, or the first one after it. */
function statementAt(statements: readonly Statement[], line: number): Statement | undefined {
  return statements.find((s) => s.end >= line);
}

const PRESENT: LoggerPlan = { insertions: [], placement: 'present', message: 'The gradient logger is already in this script.' };

export function planLoggerInsertion(text: string, options: { cursorLine: number; logPath?: string }): LoggerPlan {
  const source = parsePython(text);
  const { statements } = source;
  const code = statements.map((s) => s.code).join('\n');
  const logPath = pythonString(options.logPath ?? 'gradlens.jsonl');
  const insertions: Insertion[] = [];
  const done: string[] = [];
  if (!HAS_IMPORT.test(code)) {
    insertions.push(importInsertion(source));
    done.push('the import');
  }
  const existing = CONSTRUCTED.test(code) ? existingLoggerVariable(statements) : undefined;
  const logger = existing ?? LOGGER_VARIABLE;
  const step = findTrainingStep(statements);
  const loops = step ? loopsAround(statements, step.backward) : [];

  if (!step || loops.length === 0) {
    if (!CONSTRUCTED.test(code)) {
      const here = statementAt(statements, options.cursorLine);
      const indent = here?.indent ?? /^[ \t]*/.exec(source.lines[Math.min(options.cursorLine, source.lines.length - 1)])![0];
      const lines = [
        `${indent}# GradLens: no training loop found here; call ${LOGGER_VARIABLE}.log(step, loss) after loss.backward() and before clipping and optimizer.step().`,
        `${indent}${LOGGER_VARIABLE} = GradLensLogger(${logPath}, ${modelExpression(statements, step, undefined)})`,
      ];
      insertions.push(here ? before(source, here, lines) : after(source, source.lines.length - 1, lines));
      done.push('the logger at the cursor');
    }
    if (insertions.length === 0) return PRESENT;
    return {
      insertions: merged(insertions),
      placement: 'cursor',
      message: `No training loop (loss.backward() then optimizer.step() in a loop) found: inserted ${done.join(' and ')}. Call ${LOGGER_VARIABLE}.log(step, loss) after backward() and before clipping and optimizer.step().`,
    };
  }

  const outer = statements[loops[loops.length - 1]];
  const stepText = stepExpression(statements, loops);
  const needsCounter = stepText === undefined;
  if (!CONSTRUCTED.test(code)) {
    const options = optionsText(step.optimizer, maxNormExpression(statements, step, loops[loops.length - 1]), step.scaler);
    const lines = [`${outer.indent}${LOGGER_VARIABLE} = GradLensLogger(${logPath}, ${modelExpression(statements, step, step.optimizer)}${options})`];
    if (needsCounter) lines.push(`${outer.indent}${COUNTER} = 0`);
    insertions.push(before(source, outer, lines));
    done.push('the logger before the training loop');
  } else if (!existing) {
    return { insertions: merged(insertions), placement: insertions.length > 0 ? 'training-step' : 'present', message: 'This script creates a GradLensLogger GradLens cannot name; call its log(step, loss) after backward() and before optimizer.step().' };
  }

  if (!new RegExp(String.raw`\b${logger.replace(/\./g, '\\.')}\.log\s*\(`).test(code)) {
    const target = statements[step.clips[0] ?? step.step];
    const backward = statements[step.backward];
    const loss = lossExpression(originalText(source, backward), backward.code);
    const args = [needsCounter ? COUNTER : stepText, ...(loss ? [loss] : [])].join(', ');
    const lines = [`${target.indent}${logger}.log(${args})`];
    if (needsCounter) {
      if (existing) insertions.push(before(source, outer, [`${outer.indent}${COUNTER} = 0`]));
      lines.push(`${target.indent}${COUNTER} += 1`);
    }
    insertions.push(before(source, target, lines));
    done.push(`${logger}.log(…) before ${step.clips.length > 0 ? 'clipping' : 'the optimizer step'}`);
  }
  if (insertions.length === 0) return PRESENT;
  return { insertions: merged(insertions), placement: 'training-step', message: `Inserted ${done.join(', ')}.` };
}
