import type { Node } from 'web-tree-sitter';
import { calleeName, enclosingFunction, enclosingStatement } from '../syntax';
import type { PythonFinding, TextEdit } from '../types';
import { importTorchIfMissing, type RuleContext } from './context';

const RECURRENT_LAYER_CLASSES = new Set(['RNN', 'LSTM', 'GRU']);
const INIT_FUNCTION = 'init_recurrent_weights';

/** GL004: recurrent layers keep PyTorch's uniform init; an orthogonal recurrent matrix starts the recurrence with spectral radius 1, neither exploding nor vanishing. Reported once per file (on the first layer), since one init function covers every layer. */
export function recurrentInitFindings(context: RuleContext): PythonFinding[] {
  if (context.model.orthogonalInits.length > 0) return [];
  const layer = context.model.recurrentLayers.find((call) => RECURRENT_LAYER_CLASSES.has(calleeName(call)));
  if (!layer) return [];
  const call = initCall(context, layer);
  const edits = call ? [...importTorchIfMissing(context), initFunctionInsertion(context), call] : [];
  return [{
    code: 'GL004',
    severity: 'information',
    message: `\`${layer.text.split('(')[0]}\` keeps PyTorch's default uniform initialisation: recurrent weights initialised orthogonally (with xavier input weights and zero biases) start the recurrence neither exploding nor vanishing.`,
    range: context.source.range(layer.startIndex, layer.endIndex),
    fixes: edits.length > 0 ? [{ title: `Add ${INIT_FUNCTION} (orthogonal recurrent weights) and call it on the model`, isPreferred: true, edits }] : [],
  }];
}

/** The init function, placed after the module's imports (and docstring) so it exists before any model is built. */
function initFunctionInsertion(context: RuleContext): TextEdit {
  const { source } = context;
  const step = source.indentUnit();
  const body = [
    `def ${INIT_FUNCTION}(model):`,
    `${step}"""Xavier input weights, orthogonal recurrent weights and zero biases for every RNN/LSTM/GRU in \`model\`."""`,
    `${step}for module in model.modules():`,
    `${step.repeat(2)}if isinstance(module, torch.nn.RNNBase):`,
    `${step.repeat(3)}for name, parameter in module.named_parameters():`,
    `${step.repeat(4)}if name.startswith("weight_ih"):`,
    `${step.repeat(5)}torch.nn.init.xavier_uniform_(parameter)`,
    `${step.repeat(4)}elif name.startswith("weight_hh"):`,
    `${step.repeat(5)}torch.nn.init.orthogonal_(parameter)`,
    `${step.repeat(4)}elif name.startswith("bias"):`,
    `${step.repeat(5)}torch.nn.init.zeros_(parameter)`,
  ];
  const statements = context.model.root.namedChildren.filter((node): node is Node => node !== null && node.type !== 'comment');
  const isPreamble = (node: Node) => ['import_statement', 'import_from_statement', 'future_import_statement'].includes(node.type)
    || (node.type === 'expression_statement' && node.namedChild(0)?.type === 'string');
  const firstCode = statements.find((node) => !isPreamble(node));
  if (!firstCode) return source.insertLinesAfter(source.lineCount - 1, '', ['', '', ...body]);
  // Two blank lines on each side, as PEP 8 puts them around top-level functions.
  return source.insertLinesBefore(source.positionAt(firstCode.startIndex).line, '', ['', ...body, '', '']);
}

/** `init_recurrent_weights(self)` at the end of the `__init__` that builds the layer, else `init_recurrent_weights(<target>)` right after the assignment that builds it. */
function initCall(context: RuleContext, layer: Node): TextEdit | null {
  const { source } = context;
  const statement = enclosingStatement(layer);
  const assignment = statement?.type === 'expression_statement' ? statement.namedChild(0) : null;
  if (!statement || assignment?.type !== 'assignment') return null;
  const method = enclosingFunction(layer);
  const body = method?.childForFieldName('body');
  if (method?.childForFieldName('name')?.text === '__init__' && method.parent?.parent?.type === 'class_definition' && body) {
    const bodyIndent = source.indentation(source.positionAt(body.startIndex).line);
    return source.insertLinesAfter(source.positionAt(body.endIndex).line, bodyIndent, [`${INIT_FUNCTION}(self)`]);
  }
  const target = assignment.childForFieldName('left');
  if (!target || (target.type !== 'identifier' && target.type !== 'attribute') || !source.startsLine(statement.startIndex)) return null;
  const line = source.positionAt(statement.startIndex).line;
  return source.insertLinesAfter(source.positionAt(statement.endIndex).line, source.indentation(line), [`${INIT_FUNCTION}(${target.text})`]);
}
