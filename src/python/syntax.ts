import type { Node } from 'web-tree-sitter';

/** Small queries over tree-sitter-python nodes shared by the model and the rules. */

export function children(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

/** `torch.nn.utils.clip_grad_norm_` → `clip_grad_norm_`; `Trainer` → `Trainer`; anything else → ''. */
export function calleeName(call: Node): string {
  // The callee is a call's first child and an attribute's name its last; positional access is much cheaper than field lookups over wasm.
  const callee = call.firstChild;
  if (!callee) return '';
  if (callee.type === 'identifier') return callee.text;
  if (callee.type === 'attribute') {
    const name = callee.lastChild;
    return name?.type === 'identifier' ? name.text : '';
  }
  return '';
}

/** The object a method is called on (`optimizer` in `optimizer.step()`), or null for a plain function call. */
export function receiver(call: Node): Node | null {
  const callee = call.childForFieldName('function');
  return callee?.type === 'attribute' ? callee.childForFieldName('object') : null;
}

export function positionalArguments(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  if (!list || list.type !== 'argument_list') return [];
  return children(list).filter((argument) => !['keyword_argument', 'list_splat', 'dictionary_splat', 'comment'].includes(argument.type));
}

export function keywordArgument(call: Node, name: string): Node | null {
  const list = call.childForFieldName('arguments');
  if (!list) return null;
  for (const argument of children(list)) {
    if (argument.type === 'keyword_argument' && argument.childForFieldName('name')?.text === name) return argument;
  }
  return null;
}

export function hasKeywordSplat(call: Node): boolean {
  const list = call.childForFieldName('arguments');
  return !!list && children(list).some((argument) => argument.type === 'dictionary_splat');
}

/** The statement that contains `node` and sits directly in a block (or the module): the unit fixes insert before or move. */
export function enclosingStatement(node: Node): Node | null {
  // Each `parent` walks down from the root inside wasm: read it once per level.
  let current = node;
  for (let parent = current.parent; parent; current = parent, parent = current.parent) {
    const type = parent.type;
    if (type === 'block' || type === 'module') return current;
  }
  return null;
}

/** Whether extent `inner` lies inside extent `outer`, with offsets read once (see Extent in model.ts). */
export function within(outer: { start: number; end: number }, inner: { start: number; end: number }): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** Whether `inner` lies inside `outer` (or is it). */
export function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

/** The innermost function definition around `node` (null at module level): training steps never pair across functions. */
export function enclosingFunction(node: Node): Node | null {
  let current = node.parent;
  while (current && current.type !== 'function_definition') current = current.parent;
  return current;
}

export function hasSyntaxProblems(node: Node): boolean {
  return node.hasError || node.isMissing;
}
