/**
 * The LSP wiring: which document goes to which analysis, and what the
 * analyses' results look like as diagnostics, code actions, hovers and
 * CodeLenses. The analyses themselves (src/python, log-diagnostics.ts)
 * know nothing of the protocol.
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import {
  CancellationTokenSource,
  CodeActionKind,
  ErrorCodes,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type CodeLens,
  type Connection,
  type Hover,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { hintLocationRequest, loggerInsertionRequest, trainingScriptsRequest, type HintLocationResult, type LanguageServerRequest, type LoggerInsertionResult } from '../protocol/language-server';
import { ClipThresholds } from './clip-threshold';
import { hoverAtLine } from './log-diagnostics';
import { LogFiles } from './log-files';
import { PythonWorker } from './python-analysis';
import { PythonFiles } from './python-files';
import { filePath } from './uri';

export interface ServerOptions {
  /** Folder holding tree-sitter.wasm and tree-sitter-python.wasm (dist/ when shipped). */
  wasmDir: string;
}

/** What the client may pass in `initializationOptions`. */
export interface GradLensInitializationOptions {
  /** Folder whose logs recommend the clip threshold of GL001's fix; by default each script's own folder. */
  logFolder?: string;
}

/** The command the CodeLens runs; the extension registers it. */
export const OPEN_DASHBOARD_COMMAND = 'gradlens.openDashboard';

function isPython(document: TextDocument): boolean {
  return document.languageId === 'python' || /\.pyi?$/i.test(document.uri);
}

function logFolderOption(options: unknown): string | undefined {
  const folder = (options as GradLensInitializationOptions | null | undefined)?.logFolder;
  return typeof folder === 'string' && folder !== '' ? folder : undefined;
}

/** Longest a request waits for the document version it names to arrive. */
const DOCUMENT_WAIT_MS = 5000;
/** Larger Python files are not training scripts a person edits. */
const MAX_SCRIPT_BYTES = 2 * 1024 * 1024;

