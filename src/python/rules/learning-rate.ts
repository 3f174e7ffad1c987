import { calleeName, keywordArgument, positionalArguments } from '../syntax';
import type { PythonFinding } from '../types';
import { hasRecurrentLayers, type RuleContext } from './context';

/** GL007: plain SGD with a literal learning rate of 1 or more on a recurrent model, with no norm clipping anywhere to bound the step. */
export function learningRateFindings(context: RuleContext): PythonFinding[] {
  if (!hasRecurrentLayers(context) || context.model.clips.some((clip) => clip.kind === 'norm')) return [];
  const findings: PythonFinding[] = [];
  for (const { call } of context.model.optimizers.values()) {
    if (calleeName(call) !== 'SGD') continue;
    const rate = keywordArgument(call, 'lr')?.childForFieldName('value') ?? positionalArguments(call)[1];
    if (!rate || (rate.type !== 'integer' && rate.type !== 'float') || !(Number(rate.text.replace(/_/g, '')) >= 1)) continue;
    findings.push({
      code: 'GL007',
      severity: 'hint',
      message: `SGD with lr=${rate.text} on a recurrent model: a step this large turns one gradient spike into a jump of the weights. Large rates like this work with gradient-norm clipping (PyTorch's word-language-model clips at 0.25), else lower the rate.`,
      range: context.source.range(rate.startIndex, rate.endIndex),
      fixes: [],
    });
  }
  return findings;
}
