import type { Node } from 'web-tree-sitter';
import type { HintId } from '../diagnosis/types';
import { OPTIMIZER_CLASSES, type TrainingStep } from './model';
import type { RuleContext } from './rules/context';
import { calleeName, children, contains, enclosingFunction, positionalArguments } from './syntax';
import type { PythonFinding, PythonFix, Range, RuleCode } from './types';

/** Where in a training script a dashboard hint's change goes, and the rule's quick fix when one applies there. */
export interface HintLocation {
  range: Range;
  /** What is there, for a person: "the gradient clipping call". */
  what: string;
  /** False when the hint's own landmark is not in the script and this is the training step instead. */
  exact: boolean;
  fix?: PythonFix;
}

type HintSite = 'clipping' | 'recurrent-layer' | 'vanilla-rnn' | 'hidden-state' | 'optimizer' | 'scaler' | 'model' | 'data-loop' | 'backward';

const HINT_SITES: Record<HintId, HintSite> = {
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

/** The rules whose quick fix carries out a hint: where one of them fires, the hint opens at its finding and offers its fix. */
const HINT_RULES: Partial<Record<HintId, readonly RuleCode[]>> = {
  'add-norm-clipping': ['GL001', 'GL002', 'GL006'],
  'unscale-before-clipping': ['GL001', 'GL002'],
  'prefer-norm-clipping': ['GL003'],
  'orthogonal-init': ['GL004'],
  'truncated-bptt': ['GL005'],
  'lower-lr': ['GL007'],
};

const WHAT: Record<HintSite, string> = {
  clipping: 'the gradient clipping call',
  'recurrent-layer': 'the recurrent layer',
  'vanilla-rnn': 'the recurrent layer',
  'hidden-state': 'the hidden state carried between batches',
  optimizer: 'the optimizer construction',
  scaler: 'the GradScaler',
  model: 'the model definition',
  'data-loop': 'the loop over the batches',
  backward: 'the backward() call',
};

/**
 * Where the change a hint asks for goes in this script: at a finding of a
 * rule whose fix does it (with that fix), else at the hint's landmark (the
 * clip call, the nn.LSTM, the optimizer construction, ...). When the
 * landmark is missing the location is the training step, with `exact:
 * false`; undefined when the script has neither a finding for the hint nor a
 * training step.
 */
export function hintLocation(context: RuleContext, hint: HintId, findings: readonly PythonFinding[]): HintLocation | undefined {
  const site = HINT_SITES[hint];
  const rules = HINT_RULES[hint] ?? [];
  const fixed = findings.find((finding) => rules.includes(finding.code) && finding.fixes.length > 0);
  if (fixed) return { range: fixed.range, what: WHAT[site], exact: true, fix: fixed.fixes.find((fix) => fix.isPreferred) ?? fixed.fixes[0] };
  const [trainingStep] = context.model.trainingSteps;
  if (!trainingStep) return undefined;
  const at = (node: Node | undefined, what = WHAT[site]): HintLocation | undefined => (node ? { range: firstLine(context, node), what, exact: true } : undefined);
  const backward: HintLocation = { range: firstLine(context, trainingStep.backward.call), what: WHAT.backward, exact: site === 'backward' };
  return landmark(context, site, trainingStep, at) ?? backward;
}

function landmark(context: RuleContext, site: HintSite, trainingStep: TrainingStep, at: (node: Node | undefined, what?: string) => HintLocation | undefined): HintLocation | undefined {
  const { model } = context;
  const { backward, step } = trainingStep;
  switch (site) {
    case 'clipping': {
      // An existing clip call is what to change; without one, the clip goes right before the optimizer step.
      const clip = model.clips.find((candidate) => candidate.call.startIndex > backward.call.endIndex && candidate.call.endIndex < step.call.startIndex);
      return at(clip?.call) ?? at(step.call, 'the optimizer step');
    }
    case 'recurrent-layer':
      return at(model.recurrentLayers[0]);
    case 'vanilla-rnn':
      return at(model.recurrentLayers.find((layer) => calleeName(layer).startsWith('RNN')) ?? model.recurrentLayers[0]);
    case 'hidden-state':
      return at(carriedState(context, trainingStep)) ?? at(model.callsByName.get('detach')?.[0], 'where the hidden state is detached') ?? at(model.callsByName.get('init_hidden')?.[0], 'the hidden state initialisation');
    case 'optimizer':
      return at([...OPTIMIZER_CLASSES].flatMap((name) => model.callsByName.get(name) ?? []).sort((a, b) => a.startIndex - b.startIndex)[0]);
    case 'scaler':
      return at(model.callsByName.get('GradScaler')?.[0]);
    case 'model':
      return at(moduleClass(model.root) ?? model.callsByName.get('Sequential')?.[0]);
    case 'data-loop':
      // The innermost loop around the step is the one over batches.
      return at(model.loops.filter((loop) => contains(loop, backward.call) && contains(loop, step.call)).at(-1));
    case 'backward':
      return at(backward.call);
  }
}

/** `out, hidden = model(x, hidden)` in the training loop: a state fed back into the model batch after batch. */
function carriedState({ model }: RuleContext, { backward }: TrainingStep): Node | undefined {
  const scope = enclosingFunction(backward.call)?.id;
  const loop = model.loops.filter((candidate) => contains(candidate, backward.call) && enclosingFunction(candidate)?.id === scope)[0];
  if (!loop) return undefined;
  return model.assignmentSites.find(
    (site) =>
      site.start >= loop.startIndex && site.end <= loop.endIndex && site.value?.type === 'call' &&
      positionalArguments(site.value).some((argument) => argument.type === 'identifier' && site.names.includes(argument.text)),
  )?.node;
}

/** The first `class …(nn.Module)`. */
function moduleClass(root: Node): Node | undefined {
  return root.descendantsOfType('class_definition').find((definition): definition is Node => {
    const bases = definition?.childForFieldName('superclasses');
    return !!bases && children(bases).some((base) => /(^|\.)(Module|LightningModule)$/.test(base.text));
  });
}

/** The node's extent on its first line: a selection a person reads at a glance. */
function firstLine({ source }: RuleContext, node: Node): Range {
  const lineEnd = source.text.indexOf('\n', node.startIndex);
  const end = lineEnd < 0 || lineEnd >= node.endIndex ? node.endIndex : source.text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd;
  return source.range(node.startIndex, end);
}