/** A GradLens request: its parameters parsed on receipt (a mismatch is an InvalidParams error); its result has the declared type. */
function handle<P, R>(connection: Connection, request: LanguageServerRequest<P, R>, answer: (params: P, token: CancellationToken) => Promise<R>): void {
  connection.onRequest(request.method, async (raw: unknown, token: CancellationToken) => {
    const params = request.params.parse(raw);
    if (params === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${request.method}: parameters do not match`);
    return answer(params, token);
  });
}

/** Why a request on a script has no answer, for the person who asked. */
type Nothing = Extract<LoggerInsertionResult, { type: 'nothing' }>;
const nothing = (reason: string): Nothing => ({ type: 'nothing', reason });
const SCRIPT_CHANGED = nothing('The script changed while GradLens was reading it: try again.');
const NO_ANALYSIS = nothing("GradLens's Python analysis could not read this script (see the GradLens output).");
const NO_TRAINING_STEP = nothing("This script has no training step (backward() followed by an optimizer's step()).");

/** A file's text when it may be a training script: small enough, and calling backward at all (most Python files never do). */
async function readScript(uri: string): Promise<string | undefined> {
  const file = filePath(uri);
  if (!file) return undefined;
  try {
    // A FIFO named like a script would hold a file thread until something writes to it.
    const info = await stat(file);
    if (!info.isFile() || info.size > MAX_SCRIPT_BYTES) return undefined;
    const text = await readFile(file, 'utf8');
    return text.includes('backward') ? text : undefined;
  } catch {
    return undefined;
  }
}

export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  const report = (message: string) => connection.console.warn(message);
  const logs = new LogFiles((uri, diagnostics) => void connection.sendDiagnostics({ uri, diagnostics }), report);
  const thresholds = new ClipThresholds();
  // Every parse of Python happens in a worker thread (dist/python-worker.js, beside the wasm files), started by the first request: a 50,000-line script takes seconds.
  const analysis = new PythonWorker(path.join(options.wasmDir, 'python-worker.js'), options.wasmDir, report);
  let python: PythonFiles | undefined;
  let logFolder: string | undefined;

  connection.onInitialize(({ initializationOptions }): InitializeResult => {
    logFolder = logFolderOption(initializationOptions);
    python = new PythonFiles(
      {
        analysis,
        thresholds,
        logFolder,
        publish: (uri, version, diagnostics) => void connection.sendDiagnostics({ uri, version, diagnostics }),
      },
      (uri) => documents.get(uri),
    );
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor], resolveProvider: false },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'GradLens' },
    };
  });

  documents.onDidOpen(({ document }) => {
    if (isPython(document)) return;
    const file = filePath(document.uri);
    if (file) logs.add(document.uri, file);
  });
  documents.onDidChangeContent(({ document }) => {
    if (isPython(document)) python?.changed(document);
  });
  // A log's editor text is not what GradLens reads: saving it, or a training run appending to it, is a change on disk.
  documents.onDidSave(({ document }) => logs.changed(document.uri));
  documents.onDidClose(({ document }) => {
    if (isPython(document)) {
      python?.remove(document.uri);
      void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
    } else logs.remove(document.uri);
  });
  connection.onDidChangeWatchedFiles(({ changes }) => {
    for (const change of changes) logs.changed(change.uri);
  });

  connection.onCodeAction(({ textDocument, range }, token) => python?.codeActions(textDocument.uri, range, token) ?? []);

  connection.onHover(async ({ textDocument, position }, token): Promise<Hover | null> => {
    const analysis = await logs.analysis(textDocument.uri);
    if (!analysis || token.isCancellationRequested) return null;
    const text = await hoverAtLine(analysis, position.line);
    if (!text || token.isCancellationRequested) return null;
    return { contents: { kind: 'markdown', value: text } };
  });

  connection.onCodeLens(async ({ textDocument }, token): Promise<CodeLens[]> => {
    const analysis = await logs.analysis(textDocument.uri);
    if (!analysis || token.isCancellationRequested) return [];
    const count = analysis.findings.length;
    return [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        command: {
          title: `Open in GradLens dashboard · ${count} finding${count === 1 ? '' : 's'}`,
          command: OPEN_DASHBOARD_COMMAND,
          arguments: [{ key: analysis.file }],
        },
      },
    ];
  });

  /** The document at `version` once the client has sent it (a request can overtake its didOpen or didChange); undefined when it has moved on or does not come. */
  const documentAt = (uri: string, version: number, token: CancellationToken): Promise<TextDocument | undefined> => {
    const atVersion = (document: TextDocument) => (document.version === version ? document : undefined);
    const now = documents.get(uri);
    if (now && now.version >= version) return Promise.resolve(atVersion(now));
    return new Promise((resolve) => {
      const finish = (document: TextDocument | undefined) => {
        clearTimeout(timer);
        for (const subscription of subscriptions) subscription.dispose();
        resolve(document);
      };
      const arrived = ({ document }: { document: TextDocument }) => {
        if (document.uri === uri && document.version >= version) finish(atVersion(document));
      };
      const subscriptions = [documents.onDidOpen(arrived), documents.onDidChangeContent(arrived), token.onCancellationRequested(() => finish(undefined))];
      const timer = setTimeout(() => finish(undefined), DOCUMENT_WAIT_MS);
    });
  };

  /**
   * `compute`'s answer on the text of `uri` at `version`, or why there is none. Its token is also
   * cancelled when the document leaves that version (an edit, or closing it), so the worker drops or
   * abandons a request whose answer would be for a text the editor no longer has.
   */
  const onScript = async <R>(uri: string, version: number, token: CancellationToken, compute: (text: string, whileCurrent: CancellationToken) => Promise<R | undefined>): Promise<R | Nothing> => {
    const document = await documentAt(uri, version, token);
    if (!document) return SCRIPT_CHANGED;
    // Read now: the document object follows later edits.
    const text = document.getText();
    const whileCurrent = new CancellationTokenSource();
    const leftVersion = ({ document: changed }: { document: TextDocument }) => {
      if (changed.uri === uri) whileCurrent.cancel();
    };
    const subscriptions = [token.onCancellationRequested(() => whileCurrent.cancel()), documents.onDidChangeContent(leftVersion), documents.onDidClose(leftVersion)];
    try {
      const answer = await compute(text, whileCurrent.token);
      if (documents.get(uri)?.version !== version) return SCRIPT_CHANGED;
      return answer ?? NO_ANALYSIS;
    } finally {
      for (const subscription of subscriptions) subscription.dispose();
      whileCurrent.dispose();
    }
  };

  handle(connection, loggerInsertionRequest, ({ uri, version, line }, token) =>
    onScript(uri, version, token, async (text, whileCurrent): Promise<LoggerInsertionResult | undefined> => {
      const plan = await analysis.loggerPlan(text, { line, orFirstLoop: true }, whileCurrent);
      if (plan?.type !== 'insertion') return plan;
      return { type: 'insertion', edit: { textDocument: { uri, version }, edits: plan.edits }, message: plan.message };
    }),
  );

  handle(connection, hintLocationRequest, ({ uri, version, hint, maxNorm: runThreshold }, token) =>
    onScript(uri, version, token, async (text, whileCurrent): Promise<HintLocationResult | undefined> => {
      const file = filePath(uri);
      // The threshold GL001's fix inserts: the one the hint's run recommends, else as in the script's diagnostics
      // (read once per folder, so already known for an open script).
      const maxNorm = runThreshold ?? (file ? await thresholds.for(logFolder ?? path.dirname(file)) : undefined);
      const location = await analysis.hintLocation(text, hint, maxNorm, whileCurrent);
      if (location === undefined) return undefined;
      if (location === null) return NO_TRAINING_STEP;
      const { range, what, exact, fix } = location;
      return { type: 'location', range, what, exact, ...(fix ? { fix: { title: fix.title, edit: { textDocument: { uri, version }, edits: fix.edits } } } : {}) };
    }),
  );

  handle(connection, trainingScriptsRequest, async ({ uris }, token) => {
    const scripts: string[] = [];
    for (const uri of uris) {
      if (token.isCancellationRequested) break;
      const text = documents.get(uri)?.getText() ?? (await readScript(uri));
      // One file per request in the worker's queue: the diagnostics of a script being edited go in between.
      if (text !== undefined && (await analysis.hasTrainingStep(text, token))) scripts.push(uri);
    }
    return { uris: scripts };
  });

  connection.onShutdown(() => {
    logs.dispose();
    python?.dispose();
  });
  documents.listen(connection);
  connection.listen();
}
