/**
 * Starts GradLens's language server (dist/server.js) in a child process
 * over IPC: diagnostics and quick fixes in Python training code, findings,
 * hovers and a dashboard CodeLens in log files.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

/** Log files the server reads: the formats GradLens's line-based readers know. */
const LOG_PATTERNS = ['**/*.jsonl', '**/*.ndjson', '**/*.csv', '**/*.log', '**/trainer_state.json'];

/**
 * Starts the client without waiting for it, so activation is never held up
 * by the server; a server that fails to start is reported in `log`. The
 * returned Disposable stops it.
 */
export function startLanguageClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): vscode.Disposable {
  let started: vscode.Disposable | undefined;
  let disposed = false;
  // Created on the next tick: building the client and forking the server stays out of activation's own time.
  const timer = setTimeout(() => {
    if (!disposed) started = createClient(context, log);
  }, 0);
  return new vscode.Disposable(() => {
    disposed = true;
    clearTimeout(timer);
    started?.dispose();
  });
}

function createClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): vscode.Disposable {
  const serverOptions: ServerOptions = { module: vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath, transport: TransportKind.ipc };
  // Training runs append to their logs: the server re-reads an open log when it changes on disk.
  const watchers = LOG_PATTERNS.map((pattern) => vscode.workspace.createFileSystemWatcher(pattern, true, false, true));
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      ...LOG_PATTERNS.map((pattern) => ({ scheme: 'file', pattern })),
    ],
    synchronize: { fileEvents: watchers },
    outputChannel: log,
  };
  const client = new LanguageClient('gradlens', 'GradLens', serverOptions, clientOptions);
  client.start().catch((error: Error) => log.error(`GradLens language server did not start: ${error.message}`));
  return new vscode.Disposable(() => {
    for (const watcher of watchers) watcher.dispose();
    if (client.needsStop()) void client.stop().catch((error: Error) => log.warn(`GradLens language server did not stop cleanly: ${error.message}`));
  });
}
