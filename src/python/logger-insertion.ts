import type { Node } from 'web-tree-sitter';
import type { TrainingModel, TrainingStep } from './model';
import { moduleFor, type RuleContext } from './rules/context';
import { contains, enclosingFunction, positionalArguments, receiver } from './syntax';
import type { TextEdit } from './types';

const LOGGER_FILE = 'runs/gradlens.jsonl';

/** "Log gradient norms with GradLens": imports the logger (media/gradlens_logger.py), creates it before the training loop at `line` and logs once per optimizer step, after backward (and `unscale_`) and before clipping. [] when `line` is in no training loop or the file already uses the logger. */
export function loggerInsertion(context: RuleContext, line: number): TextEdit[] {
  const { model, source } = context;
  if (model.callsByName.has('GradLensLogger')) return [];
  const loopsAtLine = model.loops.filter((loop) => source.positionAt(loop.startIndex).line <= line && line <= source.positionAt(loop.endIndex).line);
  const trainingStep = model.trainingSteps.find((candidate) => loopsAtLine.some((loop) => contains(loop, candidate.backward.call) && contains(loop, candidate.step.call)));
  if (!trainingStep) return [];
  const outermostLoop = model.loops.find((loop) => contains(loop, trainingStep.backward.call) && contains(loop, trainingStep.step.call) && enclosingFunction(loop)?.id === enclosingFunction(trainingStep.step.call)?.id);
  const logPoint = logInsertionPoint(context, trainingStep);
  const module = moduleFor(context, trainingStep.step.optimizer);
  if (!outermostLoop || !logPoint || !module || !source.startsLine(outermostLoop.startIndex)) return [];

  const { step, backward } = trainingStep;
  const scaler = step.scaler ?? (backward.form === 'amp' ? backward.via : null);
  const loss = lossExpression(trainingStep);
  const loopLine = source.positionAt(outermostLoop.startIndex).line;
  const create = `gradlens = GradLensLogger("${LOGGER_FILE}", ${module}, optimizer=${step.optimizer}${scaler ? `, scaler=${scaler}` : ''})`;
  return [
    importEdit(model, context),
    source.insertLinesBefore(loopLine, source.indentation(loopLine), [create, 'gradlens_step = 0']),
    logPoint([loss ? `gradlens.log(gradlens_step, ${loss})` : 'gradlens.log(gradlens_step)', 'gradlens_step += 1']),
  ];
}

/** After an `unscale_` in the step's block (norms are then true norms), else before the first statement holding clipping, else before the step. */
function logInsertionPoint(context: RuleContext, { backward, step }: TrainingStep): ((lines: string[]) => TextEdit) | null {
  const { source, model } = context;
  const block = step.statement.parent;
  if (!block) return null;
  const between = (call: Node) => call.startIndex > backward.call.endIndex && call.endIndex < step.call.startIndex;
  const unscaleStatement = model.unscales.find((call) => between(call) && call.parent?.parent?.id === block.id)?.parent;
  if (unscaleStatement && source.startsLine(unscaleStatement.startIndex)) {
    const unscaleLine = source.positionAt(unscaleStatement.startIndex).line;
    const lastLine = source.positionAt(unscaleStatement.endIndex).line;
    return (lines) => source.insertLinesAfter(lastLine, source.indentation(unscaleLine), lines);
  }
  const clip = model.clips.find((candidate) => between(candidate.call) && contains(block, candidate.call));
  const clipStatement = clip ? block.namedChildren.find((statement) => statement !== null && contains(statement, clip.call)) : null;
  const anchor = clipStatement ?? step.statement;
  if (!source.startsLine(anchor.startIndex)) return null;
  const anchorLine = source.positionAt(anchor.startIndex).line;
  return (lines) => source.insertLinesBefore(anchorLine, source.indentation(anchorLine), lines);
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

function importEdit(model: TrainingModel, context: RuleContext): TextEdit {
  const topLevelImports = model.root.namedChildren.filter((statement): statement is Node => statement?.type === 'import_statement' || statement?.type === 'import_from_statement');
  const lastImport = topLevelImports[topLevelImports.length - 1];
  return lastImport
    ? context.source.insertLinesAfter(context.source.positionAt(lastImport.endIndex).line, '', ['from gradlens_logger import GradLensLogger'])
    : context.source.insertLinesBefore(0, '', ['from gradlens_logger import GradLensLogger']);
}
