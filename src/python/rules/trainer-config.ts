import type { Node } from 'web-tree-sitter';
import { children, hasKeywordSplat, keywordArgument } from '../syntax';
import type { PythonFinding, TextEdit } from '../types';
import { hasRecurrentLayers, type RuleContext } from './context';

const TRAINER_CLASSES = ['Trainer', 'TrainingArguments', 'Seq2SeqTrainingArguments'];

/** GL006: trainers configured without clipping — Lightning's `Trainer(...)` clips only with `gradient_clip_val`, Hugging Face's `TrainingArguments` clips at 1.0 unless `max_grad_norm` turns it off. */
export function trainerConfigFindings(context: RuleContext): PythonFinding[] {
  const findings: PythonFinding[] = [];
  const trainerCalls = TRAINER_CLASSES.flatMap((name) => context.model.callsByName.get(name) ?? []).sort((a, b) => a.startIndex - b.startIndex);
  for (const call of trainerCalls) {
    const origin = qualifiedCallee(context, call);
    if (!origin || hasKeywordSplat(call)) continue;
    if (/^(pytorch_lightning|lightning)(\.pytorch)?(\.trainer)?\.Trainer$/.test(origin)) {
      const finding = lightningFinding(context, call);
      if (finding) findings.push(finding);
    } else if (/^transformers(\.\w+)*\.(TrainingArguments|Seq2SeqTrainingArguments)$/.test(origin)) {
      const finding = huggingFaceFinding(context, call);
      if (finding) findings.push(finding);
    }
  }
  return findings;
}

/** `pl.Trainer` → `pytorch_lightning.Trainer`, `Trainer` → where it was imported from; '' when the name is not imported. */
function qualifiedCallee(context: RuleContext, call: Node): string {
  const callee = call.childForFieldName('function');
  if (!callee || (callee.type !== 'identifier' && callee.type !== 'attribute')) return '';
  const [head, ...rest] = callee.text.split('.');
  const origin = context.model.imports.get(head);
  return origin ? [origin, ...rest].join('.') : '';
}

function disablesClipping(value: Node | null | undefined): boolean {
  return !value || value.type === 'none' || ((value.type === 'integer' || value.type === 'float') && Number(value.text) === 0);
}

function lightningFinding(context: RuleContext, call: Node): PythonFinding | null {
  const argument = keywordArgument(call, 'gradient_clip_val');
  const value = argument?.childForFieldName('value');
  if (argument && !disablesClipping(value)) return null;
  const edits = argument && value ? [replaceValue(context, value)] : addKeyword(context, call, `gradient_clip_val=${context.threshold}`);
  return {
    code: 'GL006',
    severity: hasRecurrentLayers(context) ? 'warning' : 'information',
    message: argument
      ? 'Lightning `Trainer` with `gradient_clip_val` turned off: gradients are never clipped.'
      : 'Lightning `Trainer` without `gradient_clip_val`: Lightning does not clip gradients unless you set it.',
    range: context.source.range(call.startIndex, call.childForFieldName('arguments')?.startIndex ?? call.endIndex),
    fixes: edits ? [{ title: `Set gradient_clip_val=${context.threshold}`, isPreferred: true, edits }] : [],
  };
}

function huggingFaceFinding(context: RuleContext, call: Node): PythonFinding | null {
  const value = keywordArgument(call, 'max_grad_norm')?.childForFieldName('value');
  // Absent means the default 1.0, which clips; only an explicit 0 / None turns clipping off.
  if (!value || !disablesClipping(value)) return null;
  return {
    code: 'GL006',
    severity: 'warning',
    message: `\`TrainingArguments(max_grad_norm=${value.text})\` turns gradient clipping off (the default clips at 1.0).`,
    range: context.source.range(value.startIndex, value.endIndex),
    fixes: [{ title: `Set max_grad_norm=${context.threshold}`, isPreferred: true, edits: [replaceValue(context, value)] }],
  };
}

function replaceValue(context: RuleContext, value: Node): TextEdit {
  return { range: context.source.range(value.startIndex, value.endIndex), newText: context.threshold };
}

/** Adds `keyword` as the call's last argument, on its own line (matching the other arguments' indentation) when the call spans lines. */
function addKeyword(context: RuleContext, call: Node, keyword: string): TextEdit[] | null {
  const { source } = context;
  const argumentList = call.childForFieldName('arguments');
  if (!argumentList || argumentList.type !== 'argument_list') return null;
  const argumentsInCall = children(argumentList).filter((node) => node.type !== 'comment');
  const last = argumentsInCall[argumentsInCall.length - 1];
  if (!last) {
    const at = source.positionAt(argumentList.startIndex + 1);
    return [{ range: { start: at, end: at }, newText: keyword }];
  }
  const trailingComma = last.nextSibling?.type === ',' ? last.nextSibling : null;
  const lastLine = source.positionAt(last.startIndex).line;
  const multiline = source.positionAt(argumentList.startIndex).line !== lastLine && source.startsLine(last.startIndex);
  const insertAfter = trailingComma ?? last;
  const at = source.positionAt(insertAfter.endIndex);
  const newText = multiline
    ? `${trailingComma ? '' : ','}${source.eol}${source.indentation(lastLine)}${keyword}${trailingComma ? ',' : ''}`
    : `${trailingComma ? ' ' : ', '}${keyword}`;
  return [{ range: { start: at, end: at }, newText }];
}
