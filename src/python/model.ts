import type { Node } from 'web-tree-sitter';
import { calleeName, children, contains, enclosingFunction, enclosingStatement, positionalArguments, receiver, keywordArgument } from './syntax';

/** What the rules need to know about a training script, read once from its syntax tree. */

export type BackwardForm = 'tensor' | 'amp' | 'accelerate' | 'fabric';

/** Id of the innermost enclosing function (0 at module level): calls only relate within one function. */
export type ScopeId = number;

export interface BackwardCall {
  call: Node;
  statement: Node;
  scope: ScopeId;
  form: BackwardForm;
  /** `accelerator` / `fabric` / `scaler`: the object the framework-specific forms go through. */
  via: string | null;
}

export interface StepCall {
  call: Node;
  statement: Node;
  scope: ScopeId;
  /** Expression naming the optimizer (`optimizer`, `self.opt`). */
  optimizer: string;
  /** The GradScaler in `scaler.step(optimizer)`, else null. */
  scaler: string | null;
}

export interface ClipCall { call: Node; statement: Node; scope: ScopeId; kind: 'norm' | 'value' }

export interface OptimizerConstruction {
  call: Node;
  /** Source text of the parameters to clip, already safe to evaluate again (never an exhausted generator). */
  parameters: string | null;
}

/** A backward pass and the optimizer step it feeds: where clipping belongs. */
export interface TrainingStep { backward: BackwardCall; step: StepCall; block: Node }

export interface AssignmentSite { node: Node; start: number; end: number; names: string[]; value: Node | null }

export interface TrainingModel {
  root: Node;
  /** Every call by the name it calls (`step`, `Trainer`, `parameters`), in source order: rules look up names instead of rescanning. */
  callsByName: Map<string, Node[]>;
  /** Local name → dotted origin (`pl` → `pytorch_lightning`, `Trainer` → `transformers.Trainer`). */
  imports: Map<string, string>;
  backwards: BackwardCall[];
  steps: StepCall[];
  clips: ClipCall[];
  unscales: Node[];
  optimizers: Map<string, OptimizerConstruction>;
  recurrentLayers: Node[];
  /** Every `a = …` / `a, b = …`, in source order, with its extent read once (a node's end costs a wasm call). */
  assignmentSites: AssignmentSite[];
  /** `for` and `while` statements, in source order. */
  loops: Node[];
  /** Calls to `orthogonal_` / `orthogonal`: the file initialises some weights orthogonally. */
  orthogonalInits: Node[];
  trainingSteps: TrainingStep[];
}

const OPTIMIZER_CLASSES = new Set(['SGD', 'Adam', 'AdamW', 'Adamax', 'NAdam', 'RAdam', 'RMSprop', 'Adagrad', 'Adadelta', 'ASGD', 'Rprop', 'LBFGS', 'SparseAdam', 'Adafactor', 'AdamW8bit', 'Adam8bit', 'Lion']);
const RECURRENT_LAYERS = new Set(['RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell']);
const CLIP_NORM_FUNCTIONS = new Set(['clip_grad_norm_', 'clip_grad_norm', 'clip_gradients']);
const TRAINING_CALLS = new Set(['backward', 'step', 'clip_grad_value_', 'unscale_', ...CLIP_NORM_FUNCTIONS]);

