import type { Node } from 'web-tree-sitter';
import type { Extent, ScopeId, TrainingStep } from './model';
import { moduleFor, type RuleContext } from './rules/context';
import { children, contains, enclosingFunction, keywordArgument, positionalArguments, receiver, within } from './syntax';
import type { TextEdit } from './types';

/** The Python module of media/gradlens_logger.py, which must sit beside the script. */
const LOGGER_MODULE = 'gradlens_logger';
const LOGGER_VARIABLE = 'grad_logger';
const COUNTER = 'grad_logger_step';
const LOG_FILE = 'gradlens.jsonl';
/** Counters a loop keeps that read as a step, preferred over other counters. */
const STEP_NAMES = /^(?:global_step|step|steps|total_steps|train_step|update_step|updates|num_updates|iteration|iterations|iter|it|n_iter)$/;

/** Which training loop to instrument: the one at `line`; with `orFirstLoop`, the file's first one when `line` is in none. */
export interface LoggerTarget { line: number; orFirstLoop: boolean }

/** The edits adding the logger and what they do, or why there is nothing to add. */
export type LoggerPlan = { type: 'insertion'; edits: TextEdit[]; message: string } | { type: 'nothing'; reason: string };

const nothing = (reason: string): LoggerPlan => ({ type: 'nothing', reason });
const PRESENT = 'The gradient logger is already in this script.';

/**
 * "Log gradient norms with GradLens" (the code action and the Insert
 * Gradient Logger command alike): imports the logger, creates it before the
 * training loop and logs once per optimizer step, after backward (and
 * `unscale_`) and before clipping, as media/gradlens_logger.py asks. The
 * step logged is a counter the loop keeps, else the loop's index, else a
 * counter of its own. Whatever the script already has is not inserted again.
 */
export function planLoggerInsertion(context: RuleContext, target: LoggerTarget): LoggerPlan {
  const { model, source } = context;
  const chosen = trainingLoop(context, target);
  if (!chosen) return nothing('No training loop found: GradLens looks for backward() followed by an optimizer step() inside a for or while loop.');
  const { trainingStep, loops } = chosen;
  const outermost = loops[0];
  const created = existingLogger(model.callsByName.get('GradLensLogger') ?? []);
  if (created?.variable === null) return nothing('This script creates a GradLensLogger GradLens cannot name: call its log(step, loss) after backward() and before clipping and optimizer.step().');
  const logger = created?.variable ?? LOGGER_VARIABLE;
  const logs = (model.callsByName.get('log') ?? []).some((call) => receiver(call)?.text === logger);
  const imported = [...model.imports.values()].some((origin) => origin === LOGGER_MODULE || origin.startsWith(`${LOGGER_MODULE}.`));
  if (logs && created) return nothing(PRESENT);

  const logPoint = logInsertionPoint(context, trainingStep);
  const module = moduleFor(context, trainingStep.step.optimizer);
  if (!logPoint || !source.startsLine(outermost.start)) return nothing('GradLens cannot place the logger here: the training loop shares a line with other code.');
  if (!created && !module) return nothing('GradLens cannot tell which model the optimizer trains: create GradLensLogger("gradlens.jsonl", model, optimizer=…) yourself.');

  const step = stepExpression(context, loops);
  const loopLine = source.positionAt(outermost.start).line;
  const loopIndent = source.indentation(loopLine);
  const edits: TextEdit[] = [];
  const done: string[] = [];
  if (!imported) {
    edits.push(importEdit(context));
    done.push('the import');
  }
  if (!created && module) {
    const { step: optimizerStep, backward } = trainingStep;
    const scaler = optimizerStep.scaler ?? (backward.form === 'amp' ? backward.via : null);
    const maxNorm = maxNormExpression(context, trainingStep, outermost);
    const options = [`optimizer=${optimizerStep.optimizer}`, ...(maxNorm ? [`max_norm=${maxNorm}`] : []), ...(scaler ? [`scaler=${scaler}`] : [])];
    const lines = [`${LOGGER_VARIABLE} = GradLensLogger("${LOG_FILE}", ${module}, ${options.join(', ')})`, ...(step ? [] : [`${COUNTER} = 0`])];
    edits.push(source.insertLinesBefore(loopLine, loopIndent, lines));
    done.push('the logger before the training loop');
  } else if (!step && !logs) {
    edits.push(source.insertLinesBefore(loopLine, loopIndent, [`${COUNTER} = 0`]));
  }
  if (!logs) {
    const loss = lossExpression(trainingStep);
    const args = [step ?? COUNTER, ...(loss ? [loss] : [])].join(', ');
    edits.push(logPoint.insert([`${logger}.log(${args})`, ...(step ? [] : [`${COUNTER} += 1`])]));
    done.push(`${logger}.log(…) ${logPoint.where}`);
  }
  if (edits.length === 0) return nothing(PRESENT);
  return { type: 'insertion', edits: mergedInsertions(edits), message: `Inserted ${done.join(', ')}.` };
}

