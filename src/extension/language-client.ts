/**
 * Starts GradLens's language server (dist/server.js) in a child process
 * over IPC: diagnostics and quick fixes in Python training code, findings,
 * hovers and a dashboard CodeLens in log files; and asks it GradLens's own
 * requests (src/protocol/language-server.ts) for the commands.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LOG_FILE_GLOBS } from '../logs/log-files';
import type { LanguageServerRequest, TextDocumentEdit } from '../protocol/language-server';

/** The running language server, as the commands ask it things. */
export class GradLensLanguageServer implements vscode.Disposable {
  private disposed = false;
  private readonly client: Promise<LanguageClient>;
  private stop: (() => void) | undefined;

  /** Starts the client without waiting for it, so activation is never held up by the server; a server that fails to start is reported in `log`. */
  constructor(context: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    // Created on the next tick: building the client and forking the server stays out of activation's own time.
    this.client = new Promise((resolve, reject) =>
      setTimeout(() => {
        if (this.disposed) return reject(new Error('GradLens is shutting down'));
        const { client, dispose } = createClient(context, log);
        this.stop = dispose;
        resolve(client);
      }, 0),
    );
    // Requests report their own failures; this one only keeps an unstarted client from being an unhandled rejection.
    this.client.catch(() => undefined);
  }

  /** Sends a GradLens request and parses the answer with its declaration; rejects when the server is not running or answers something else. */
  async request<P, R>(request: LanguageServerRequest<P, R>, params: P): Promise<R> {
    const client = await this.client;
    const raw: unknown = await client.sendRequest(request.method, params);
    const result = request.result.parse(raw);
    if (result === undefined) throw new Error(`the GradLens language server's answer to ${request.method} does not match its declaration`);
    return result;
  }

  dispose(): void {
    this.disposed = true;
    this.stop?.();
  }
}

/**
 * Applies a versioned edit from the server as one WorkspaceEdit (one undo
 * takes it back), only while the document is still at the version the edit
 * was computed for. False when it was not applied.
 */
export async function applyTextDocumentEdit({ textDocument, edits }: TextDocumentEdit): Promise<boolean> {
  const uri = vscode.Uri.parse(textDocument.uri);
  const document = vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri.toString());
  if (!document || document.version !== textDocument.version) return false;
  const edit = new vscode.WorkspaceEdit();
  const position = ({ line, character }: { line: number; character: number }) => new vscode.Position(line, character);
  edit.set(uri, edits.map(({ range, newText }) => new vscode.TextEdit(new vscode.Range(position(range.start), position(range.end)), newText)));
  return vscode.workspace.applyEdit(edit);
}

function createClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): { client: LanguageClient; dispose: () => void } {
  const serverOptions: ServerOptions = { module: vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath, transport: TransportKind.ipc };
  // Training runs append to their logs: the server re-reads an open log when it changes on disk.
  const watchers = LOG_FILE_GLOBS.map((pattern) => vscode.workspace.createFileSystemWatcher(pattern, true, false, true));
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      ...LOG_FILE_GLOBS.map((pattern) => ({ scheme: 'file', pattern })),
    ],
    synchronize: { fileEvents: watchers },
    outputChannel: log,
  };
  const client = new LanguageClient('gradlens', 'GradLens', serverOptions, clientOptions);
  client.start().catch((error: Error) => log.error(`GradLens language server did not start: ${error.message}`));
  return {
    client,
    dispose: () => {
      for (const watcher of watchers) watcher.dispose();
      if (client.needsStop()) void client.stop().catch((error: Error) => log.warn(`GradLens language server did not stop cleanly: ${error.message}`));
    },
  };
}
