/**
 * A real LSP client for the server tests: the server is bundled from
 * src/server/main.ts as the extension ships it (with its Python worker and
 * the two wasm files beside it), started with `--stdio`, and spoken to over its pipes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { buildBundles } from '../bundles';

const ROOT = path.resolve(__dirname, '..', '..');

/** Builds the server and its Python worker with the build script, exactly as they ship (the wasm files beside them), into a fresh temp folder. */
export async function bundleServer(): Promise<{ dir: string; script: string }> {
  const dir = buildBundles(['server', 'python-worker']);
  return { dir, script: path.join(dir, 'server.js') };
}

/** The corpus's plain loop repeated to 50,000 lines and more (under 2 MB, so still read as a training script on disk). */
export function hugeScript(): string {
  const loop = readFileSync(path.join(ROOT, 'test', 'python-rules', 'corpus', 'plain_loop.py'), 'utf8');
  return Array.from({ length: Math.ceil(50000 / loop.split('\n').length) }, () => loop).join('\n');
}

export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

export class ServerSession {
  readonly connection: MessageConnection;
  private readonly diagnostics = new Map<string, Diagnostic[]>();
  private readonly waiting: { uri: string; resolve: (diagnostics: Diagnostic[]) => void }[] = [];
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(readonly process: ChildProcess) {
    this.connection = createMessageConnection(new StreamMessageReader(process.stdout!), new StreamMessageWriter(process.stdin!));
    process.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => process.on('exit', (code) => resolve(code)));
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.diagnostics.set(params.uri, params.diagnostics);
      for (const waiter of this.waiting.filter((w) => w.uri === params.uri)) {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        waiter.resolve(params.diagnostics);
      }
    });
    // What the server logs, for a failing test to show.
    this.connection.onNotification('window/logMessage', (params: { message: string }) => this.logs.push(params.message));
    this.connection.listen();
  }

  static async start(script: string, initializationOptions: object = {}): Promise<ServerSession> {
    const session = new ServerSession(spawn(process.execPath, [script, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await session.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions,
    });
    await session.connection.sendNotification('initialized', {});
    return session;
  }

  /** The next diagnostics published for `uri` (registered before the action that triggers them). */
  nextDiagnostics(uri: string, timeoutMs = 20000): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        uri,
        resolve: (diagnostics) => {
          clearTimeout(timer);
          resolve(diagnostics);
        },
      });
    });
  }

  /** Opens a document and waits for its first diagnostics. */
  async open(uri: string, languageId: string, text: string, version = 1): Promise<Diagnostic[]> {
    const published = this.nextDiagnostics(uri);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    return published;
  }

  /** shutdown then exit; resolves with the process's exit code. */
  async stop(): Promise<number | null> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }
}

export function removeBundle(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