/** Insertions at one place as one edit, in their order: editors need not agree on how they order several edits at one position. */
function mergedInsertions(edits: TextEdit[]): TextEdit[] {
  const merged: TextEdit[] = [];
  for (const edit of edits) {
    const { line, character } = edit.range.start;
    const same = merged.find(({ range }) => range.start.line === line && range.start.character === character);
    if (same) same.newText += edit.newText;
    else merged.push({ range: edit.range, newText: edit.newText });
  }
  return merged;
}

/** A `for` or `while` statement with its offsets read once. */
interface Loop extends Extent { node: Node }

/** The training step to instrument and the loops around it in its function, outermost first. */
function trainingLoop({ model, source }: RuleContext, target: LoggerTarget): { trainingStep: TrainingStep; loops: Loop[] } | undefined {
  const candidates = model.trainingSteps.map((trainingStep) => ({ trainingStep, loops: [] as Loop[] }));
  // Loops and training steps are both in source order: each loop looks only at the steps starting inside it, and reads its offsets across wasm once.
  let firstInside = 0;
  for (const node of model.loops) {
    const loop: Loop = { node, start: node.startIndex, end: node.endIndex };
    let scope: ScopeId | undefined;
    while (firstInside < candidates.length && candidates[firstInside].trainingStep.step.start < loop.start) firstInside++;
    for (let index = firstInside; index < candidates.length && candidates[index].trainingStep.step.start < loop.end; index++) {
      const { trainingStep, loops } = candidates[index];
      const { backward, step } = trainingStep;
      if (!within(loop, backward) || !within(loop, step)) continue;
      // The loop must be in the step's function (the model's scope ids: 0 at module level).
      scope ??= enclosingFunction(node)?.id ?? 0;
      if (scope === step.scope) loops.push(loop);
    }
  }
  const withLoops = candidates.filter(({ loops }) => loops.length > 0);
  const atLine = withLoops.find(({ loops }) => loops.some((loop) => source.positionAt(loop.start).line <= target.line && target.line <= source.positionAt(loop.end).line));
  return atLine ?? (target.orFirstLoop ? withLoops[0] : undefined);
}

/** The variable an existing GradLensLogger is bound to (`x = GradLensLogger(…)`, `with GradLensLogger(…) as x`): undefined when there is none, null when it has no name. */
function existingLogger(constructions: Node[]): { variable: string | null } | undefined {
  const [construction] = constructions;
  if (!construction) return undefined;
  const parent = construction.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === construction.id) {
    const left = parent.childForFieldName('left');
    return { variable: left && (left.type === 'identifier' || left.type === 'attribute') ? left.text : null };
  }
  if (parent?.type === 'as_pattern') return { variable: parent.childForFieldName('alias')?.text ?? null };
  return { variable: null };
}

/**
 * The step to log, as Python: a counter the loop keeps (`global_step += 1`),
 * the loop's index (`epoch * len(loader) + i` over epochs of batches), or
 * null when the logger has to count itself. A logged step must be new each
 * time (GradLens reads a repeated step as a restart), so a counter counts only
 * if every pass of the innermost loop adds one to it: it sits in that loop's
 * body, not under an `if`, and is set before the loops.
 */
function stepExpression({ model }: RuleContext, loops: Loop[]): string | null {
  const outermost = loops[0];
  const innermost = loops[loops.length - 1].node;
  const counters = children(innermost.childForFieldName('body') ?? innermost)
    .map((statement) => statement.firstNamedChild)
    .filter((increment): increment is Node => increment?.type === 'augmented_assignment' && increment.childForFieldName('operator')?.text === '+=' && increment.childForFieldName('right')?.text === '1')
    .map((increment) => increment.childForFieldName('left'))
    .filter((left): left is Node => left?.type === 'identifier')
    .map((left) => left.text)
    .filter((name) => model.assignmentSites.some((site) => site.end <= outermost.start && site.names.includes(name)));
  const counter = counters.find((name) => STEP_NAMES.test(name)) ?? counters[0];
  if (counter) return counter;
  const inner = countingLoop(innermost);
  if (!inner) return null;
  if (loops.length === 1) return inner.index;
  const epoch = loops.length === 2 ? countingLoop(outermost.node) : undefined;
  if (!epoch || !inner.over) return null;
  return `${epoch.index} * ${inner.counts === 'enumerate' ? `len(${inner.over})` : inner.over} + ${inner.index}`;
}

/** `for i in range(n)` / `for i, batch in enumerate(loader)`: the index, and what it counts through when that is a plain name or number. */
function countingLoop(loop: Node): { index: string; counts: 'range' | 'enumerate'; over: string | null } | undefined {
  if (loop.type !== 'for_statement') return undefined;
  const iterable = loop.childForFieldName('right');
  const counts = iterable?.type === 'call' ? iterable.childForFieldName('function')?.text : undefined;
  if (!iterable || (counts !== 'range' && counts !== 'enumerate')) return undefined;
  const left = loop.childForFieldName('left');
  const first = left?.type === 'identifier' && counts === 'range' ? left : left?.type === 'pattern_list' || left?.type === 'tuple_pattern' ? left.firstNamedChild : null;
  if (first?.type !== 'identifier') return undefined;
  const args = positionalArguments(iterable);
  const over = args.length === 1 && ['identifier', 'attribute', 'integer'].includes(args[0].type) ? args[0].text : null;
  return { index: first.text, counts, over };
}

