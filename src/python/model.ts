import type { Node } from 'web-tree-sitter';
import { calleeName, children, contains, enclosingStatement, hasSyntaxProblems, positionalArguments, receiver, keywordArgument } from './syntax';

/** What the rules need to know about a training script, read once from its syntax tree. */

export type BackwardForm = 'tensor' | 'amp' | 'accelerate' | 'fabric';

/** Id of the innermost enclosing function (0 at module level): calls only relate within one function. */
export type ScopeId = number;

/** A node's offsets, read once: each read of a node's end crosses into wasm, and rules compare extents many times. */
export interface Extent { start: number; end: number }

/** A training call located once: its extent, the statement holding it and its function. */
interface LocatedCall extends Extent {
  call: Node;
  statement: Node;
  scope: ScopeId;
}

export interface BackwardCall extends LocatedCall {
  form: BackwardForm;
  /** `accelerator` / `fabric` / `scaler`: the object the framework-specific forms go through. */
  via: string | null;
}

export interface StepCall extends LocatedCall {
  /** Expression naming the optimizer (`optimizer`, `self.opt`). */
  optimizer: string;
  /** The GradScaler in `scaler.step(optimizer)`, else null. */
  scaler: string | null;
}

export interface ClipCall extends LocatedCall { kind: 'norm' | 'value' }

export interface OptimizerConstruction {
  call: Node;
  /** Source text of the parameters to clip, already safe to evaluate again (never an exhausted generator). */
  parameters: string | null;
}

/** A backward pass and the optimizer step it feeds: where clipping belongs. */
export interface TrainingStep { backward: BackwardCall; step: StepCall; block: Node; blockExtent: Extent }

export interface AssignmentSite extends Extent {
  node: Node;
  /** The names bound (`a = …`, `a, b = …`). */
  names: string[];
  /** The target's text when it is a name or an attribute (`self.opt = …`), else null. */
  target: string | null;
  readonly value: Node | null;
}

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
  /** In source order of their optimizer steps. */
  trainingSteps: TrainingStep[];
}

export const OPTIMIZER_CLASSES = new Set(['SGD', 'Adam', 'AdamW', 'Adamax', 'NAdam', 'RAdam', 'RMSprop', 'Adagrad', 'Adadelta', 'ASGD', 'Rprop', 'LBFGS', 'SparseAdam', 'Adafactor', 'AdamW8bit', 'Adam8bit', 'Lion']);
const RECURRENT_LAYERS = new Set(['RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell']);
const CLIP_NORM_FUNCTIONS = new Set(['clip_grad_norm_', 'clip_grad_norm', 'clip_gradients']);
const TRAINING_CALLS = new Set(['backward', 'step', 'clip_grad_value_', 'unscale_', ...CLIP_NORM_FUNCTIONS]);

