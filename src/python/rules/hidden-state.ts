import type { Node } from 'web-tree-sitter';
import type { AssignmentSite, Extent } from '../model';
import { calleeName, children, enclosingStatement, positionalArguments, receiver, within } from '../syntax';
import type { PythonFinding } from '../types';
import type { RuleContext } from './context';

/** GL005: a recurrent state fed back into the model on every batch of a training loop and never detached: each backward reaches back through all earlier batches (PyTorch fails on the second backward, or memory and gradients grow without bound). Truncated BPTT detaches it once per batch. */
export function hiddenStateFindings(context: RuleContext): PythonFinding[] {
  const findings: PythonFinding[] = [];
  const reported = new Set<number>();
  const calls = new CallFacts(context);
  for (const loop of context.model.loops) {
    const body = loop.childForFieldName('body');
    if (!body) continue;
    // Extents read once: a node's end costs a wasm call, and every assignment is compared with every loop.
    const span = { start: body.startIndex, end: body.endIndex };
    if (!context.model.backwards.some((backward) => backward.start >= span.start && backward.start < span.end)) continue;
    for (const carried of carriedStates(context, calls, loop.startIndex, span)) {
      if (reported.has(carried.argument.id) || calls.detachedInPlace(span, carried.name)) continue;
      reported.add(carried.argument.id);
      findings.push(finding(context, carried));
    }
  }
  return findings;
}

interface CarriedState { name: string; argument: Node; statement: Node }

/** States assigned before the loop whose only assignments inside it are `…, state = f(…, state)` with no detach in the value. */
function carriedStates(context: RuleContext, calls: CallFacts, loopStart: number, body: Extent): CarriedState[] {
  const sites = context.model.assignmentSites;
  const inBody = sitesWithin(sites, body);
  const carried: CarriedState[] = [];
  for (const site of inBody) {
    if (site.value?.type !== 'call') continue;
    for (const name of site.names) {
      const argument = calls.stateArgument(site.value, name);
      if (!argument || carried.some((state) => state.name === name)) continue;
      const onlyFedBack = inBody.filter((other) => other.names.includes(name)).every((other) => feedsBack(calls, other, name));
      const startsBeforeLoop = sites.some((other) => other.end < loopStart && other.names.includes(name));
      const statement = enclosingStatement(site.node);
      if (onlyFedBack && startsBeforeLoop && statement) carried.push({ name, argument, statement });
    }
  }
  return carried;
}

/** The assignments inside `extent`; `sites` are in source order, so only those starting inside it are looked at. */
function sitesWithin(sites: AssignmentSite[], extent: Extent): AssignmentSite[] {
  let low = 0;
  let high = sites.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sites[middle].start < extent.start) low = middle + 1; else high = middle;
  }
  const inside: AssignmentSite[] = [];
  for (let index = low; index < sites.length && sites[index].start < extent.end; index++) {
    if (sites[index].end <= extent.end) inside.push(sites[index]);
  }
  return inside;
}

function feedsBack(calls: CallFacts, site: AssignmentSite, name: string): boolean {
  return site.value?.type === 'call' && calls.stateArgument(site.value, name) !== null && !calls.detaches(site.value);
}

/** What the rule asks of calls, read from the tree once per call: loops nest, so the same assignment is looked at from every loop around it. */
class CallFacts {
  private readonly identifierArguments = new Map<number, Node[]>();
  private readonly detaching = new Map<number, boolean>();
  private readonly detachCalls: Array<{ call: Node; start: number; end: number }>;

  private readonly ends = new Map<number, number>();
  private readonly text: string;

  constructor(context: RuleContext) {
    this.text = context.source.text;
    const named = (name: string) => context.model.callsByName.get(name) ?? [];
    this.detachCalls = [...named('detach'), ...named('detach_')].map((call) => ({ call, start: call.startIndex, end: call.endIndex }));
  }

  /** The argument of `call` that is the name `name` (positional or keyword value), else null. */
  stateArgument(call: Node, name: string): Node | null {
    // A call whose text never mentions the name cannot pass it: most calls are ruled out without reading their arguments.
    const mention = this.text.indexOf(name, call.startIndex);
    if (mention < 0 || mention + name.length > this.endOf(call)) return null;
    let identifiers = this.identifierArguments.get(call.id);
    if (!identifiers) {
      const keywordValues = children(call.childForFieldName('arguments') ?? call).filter((node) => node.type === 'keyword_argument').map((node) => node.childForFieldName('value'));
      identifiers = [...positionalArguments(call), ...keywordValues].filter((argument): argument is Node => argument?.type === 'identifier');
      this.identifierArguments.set(call.id, identifiers);
    }
    return identifiers.find((argument) => argument.text === name) ?? null;
  }

  private endOf(node: Node): number {
    let end = this.ends.get(node.id);
    if (end === undefined) this.ends.set(node.id, (end = node.endIndex));
    return end;
  }

  /** `tuple(h.detach() for h in hidden)`, `repackage_hidden(hidden)`, `detach_states(h)`: the value breaks the graph. */
  detaches(value: Node): boolean {
    let result = this.detaching.get(value.id);
    if (result === undefined) {
      const extent = { start: value.startIndex, end: this.endOf(value) };
      result = /detach|repackage/i.test(calleeName(value)) || this.detachCalls.some((detach) => within(extent, detach));
      this.detaching.set(value.id, result);
    }
    return result;
  }

  /** `name.detach_()` somewhere in the loop body. */
  detachedInPlace(body: Extent, name: string): boolean {
    return this.detachCalls.some(({ call, ...extent }) => within(body, extent) && calleeName(call) === 'detach_' && receiver(call)?.text === name);
  }
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
