import type { Node } from 'web-tree-sitter';
import { calleeName, children, enclosingStatement, positionalArguments, receiver } from '../syntax';
import type { PythonFinding } from '../types';
import type { RuleContext } from './context';

/** GL005: a recurrent state fed back into the model on every batch of a training loop and never detached: each backward reaches back through all earlier batches (PyTorch fails on the second backward, or memory and gradients grow without bound). Truncated BPTT detaches it once per batch. */
export function hiddenStateFindings(context: RuleContext): PythonFinding[] {
  const findings: PythonFinding[] = [];
  const reported = new Set<number>();
  const backwardStarts = context.model.backwards.map((backward) => backward.call.startIndex);
  for (const loop of context.model.loops) {
    const body = loop.childForFieldName('body');
    if (!body) continue;
    // Extents read once: a node's end costs a wasm call, and every assignment is compared with every loop.
    const span = { start: body.startIndex, end: body.endIndex };
    if (!backwardStarts.some((start) => start >= span.start && start < span.end)) continue;
    for (const carried of carriedStates(context, loop.startIndex, span)) {
      if (reported.has(carried.argument.id) || detachedInPlace(body, carried.name)) continue;
      reported.add(carried.argument.id);
      findings.push(finding(context, carried));
    }
  }
  return findings;
}

interface CarriedState { name: string; argument: Node; statement: Node }

/** States assigned before the loop whose only assignments inside it are `…, state = f(…, state)` with no detach in the value. */
function carriedStates(context: RuleContext, loopStart: number, body: { start: number; end: number }): CarriedState[] {
  const sites = context.model.assignmentSites;
  const inBody = sites.filter((site) => site.start >= body.start && site.end <= body.end);
  const carried: CarriedState[] = [];
  for (const site of inBody) {
    if (site.value?.type !== 'call') continue;
    for (const name of site.names) {
      const argument = stateArgument(site.value, name);
      if (!argument || carried.some((state) => state.name === name)) continue;
      const onlyFedBack = inBody.filter((other) => other.names.includes(name))
        .every((other) => other.value?.type === 'call' && stateArgument(other.value, name) !== null && !detaches(other.value));
      const startsBeforeLoop = sites.some((other) => other.end < loopStart && other.names.includes(name));
      const statement = enclosingStatement(site.node);
      if (onlyFedBack && startsBeforeLoop && statement) carried.push({ name, argument, statement });
    }
  }
  return carried;
}

function stateArgument(call: Node, name: string): Node | null {
  const keywordValues = children(call.childForFieldName('arguments') ?? call).filter((node) => node.type === 'keyword_argument').map((node) => node.childForFieldName('value'));
  return [...positionalArguments(call), ...keywordValues].find((argument): argument is Node => argument?.type === 'identifier' && argument.text === name) ?? null;
}

/** `tuple(h.detach() for h in hidden)`, `repackage_hidden(hidden)`, `detach_states(h)`: the value breaks the graph. */
function detaches(value: Node): boolean {
  if (/detach|repackage/i.test(calleeName(value))) return true;
  return value.descendantsOfType('call').some((call) => call !== null && /^detach_?$/.test(calleeName(call)));
}

function detachedInPlace(body: Node, name: string): boolean {
  return body.descendantsOfType('call').some((call) => call !== null && calleeName(call) === 'detach_' && receiver(call)?.text === name);
}

function finding(context: RuleContext, { name, argument, statement }: CarriedState): PythonFinding {
  const { source } = context;
  const holdsTuples = context.model.recurrentLayers.some((layer) => calleeName(layer).startsWith('LSTM'));
  const detach = holdsTuples ? `${name} = tuple(state.detach() for state in ${name})` : `${name} = ${name}.detach()`;
  const line = source.positionAt(statement.startIndex).line;
  const edits = source.startsLine(statement.startIndex) ? [source.insertLinesBefore(line, source.indentation(line), [detach])] : [];
  return {
    code: 'GL005',
    severity: 'warning',
    message: `\`${name}\` is carried from batch to batch without \`.detach()\`: every backward reaches back through all earlier batches (PyTorch refuses the second backward, or memory and gradients grow without bound). Detach it at the start of each batch (truncated BPTT).`,
    range: source.range(argument.startIndex, argument.endIndex),
    fixes: edits.length > 0 ? [{ title: `Detach \`${name}\` before each batch (truncated BPTT)`, isPreferred: true, edits }] : [],
  };
}