/** `text` is what `root` was parsed from: in a tree without syntax errors, most callee names and assignment targets are read from it rather than from the tree. */
export function buildModel(root: Node, text: string): TrainingModel {
  // Error recovery can skip characters (`nn.utils(.clip_grad_value_(…)`): then the text no longer says what the tree holds.
  const readable = hasSyntaxProblems(root) ? null : text;
  // One walk over the tree for every kind of node the model reads: each walk crosses into wasm per node.
  const nodes = root.descendantsOfType(['call', 'assignment', 'import_statement', 'import_from_statement', 'for_statement', 'while_statement', 'function_definition']).filter((node): node is Node => node !== null);
  // A node's type is read across wasm: read it once per node.
  const byType = new Map<string, Node[]>();
  for (const node of nodes) {
    const sameType = byType.get(node.type);
    if (sameType) sameType.push(node); else byType.set(node.type, [node]);
  }
  const ofType = (...types: string[]) => types.flatMap((type) => byType.get(type) ?? []).sort((a, b) => a.startIndex - b.startIndex);
  const calls = ofType('call');
  // Every call's name, read once: by the assignments below (what built `optimizer`?) and by the rules (callsByName).
  const callNames = new Map<number, string>();
  const callsByName = new Map<string, Node[]>();
  for (let index = 0; index < calls.length; index++) {
    const call = calls[index];
    // A call starting where the next one starts holds it in its callee (`scale(loss).backward()`): only the tree knows that callee's name.
    const holdsNextInCallee = calls[index + 1]?.startIndex === call.startIndex;
    const name = (holdsNextInCallee || readable === null ? null : dottedCalleeName(readable, call.startIndex)) ?? calleeName(call);
    callNames.set(call.id, name);
    const named = callsByName.get(name);
    if (named) named.push(call); else callsByName.set(name, [call]);
  }
  const imports = readImports(ofType('import_statement', 'import_from_statement'));
  const assignmentSites = ofType('assignment').map((node) => assignmentSite(node, readable));
  const assignments = readAssignments(assignmentSites);
  const loops = ofType('for_statement', 'while_statement');
  const scopeOf = scopeFinder(ofType('function_definition'));
  /** Name → the name of the call it was first assigned (`optimizer` → `AdamW`). */
  const constructedBy = new Map<string, string>();
  for (const [name, value] of assignments) if (value.type === 'call') constructedBy.set(name, callNames.get(value.id) ?? calleeName(value));
  const namesBuiltBy = (className: string): Set<string> => new Set([...constructedBy].filter(([, built]) => built === className).map(([name]) => name));
  const scalers = namesBuiltBy('GradScaler');
  const accelerators = namesBuiltBy('Accelerator');
  const fabrics = namesBuiltBy('Fabric');
  const optimizers = readOptimizers(assignments, constructedBy);

  const backwards: BackwardCall[] = [];
  const steps: StepCall[] = [];
  const clips: ClipCall[] = [];
  const unscales: Node[] = [];
  const recurrentLayers: Node[] = [];
  const orthogonalInits: Node[] = [];
  for (const call of calls) {
    const name = callNames.get(call.id) ?? '';
    if (RECURRENT_LAYERS.has(name)) recurrentLayers.push(call);
    if (name === 'orthogonal_' || name === 'orthogonal') orthogonalInits.push(call);
    if (!TRAINING_CALLS.has(name)) continue;
    // Parent walks cost a wasm call each: only the few training calls pay for them.
    const statement = enclosingStatement(call);
    const target = receiver(call);
    if (!statement) continue;
    const start = call.startIndex;
    const end = call.endIndex;
    const located = { call, start, end, statement, scope: scopeOf(start, end) };
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
  return { root, callsByName, imports, backwards, steps, clips, unscales, optimizers, recurrentLayers, assignmentSites, loops, orthogonalInits, trainingSteps: pairSteps(backwards, steps) };
}

/** `a`, `a.b.c`: a callee that is a dotted name, up to the argument list's `(`. Its last name is the callee's name. */
const DOTTED_CALLEE = /(?:[\p{ID_Start}_][\p{ID_Continue}]*\s*\.\s*)*([\p{ID_Start}_][\p{ID_Continue}]*)\s*\(/uy;

/**
 * The name a call at `start` calls, read from the text when its callee is a dotted name (nearly every call); null otherwise
 * (`x[0](y)`, a comment or line continuation inside the callee), where calleeName reads the tree. Reading the callee from
 * the tree costs several wasm calls per call, the largest share of building the model.
 */
function dottedCalleeName(text: string, start: number): string | null {
  DOTTED_CALLEE.lastIndex = start;
  return DOTTED_CALLEE.exec(text)?.[1] ?? null;
}

/** The scope of an extent: the id of the innermost function definition holding it (what enclosingFunction finds by walking parents, which costs a wasm call per level), 0 at module level. */
function scopeFinder(functions: Node[]): (start: number, end: number) => ScopeId {
  const extents = functions.map((node) => ({ id: node.id, start: node.startIndex, end: node.endIndex }));
  return (start, end) => {
    // Sorted by start, so the last one holding the extent is the innermost.
    for (let index = extents.length - 1; index >= 0; index--) {
      const candidate = extents[index];
      if (candidate.start <= start && end <= candidate.end) return candidate.id;
    }
    return 0;
  };
}

function classifyBackward(call: Node, target: Node, frameworks: { accelerators: Set<string>; fabrics: Set<string> }): Omit<BackwardCall, keyof LocatedCall> {
  const hasLossArgument = positionalArguments(call).length > 0;
  if (target.type === 'call' && calleeName(target) === 'scale') {
    return { form: 'amp', via: receiver(target)?.text ?? null };
  }
  if (hasLossArgument && (frameworks.accelerators.has(target.text) || /accelerator$/i.test(target.text))) return { form: 'accelerate', via: target.text };
  if (hasLossArgument && (frameworks.fabrics.has(target.text) || /fabric$/i.test(target.text))) return { form: 'fabric', via: target.text };
  // `loss.backward()`, `(a + b).backward()`, `torch.autograd.backward(...)`: a plain backward pass.
  return { form: 'tensor', via: null };
}

function classifyStep(call: Node, target: Node, known: { scalers: Set<string>; optimizers: Map<string, OptimizerConstruction> }): Omit<StepCall, keyof LocatedCall> | null {
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
      if (backward.end > step.start || backward.scope !== step.scope) continue;
      const block = innermostBlockHolding(backward.statement, step.call);
      if (!block) continue;
      pairs.push({ backward, step, block, blockExtent: { start: block.startIndex, end: block.endIndex } });
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

/** `name =` / `a.b =` at the start of an assignment: its target read from the text (group 1), so the tree is asked only for other targets. */
const NAMED_TARGET = /([\p{ID_Start}_][\p{ID_Continue}]*(?:\s*\.\s*[\p{ID_Start}_][\p{ID_Continue}]*)*)\s*=(?!=)/uy;

/** `text`: the source, or null when the tree has syntax errors and only the tree can be trusted. */
function assignmentSite(node: Node, text: string | null): AssignmentSite {
  const start = node.startIndex;
  NAMED_TARGET.lastIndex = start;
  const named = text === null ? undefined : NAMED_TARGET.exec(text)?.[1];
  const { names, target } = named === undefined ? targetFromTree(node) : { names: named.includes('.') ? [] : [named], target: named };
  let value: Node | null | undefined;
  return {
    node, start, end: node.endIndex, names, target,
    // Most assignments' values are never looked at (a repeated `loss = …`): the tree is asked on first use.
    get value() {
      if (value === undefined) value = node.childForFieldName('right');
      return value;
    },
  };
}

function targetFromTree(node: Node): Pick<AssignmentSite, 'names' | 'target'> {
  const left = node.childForFieldName('left');
  const leftType = left?.type;
  const names = !left ? []
    : leftType === 'identifier' ? [left.text]
      : leftType === 'pattern_list' || leftType === 'tuple_pattern' ? children(left).filter((target) => target.type === 'identifier').map((target) => target.text)
        : [];
  return { names, target: leftType === 'identifier' ? names[0] : leftType === 'attribute' && left ? left.text : null };
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
function readAssignments(sites: AssignmentSite[]): Map<string, Node> {
  const assignments = new Map<string, Node>();
  for (const site of sites) {
    // Only the first assignment of a name needs its value read from the tree.
    if (site.target === null || assignments.has(site.target)) continue;
    const value = site.value;
    if (value) assignments.set(site.target, value);
  }
  return assignments;
}

function readOptimizers(assignments: Map<string, Node>, constructedBy: Map<string, string>): Map<string, OptimizerConstruction> {
  const optimizers = new Map<string, OptimizerConstruction>();
  for (const [name, className] of constructedBy) {
    const value = assignments.get(name);
    if (!value) continue;
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
