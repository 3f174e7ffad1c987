/**
 * The LSP wiring: which document goes to which analysis, and what the
 * analyses' results look like as diagnostics, code actions, hovers and
 * CodeLenses. The analyses themselves (src/python, log-diagnostics.ts)
 * know nothing of the protocol.
 */
import {
  CodeActionKind,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeLens,
  type Connection,
  type Hover,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { PythonAnalyzer } from '../python';
import { ClipThresholds } from './clip-threshold';
import { hoverAtLine } from './log-diagnostics';
import { LogFiles } from './log-files';
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

export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  const report = (message: string) => connection.console.warn(message);
  const logs = new LogFiles((uri, diagnostics) => void connection.sendDiagnostics({ uri, diagnostics }), report);
  let python: PythonFiles | undefined;

  connection.onInitialize(({ initializationOptions }): InitializeResult => {
    // The grammar loads while the client finishes starting; the first Python analysis waits for it.
    const analyzer = PythonAnalyzer.load(options.wasmDir).catch((error: Error) => {
      report(`GradLens could not load the Python grammar from ${options.wasmDir}: ${error.message}`);
      return undefined;
    });
    python = new PythonFiles(
      {
        analyzer,
        thresholds: new ClipThresholds(),
        logFolder: logFolderOption(initializationOptions),
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

  connection.onShutdown(() => {
    logs.dispose();
    python?.dispose();
  });
  documents.listen(connection);
  connection.listen();
}
