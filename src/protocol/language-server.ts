/**
 * GradLens's own requests to its language server, declared once for the
 * extension (client) and the server: their method names, parameters and
 * results. Both sides parse what they receive with these schemas and drop
 * what does not match. Edits are LSP TextDocumentEdits: versioned, so an
 * edit computed for an older text of the document is never applied.
 */
import { hintIdSchema } from './diagnosis';
import { array, boolean, finite, message, number, object, optional, string, union, type Infer, type Schema } from './schema';

const position = object({ line: number, character: number });
const rangeSchema = object({ start: position, end: position });

/** One versioned edit of one document: what one undo takes back. */
const textDocumentEditSchema = object({
  textDocument: object({ uri: string, version: number }),
  edits: array(object({ range: rangeSchema, newText: string })),
});
export type TextDocumentEdit = Infer<typeof textDocumentEditSchema>;

/** Nothing to do, and why, for the person who asked. */
const nothing = message('nothing', { reason: string });

/** A request: its method and what travels each way. */
export interface LanguageServerRequest<P, R> {
  method: string;
  params: Schema<P>;
  result: Schema<R>;
}

const request = <P, R>(method: string, params: Schema<P>, result: Schema<R>): LanguageServerRequest<P, R> => ({ method, params, result });

/** "Insert Gradient Logger": the edit adding the Python logger to the training loop at `line` (else the script's first one). */
export const loggerInsertionRequest = request(
  'gradlens/loggerInsertion',
  object({ uri: string, version: number, line: number }),
  union({
    insertion: message('insertion', { edit: textDocumentEditSchema, message: string }),
    nothing,
  }),
);

/** Dashboard "Show fix": where a hint's change goes in a training script, and the quick fix to offer there when a rule has one. */
export const hintLocationRequest = request(
  'gradlens/hintLocation',
  object({
    uri: string,
    version: number,
    hint: hintIdSchema,
    /** The clip threshold the hint recommends for its run, for the fix to insert; else the script folder's logs decide. */
    maxNorm: optional(finite),
  }),
  union({
    location: message('location', {
      range: rangeSchema,
      /** What is there, for a person: "the clip_grad_norm_ call". */
      what: string,
      /** False when the hint's own landmark is missing and this is the training step instead. */
      exact: boolean,
      fix: optional(object({ title: string, edit: textDocumentEditSchema })),
    }),
    nothing,
  }),
);

/** Which of these files (file: URIs) are training scripts: Python calling backward() and then an optimizer's step(). */
export const trainingScriptsRequest = request('gradlens/trainingScripts', object({ uris: array(string) }), object({ uris: array(string) }));

export type LoggerInsertionParams = Infer<typeof loggerInsertionRequest.params>;
export type LoggerInsertionResult = Infer<typeof loggerInsertionRequest.result>;
export type HintLocationParams = Infer<typeof hintLocationRequest.params>;
export type HintLocationResult = Infer<typeof hintLocationRequest.result>;