export function buildModel(root: Node): TrainingModel {
  // One walk over the tree for every kind of node the model reads: each walk crosses into wasm per node.
  const nodes = root.descendantsOfType(['call', 'assignment', 'import_statement', 'import_from_statement', 'for_statement', 'while_statement']).filter((node): node is Node => node !== null);
  // A node's type is read across wasm: read it once per node.
  const byType = new Map<string, Node[]>();
  for (const node of nodes) {
    const sameType = byType.get(node.type);
    if (sameType) sameType.push(node); else byType.set(node.type, [node]);
  }
  const ofType = (...types: string[]) => types.flatMap((type) => byType.get(type) ?? []).sort((a, b) => a.startIndex - b.startIndex);
  const calls = ofType('call');
  const imports = readImports(ofType('import_statement', 'import_from_statement'));
  const assignmentNodes = ofType('assignment');
  const assignments = readAssignments(assignmentNodes);
  const loops = ofType('for_statement', 'while_statement');
  const namesBuiltBy = (classNames: Set<string>): Set<string> =>
    new Set([...assignments].filter(([, value]) => value.type === 'call' && classNames.has(calleeName(value))).map(([name]) => name));
  const scalers = namesBuiltBy(new Set(['GradScaler']));
  const accelerators = namesBuiltBy(new Set(['Accelerator']));
  const fabrics = namesBuiltBy(new Set(['Fabric']));
  const optimizers = readOptimizers(assignments);

  const backwards: BackwardCall[] = [];
  const steps: StepCall[] = [];
  const clips: ClipCall[] = [];
  const unscales: Node[] = [];
  const recurrentLayers: Node[] = [];
  const orthogonalInits: Node[] = [];
  const callsByName = new Map<string, Node[]>();
  for (const call of calls) {
    const name = calleeName(call);
    const named = callsByName.get(name);
    if (named) named.push(call); else callsByName.set(name, [call]);
    if (RECURRENT_LAYERS.has(name)) recurrentLayers.push(call);
    if (name === 'orthogonal_' || name === 'orthogonal') orthogonalInits.push(call);
    if (!TRAINING_CALLS.has(name)) continue;
    // Parent walks cost a wasm call each: only the few training calls pay for them.
    const statement = enclosingStatement(call);
    const target = receiver(call);
    if (!statement) continue;
    const located = { call, statement, scope: enclosingFunction(call)?.id ?? 0 };
    if (name === 'backward' && target) {
      backwards.push({ ...classifyBackward(call, target, { accelerators, fabrics }), ...located });
    } else if (name === 'step' && target) {
      const step = classifyStep(call, target, { scalers, optimizers });
      if (step) steps.push({ ...step, ...located });
    } else if (CLIP_NORM_FUNCTIONS.has(name)) {
      clips.push({ ...located, kind: 'norm' });
    } else if (name === 'clip_grad_value_') {
      clips.push({ ...located, kind: 'value' });
    } else if (name === 'unscale_') {
      unscales.push(call);
    }
  }
  return { root, callsByName, imports, backwards, steps, clips, unscales, optimizers, recurrentLayers, assignmentSites: assignmentNodes.map(assignmentSite), loops, orthogonalInits, trainingSteps: pairSteps(backwards, steps) };
}

function classifyBackward(call: Node, target: Node, frameworks: { accelerators: Set<string>; fabrics: Set<string> }): Omit<BackwardCall, 'call' | 'statement' | 'scope'> {
  const hasLossArgument = positionalArguments(call).length > 0;
  if (target.type === 'call' && calleeName(target) === 'scale') {
    return { form: 'amp', via: receiver(target)?.text ?? null };
  }
  if (hasLossArgument && (frameworks.accelerators.has(target.text) || /accelerator$/i.test(target.text))) return { form: 'accelerate', via: target.text };
  if (hasLossArgument && (frameworks.fabrics.has(target.text) || /fabric$/i.test(target.text))) return { form: 'fabric', via: target.text };
  // `loss.backward()`, `(a + b).backward()`, `torch.autograd.backward(...)`: a plain backward pass.
  return { form: 'tensor', via: null };
}

function classifyStep(call: Node, target: Node, known: { scalers: Set<string>; optimizers: Map<string, OptimizerConstruction> }): Omit<StepCall, 'call' | 'statement' | 'scope'> | null {
  const [firstArgument] = positionalArguments(call);
  if (firstArgument && (known.scalers.has(target.text) || /scaler$/i.test(target.text))) {
    return { optimizer: firstArgument.text, scaler: target.text };
  }
  if (known.optimizers.has(target.text) || /(^|[._])(optim\w*|opt\w*)$/i.test(target.text)) {
    return { optimizer: target.text, scaler: null };
  }
  return null;
}

