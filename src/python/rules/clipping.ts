import type { Node } from 'web-tree-sitter';
import type { ClipCall, Extent, TrainingStep } from '../model';
import { contains, within } from '../syntax';
import type { PythonFinding, TextEdit } from '../types';
import { hasRecurrentLayers, importTorchIfMissing, moduleFor, parametersFor, torchUtilsPrefix, type RuleContext } from './context';

/** GL001 (no clipping between backward and step) and GL002 (clipping outside that window): one pass over the training steps so a misplaced clip is reported once, as misplaced, never also as missing. */
export function clippingFindings(context: RuleContext): PythonFinding[] {
  const findings: PythonFinding[] = [];
  const reportedClips = new Set<number>();
  for (const trainingStep of context.model.trainingSteps) {
    if (clipsBetween(context, trainingStep).length > 0) continue;
    const misplaced = misplacedClips(context, trainingStep);
    if (misplaced.length === 0) {
      findings.push(missingClipFinding(context, trainingStep));
      continue;
    }
    for (const clip of misplaced) {
      if (reportedClips.has(clip.call.id)) continue;
      reportedClips.add(clip.call.id);
      findings.push(misplacedClipFinding(context, trainingStep, clip));
    }
  }
  return findings;
}

function clipsBetween(context: RuleContext, { backward, step }: TrainingStep): ClipCall[] {
  return context.model.clips.filter((clip) => clip.start > backward.end && clip.end < step.start);
}

/** Clips in the step's loop body that run before its backward (and after any earlier step) or after its step (and before any later backward). */
function misplacedClips(context: RuleContext, { backward, step, blockExtent }: TrainingStep): ClipCall[] {
  const anyCallBetween = (calls: Extent[], from: number, to: number) => calls.some((call) => call.start > from && call.end < to);
  return context.model.clips.filter((clip) => {
    if (clip.scope !== step.scope || !within(blockExtent, clip)) return false;
    const beforeBackward = clip.end < backward.start && !anyCallBetween(context.model.steps, clip.end, backward.start);
    const afterStep = clip.start > step.end && !anyCallBetween(context.model.backwards, step.end, clip.start);
    return beforeBackward || afterStep;
  });
}

/** Whether the step's gradients are already unscaled (`scaler.unscale_(…)` between backward and step). */
function unscaledBetween(context: RuleContext, { backward, step }: TrainingStep): boolean {
  return context.model.unscales.some((call) => call.startIndex > backward.end && call.endIndex < step.start);
}

function missingClipFinding(context: RuleContext, trainingStep: TrainingStep): PythonFinding {
  const { backward, step } = trainingStep;
  const recurrent = hasRecurrentLayers(context);
  const backwardLine = context.source.positionAt(backward.start).line + 1;
  const edits = clipInsertion(context, trainingStep, clipLines(context, trainingStep));
  return {
    code: 'GL001',
    severity: recurrent ? 'warning' : 'information',
    message: `Training step without gradient clipping: \`${step.call.text}\` applies the gradient of \`${backward.call.text}\` (line ${backwardLine}) unbounded, so one exploding batch can wreck the weights.`
      + (recurrent ? ' This model has recurrent layers, where exploding gradients are common.' : ''),
    range: context.source.range(step.start, step.end),
    fixes: edits ? [{ title: `Clip gradients before the step (max_norm=${context.threshold})`, isPreferred: true, edits }] : [],
  };
}

/** The clip (after `scaler.unscale_` under AMP, since clipping scaled gradients would use a meaningless threshold) in the framework's own form. */
function clipLines(context: RuleContext, trainingStep: TrainingStep): string[] {
  const { backward, step } = trainingStep;
  const parameters = parametersFor(context, step.optimizer);
  const lines: string[] = [];
  const scaler = step.scaler ?? (backward.form === 'amp' ? backward.via : null);
  const alreadyUnscaled = unscaledBetween(context, trainingStep);
  if (scaler && !alreadyUnscaled) lines.push(`${scaler}.unscale_(${step.optimizer})`);
  const module = moduleFor(context, step.optimizer);
  if (backward.form === 'accelerate' && backward.via) {
    lines.push(`${backward.via}.clip_grad_norm_(${parameters}, max_norm=${context.threshold})`);
  } else if (backward.form === 'fabric' && backward.via && module) {
    lines.push(`${backward.via}.clip_gradients(${module}, ${step.optimizer}, max_norm=${context.threshold})`);
  } else {
    lines.push(`${torchUtilsPrefix(context)}.clip_grad_norm_(${parameters}, max_norm=${context.threshold})`);
  }
  return lines;
}

