/**
 * Messages between the language server and its Python analysis worker,
 * declared once. The server sends a script's text; the worker parses it and
 * answers each request, one at a time: findings, the logger's insertion, a
 * hint's location, whether it is a training script. The server's own thread
 * never parses Python. A request the server no longer wants (a newer version
 * of the document came, the client cancelled) is abandoned through a shared
 * flag, since a busy worker reads no messages: the worker reads it before it
 * starts a request and, analysing, while it parses and between rules. Both
 * sides parse what they receive.
 */
import { hintIdSchema } from '../protocol/diagnosis';
import { array, boolean, finite, literal, message, object, optional, string, union, type Infer, type Same, type Schema } from '../protocol/schema';
import type { HintLocation, LoggerPlan, PythonFinding, TextEdit } from '../python';
// Values from the types module alone: the server's bundle must not take in the parser.
import { RULE_CODES, SEVERITIES } from '../python/types';

/** What the worker is started with (its `workerData`). */
export const pythonWorkerDataSchema = object({
  /** Folder holding tree-sitter.wasm and tree-sitter-python.wasm. */
  wasmDir: string,
  /** One Int32 slot: the id of the request the server has abandoned. */
  abandoned: { parse: (value: unknown) => (value instanceof SharedArrayBuffer && value.byteLength >= 4 ? value : undefined) } satisfies Schema<SharedArrayBuffer>,
});
export type PythonWorkerData = Infer<typeof pythonWorkerDataSchema>;

export const serverToPythonSchema = union({
  /** The findings of GradLens's rules on `text`; `maxNorm` is the clip threshold fixes insert. Answered by `findings` or `abandoned`. */
  analyze: message('analyze', { id: finite, text: string, maxNorm: optional(finite) }),
  /** "Log gradient norms with GradLens" on the training loop at `line` (0-based), with `orFirstLoop` else on the first one. Answered by `plan` or `abandoned`. */
  logger: message('logger', { id: finite, text: string, line: finite, orFirstLoop: boolean }),
  /** Where the dashboard hint `hint`'s change goes; `maxNorm` as for `analyze`. Answered by `location` or `abandoned`. */
  hintLocation: message('hintLocation', { id: finite, text: string, hint: hintIdSchema, maxNorm: optional(finite) }),
  /** Whether `text` is a training script (backward() then an optimizer's step()). Answered by `trainingStep` or `abandoned`. */
  trainingStep: message('trainingStep', { id: finite, text: string }),
});
export type ServerToPython = Infer<typeof serverToPythonSchema>;

const positionSchema = object({ line: finite, character: finite });
const rangeSchema = object({ start: positionSchema, end: positionSchema });
const textEditSchema = object({ range: rangeSchema, newText: string });
const fixSchema = object({ title: string, isPreferred: boolean, edits: array(textEditSchema) });
const findingSchema = object({
  code: literal(...RULE_CODES),
  severity: literal(...SEVERITIES),
  message: string,
  range: rangeSchema,
  fixes: array(fixSchema),
});
const loggerPlanSchema = union({
  insertion: message('insertion', { edits: array(textEditSchema), message: string }),
  nothing: message('nothing', { reason: string }),
});
const hintLocationSchema = object({ range: rangeSchema, what: string, exact: boolean, fix: optional(fixSchema) });

export const pythonToServerSchema = union({
  findings: message('findings', { id: finite, findings: array(findingSchema) }),
  plan: message('plan', { id: finite, plan: loggerPlanSchema }),
  /** No `location` when the script has neither a finding for the hint nor a training step. */
  location: message('location', { id: finite, location: optional(hintLocationSchema) }),
  trainingStep: message('trainingStep', { id: finite, found: boolean }),
  /** The server abandoned the request while the worker was on it. */
  abandoned: message('abandoned', { id: finite }),
  /** The grammar could not be loaded (or the analysis threw, which it is written never to do). */
  failed: message('failed', { id: finite, message: string }),
});
export type PythonToServer = Infer<typeof pythonToServerSchema>;

// The schemas restate the analysis's types; these stop the build when the two drift apart.
const inSync: [
  Same<Infer<typeof findingSchema>, PythonFinding>,
  Same<Infer<typeof textEditSchema>, TextEdit>,
  Same<Infer<typeof loggerPlanSchema>, LoggerPlan>,
  Same<Infer<typeof hintLocationSchema>, HintLocation>,
] = [true, true, true, true];
void inSync;