/** Each optimizer step pairs with the last backward before it in the same function; the pair's block is the innermost block holding both (an accumulation loop puts backward deeper than the step). */
function pairSteps(backwards: BackwardCall[], steps: StepCall[]): TrainingStep[] {
  const pairs: TrainingStep[] = [];
  for (const step of steps) {
    for (let index = backwards.length - 1; index >= 0; index--) {
      const backward = backwards[index];
      if (backward.call.endIndex > step.call.startIndex || backward.scope !== step.scope) continue;
      const block = innermostBlockHolding(backward.statement, step.call);
      if (!block) continue;
      pairs.push({ backward, step, block });
      break;
    }
  }
  return pairs;
}

function innermostBlockHolding(start: Node, target: Node): Node | null {
  let current = start.parent;
  while (current && !((current.type === 'block' || current.type === 'module') && contains(current, target))) current = current.parent;
  return current;
}

function assignmentSite(node: Node): AssignmentSite {
  const left = node.childForFieldName('left');
  const names = !left ? []
    : left.type === 'identifier' ? [left.text]
      : left.type === 'pattern_list' || left.type === 'tuple_pattern' ? children(left).filter((target) => target.type === 'identifier').map((target) => target.text)
        : [];
  return { node, start: node.startIndex, end: node.endIndex, names, value: node.childForFieldName('right') };
}

function readImports(statements: Node[]): Map<string, string> {
  const imports = new Map<string, string>();
  for (const statement of statements) {
    const module = statement.type === 'import_from_statement' ? statement.childForFieldName('module_name')?.text ?? '' : '';
    for (const imported of statement.childrenForFieldName('name')) {
      if (!imported) continue;
      const dotted = imported.type === 'aliased_import' ? imported.childForFieldName('name')?.text ?? '' : imported.text;
      const local = imported.type === 'aliased_import' ? imported.childForFieldName('alias')?.text ?? dotted : dotted.split('.')[0];
      const origin = module ? `${module}.${dotted}` : imported.type === 'aliased_import' ? dotted : dotted.split('.')[0];
      imports.set(local, origin);
    }
  }
  return imports;
}

/** `name = value` for every simple assignment, first one wins (a later `model, optimizer = accelerator.prepare(...)` keeps the construction). */
function readAssignments(assignmentNodes: Node[]): Map<string, Node> {
  const assignments = new Map<string, Node>();
  for (const assignment of assignmentNodes) {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    if (!left || !right || (left.type !== 'identifier' && left.type !== 'attribute')) continue;
    if (!assignments.has(left.text)) assignments.set(left.text, right);
  }
  return assignments;
}

function readOptimizers(assignments: Map<string, Node>): Map<string, OptimizerConstruction> {
  const optimizers = new Map<string, OptimizerConstruction>();
  for (const [name, value] of assignments) {
    if (value.type !== 'call') continue;
    const className = calleeName(value);
    if (OPTIMIZER_CLASSES.has(className)) {
      const parameters = positionalArguments(value)[0] ?? keywordArgument(value, 'params')?.childForFieldName('value') ?? null;
      optimizers.set(name, { call: value, parameters: parameters ? reusableParameters(parameters, assignments) : null });
    } else if (className === 'configure_optimizers') {
      // nanoGPT: `optimizer = model.configure_optimizers(...)` builds it from the model's parameters.
      const owner = receiver(value);
      optimizers.set(name, { call: value, parameters: owner ? `${owner.text}.parameters()` : null });
    }
  }
  return optimizers;
}

/** The parameters expression to pass to the clip: a variable bound to `x.parameters()` is a spent generator by then, so its expression is used instead; param-group lists fall back to the model they come from. */
function reusableParameters(parameters: Node, assignments: Map<string, Node>): string | null {
  const boundValue = parameters.type === 'identifier' ? assignments.get(parameters.text) : undefined;
  const isSpentGenerator = boundValue?.type === 'generator_expression' || (boundValue?.type === 'call' && calleeName(boundValue) === 'parameters');
  if (boundValue && isSpentGenerator) return boundValue.text;
  const expression = boundValue ?? parameters;
  if (expression.type === 'list' && children(expression).some((element) => element.type === 'dictionary')) {
    const owner = expression.descendantsOfType('call').find((call) => call !== null && ['parameters', 'named_parameters'].includes(calleeName(call)));
    const ownerObject = owner ? receiver(owner) : null;
    return ownerObject ? `${ownerObject.text}.parameters()` : null;
  }
  return parameters.text;
}