/** `max_norm=` for the logger, when the clip's threshold is a number or a name set before the training loop. */
function maxNormExpression({ model }: RuleContext, { backward, step }: TrainingStep, outermost: Loop): string | null {
  const clip = model.clips.find((candidate) => candidate.kind === 'norm' && candidate.start > backward.end && candidate.end < step.start);
  if (!clip) return null;
  const value = keywordArgument(clip.call, 'max_norm')?.childForFieldName('value') ?? positionalArguments(clip.call)[1];
  if (!value) return null;
  if (value.type === 'float' || value.type === 'integer') return value.text;
  if (value.type !== 'identifier' && value.type !== 'attribute') return null;
  const root = value.text.split('.')[0];
  const parameters = enclosingFunction(outermost.node)?.childForFieldName('parameters');
  const setBefore =
    model.assignmentSites.some((site) => site.end <= outermost.start && site.names.includes(root)) ||
    model.imports.has(root) ||
    (parameters !== null && parameters !== undefined && children(parameters).some((parameter) => (parameter.type === 'identifier' ? parameter : parameter.firstNamedChild)?.text === root));
  return setBefore ? value.text : null;
}

/** After an `unscale_` in the step's block (norms are then true norms), else before the first statement holding clipping, else before the step. */
function logInsertionPoint(context: RuleContext, { backward, step }: TrainingStep): { insert: (lines: string[]) => TextEdit; where: string } | null {
  const { source, model } = context;
  const block = step.statement.parent;
  if (!block) return null;
  const between = (start: number, end: number) => start > backward.end && end < step.start;
  const unscaleStatement = model.unscales.find((call) => between(call.startIndex, call.endIndex) && call.parent?.parent?.id === block.id)?.parent;
  if (unscaleStatement && source.startsLine(unscaleStatement.startIndex)) {
    const unscaleLine = source.positionAt(unscaleStatement.startIndex).line;
    const lastLine = source.positionAt(unscaleStatement.endIndex).line;
    return { insert: (lines) => source.insertLinesAfter(lastLine, source.indentation(unscaleLine), lines), where: 'after unscale_' };
  }
  const clip = model.clips.find((candidate) => between(candidate.start, candidate.end) && contains(block, candidate.call));
  const clipStatement = clip ? block.namedChildren.find((statement) => statement !== null && contains(statement, clip.call)) : null;
  const anchor = clipStatement ?? step.statement;
  if (!source.startsLine(anchor.startIndex)) return null;
  const anchorLine = source.positionAt(anchor.startIndex).line;
  return { insert: (lines) => source.insertLinesBefore(anchorLine, source.indentation(anchorLine), lines), where: clipStatement ? 'before clipping' : 'before the optimizer step' };
}

/** The loss as a name the logger can read again (`loss`, `outputs.loss`); a computed expression would run the model twice. */
function lossExpression({ backward }: TrainingStep): string | null {
  const target = receiver(backward.call);
  // `loss.backward()` names the loss before the dot; `scaler.scale(loss)`, `accelerator.backward(loss)` and `torch.autograd.backward(loss)` pass it.
  const lossBeforeDot = backward.form === 'tensor' && target !== null && !/(^|\.)autograd$/.test(target.text);
  const lossCarrier = backward.form === 'amp' ? target : backward.call;
  const candidate = lossBeforeDot ? target : lossCarrier ? positionalArguments(lossCarrier)[0] ?? null : null;
  return candidate && (candidate.type === 'identifier' || candidate.type === 'attribute') ? candidate.text : null;
}

/**
 * The import, after the script's header imports (the top-level statements
 * before its first def, class or block), else after its docstring, else
 * before its first statement, so a shebang or coding line stays first.
 */
function importEdit({ model, source }: RuleContext): TextEdit {
  const line = [`from ${LOGGER_MODULE} import GradLensLogger`];
  const statements = children(model.root).filter((statement) => statement.type !== 'comment');
  let anchor: Node | undefined;
  for (const [index, statement] of statements.entries()) {
    if (statement.type === 'import_statement' || statement.type === 'import_from_statement' || statement.type === 'future_import_statement') anchor = statement;
    else if (index === 0 && statement.type === 'expression_statement' && statement.firstNamedChild?.type === 'string') anchor = statement;
    else if (statement.type !== 'expression_statement') break;
  }
  if (anchor) return source.insertLinesAfter(source.positionAt(anchor.endIndex).line, '', line);
  return source.insertLinesBefore(statements[0] ? source.positionAt(statements[0].startIndex).line : 0, '', line);
}
