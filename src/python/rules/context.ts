import type { TrainingModel } from '../model';
import type { SourceText } from '../text';
import { positionalArguments, receiver } from '../syntax';
import type { TextEdit } from '../types';

/** Everything a rule reads: the model, the text (for ranges and layout) and the threshold to write into fixes. */
export interface RuleContext {
  model: TrainingModel;
  source: SourceText;
  /** Python literal of the clip threshold, e.g. `1.0`. */
  threshold: string;
}

/** The parameters a clip for `optimizer` should cover: what it was built from, else any model's parameters in the file, else the optimizer's own param groups (always correct). */
export function parametersFor(context: RuleContext, optimizer: string): string {
  const built = context.model.optimizers.get(optimizer)?.parameters;
  if (built) return built;
  const anyModelParameters = context.model.callsByName.get('parameters')?.find((call) => receiver(call) !== null && positionalArguments(call).length === 0);
  return anyModelParameters?.text ?? `[p for group in ${optimizer}.param_groups for p in group["params"]]`;
}

/** The module whose parameters `optimizer` updates (`model` for `model.parameters()`), else the first module whose parameters the file reads; null when the file names none. */
export function moduleFor(context: RuleContext, optimizer: string): string | null {
  const built = /^(.+)\.parameters\(\)$/.exec(context.model.optimizers.get(optimizer)?.parameters ?? '')?.[1];
  if (built) return built;
  const readsParameters = [...context.model.callsByName.get('parameters') ?? [], ...context.model.callsByName.get('named_parameters') ?? []]
    .sort((a, b) => a.startIndex - b.startIndex)
    .find((call) => receiver(call) !== null);
  return readsParameters ? receiver(readsParameters)?.text ?? null : null;
}

/** `torch.nn.utils` as the file can reach it: through `torch`, or through an imported `nn`. */
export function torchUtilsPrefix(context: RuleContext): string {
  const imports = context.model.imports;
  if (imports.get('torch') === 'torch') return 'torch.nn.utils';
  if (imports.get('nn') === 'torch.nn') return 'nn.utils';
  return 'torch.nn.utils';
}

export function hasRecurrentLayers(context: RuleContext): boolean {
  return context.model.recurrentLayers.length > 0;
}

/** `import torch` above the first import (or at the top) when inserted code says `torch.` and the file never imported it. */
export function importTorchIfMissing(context: RuleContext): TextEdit[] {
  if (context.model.imports.get('torch') === 'torch') return [];
  const firstImport = context.model.root.namedChildren.find((statement) => statement?.type === 'import_statement' || statement?.type === 'import_from_statement');
  const line = firstImport ? context.source.positionAt(firstImport.startIndex).line : 0;
  return [context.source.insertLinesBefore(line, '', ['import torch'])];
}
