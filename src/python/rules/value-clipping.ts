import { keywordArgument, positionalArguments } from '../syntax';
import type { PythonFinding, TextEdit } from '../types';
import { torchUtilsPrefix, type RuleContext } from './context';

/** GL003: `clip_grad_value_` clips every gradient element on its own, which changes the gradient's direction; norm clipping rescales it as a whole. */
export function valueClippingFindings(context: RuleContext): PythonFinding[] {
  return context.model.clips.filter((clip) => clip.kind === 'value').map(({ call }) => {
    const callee = call.childForFieldName('function');
    const argumentList = call.childForFieldName('arguments');
    const parameters = positionalArguments(call)[0] ?? keywordArgument(call, 'parameters')?.childForFieldName('value');
    const edits: TextEdit[] = [];
    if (callee && argumentList && parameters) {
      // A bare `clip_grad_value_` was imported by name; its norm sibling is reached through torch instead of touching imports.
      const normClip = callee.type === 'attribute'
        ? `${callee.childForFieldName('object')?.text}.clip_grad_norm_`
        : `${torchUtilsPrefix(context)}.clip_grad_norm_`;
      edits.push(
        { range: context.source.range(callee.startIndex, callee.endIndex), newText: normClip },
        { range: context.source.range(argumentList.startIndex, argumentList.endIndex), newText: `(${parameters.text}, max_norm=${context.threshold})` },
      );
    }
    const canReachTorch = callee?.type === 'attribute' || context.model.imports.has('torch') || context.model.imports.get('nn') === 'torch.nn';
    return {
      code: 'GL003',
      severity: 'hint',
      message: '`clip_grad_value_` clips each gradient element separately, which turns the gradient\'s direction; `clip_grad_norm_` scales the whole gradient down and keeps its direction.',
      range: context.source.range(call.startIndex, call.endIndex),
      fixes: edits.length > 0 && canReachTorch ? [{ title: `Clip the gradient norm instead (max_norm=${context.threshold})`, isPreferred: true, edits }] : [],
    };
  });
}