/** Edits putting `lines` on their own lines just before the step's statement, at its indentation; null when the step shares its line with other code (`if x: optimizer.step()`), where no insertion keeps the code's meaning. */
function clipInsertion(context: RuleContext, { step }: TrainingStep, lines: string[]): TextEdit[] | null {
  const { source } = context;
  if (!source.startsLine(step.statement.startIndex)) return null;
  const line = source.positionAt(step.statement.startIndex).line;
  const edits = [source.insertLinesBefore(line, source.indentation(line), lines)];
  if (lines.some((code) => code.startsWith('torch.'))) edits.unshift(...importTorchIfMissing(context));
  return edits;
}

function misplacedClipFinding(context: RuleContext, trainingStep: TrainingStep, clip: ClipCall): PythonFinding {
  const { backward, step } = trainingStep;
  const afterStep = clip.start > step.end;
  const where = afterStep
    ? `after \`${step.call.text}\`: the update has already used the unclipped gradient`
    : `before \`${backward.call.text}\`: backward writes the gradient after it was clipped, so the step uses it unclipped`;
  const edits = moveClip(context, trainingStep, clip);
  return {
    code: 'GL002',
    severity: 'error',
    message: `Gradient clipping in the wrong place, ${where}. Clip between backward and the optimizer step.`,
    range: context.source.range(clip.start, clip.end),
    fixes: edits ? [{ title: 'Move the clipping between backward and the optimizer step', isPreferred: true, edits }] : [],
  };
}

/** Cuts the statement holding the clip (with a `scaler.unscale_` statement right before it) and pastes it, re-indented, before the step. */
function moveClip(context: RuleContext, trainingStep: TrainingStep, clip: ClipCall): TextEdit[] | null {
  const { source } = context;
  const { backward, step } = trainingStep;
  const unit = [step.statement.parent, trainingStep.block]
    .filter((block): block is Node => !!block && contains(block, clip.call))
    .map((block) => statementIn(block, clip.call))[0];
  if (!unit || contains(unit, backward.call) || contains(unit, step.call) || !source.startsLine(unit.startIndex) || !source.startsLine(step.statement.startIndex)) return null;
  const previous = unit.previousNamedSibling;
  const first = previous && isUnscaleStatement(previous) && source.startsLine(previous.startIndex) ? previous : unit;
  const firstLine = source.positionAt(first.startIndex).line;
  const lastLine = source.positionAt(unit.endIndex).line;
  const originalIndent = source.indentation(firstLine);
  const stepLine = source.positionAt(step.statement.startIndex).line;
  const movedLines: string[] = [];
  for (let line = firstLine; line <= lastLine; line++) {
    const text = source.text.slice(source.lineStart(line), source.nextLineStart(line)).replace(/\r?\n$/, '');
    movedLines.push(text.startsWith(originalIndent) ? text.slice(originalIndent.length) : text.trimStart());
  }
  const needsUnscale = step.scaler !== null && !movedLines.some((text) => text.includes('.unscale_('))
    && !unscaledBetween(context, trainingStep);
  if (needsUnscale) movedLines.unshift(`${step.scaler}.unscale_(${step.optimizer})`);
  const cut: TextEdit = { range: source.range(source.lineStart(firstLine), source.nextLineStart(lastLine)), newText: '' };
  const paste = source.insertLinesBefore(stepLine, source.indentation(stepLine), movedLines);
  return [cut, paste];
}

/** The ancestor of `node` that is a statement directly inside `block`. */
function statementIn(block: Node, node: Node): Node | null {
  let current: Node | null = node;
  while (current && current.parent?.id !== block.id) current = current.parent;
  return current;
}

function isUnscaleStatement(statement: Node): boolean {
  const expression = statement.type === 'expression_statement' ? statement.namedChild(0) : null;
  return expression?.type === 'call' && expression.childForFieldName('function')?.childForFieldName('attribute')?.text === 'unscale_';
}
