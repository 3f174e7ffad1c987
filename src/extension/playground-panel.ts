import * as vscode from 'vscode';
import { playgroundToHostSchema, type HostToPlayground, type PlaygroundParams } from '../protocol/playground';
import { decodeWire, encodeWire } from '../protocol/wire';
import { SupersededError } from '../shared/worker-requests';
import { PlaygroundWorker } from '../worker/training-client';
import { loadWebviewPage, webviewPanelOptions } from './webview-panel';
import { errorMessage } from '../shared/errors';

export const PLAYGROUND_VIEW_TYPE = 'gradlens.playground';
const TITLE = 'GradLens Playground';

/**
 * The playground: one webview panel whose sliders ask the engine, in a worker
 * thread of its own, to compute; the host only validates and forwards, so it
 * never waits on a computation. The page keeps its slider values in its
 * webview state: after hiding (no retainContextWhenHidden) or a window
 * reload (the serializer calls `revive`) it asks again for what it showed.
 */
export class PlaygroundPanel {
  private static current: PlaygroundPanel | undefined;
  private readonly worker: PlaygroundWorker;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  static show(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
    if (PlaygroundPanel.current) {
      PlaygroundPanel.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PLAYGROUND_VIEW_TYPE, TITLE, vscode.ViewColumn.Active, webviewPanelOptions(context.extensionUri));
    PlaygroundPanel.current = new PlaygroundPanel(panel, context.extensionUri, log);
  }

  /** The serializer's way back after a window reload; a second playground from an older session is closed. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
    if (PlaygroundPanel.current) {
      panel.dispose();
      return;
    }
    PlaygroundPanel.current = new PlaygroundPanel(panel, context.extensionUri, log);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.worker = new PlaygroundWorker(vscode.Uri.joinPath(extensionUri, 'dist', 'training-worker.js').fsPath);
    loadWebviewPage(panel, extensionUri, 'playground', TITLE);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private receive(raw: unknown): void {
    const message = typeof raw === 'string' ? playgroundToHostSchema.parse(decodeWire(raw)) : undefined;
    if (!message) {
      this.log.warn('playground: dropped a message from the page that does not follow the protocol');
      return;
    }
    if (message.type === 'ready') this.log.debug('playground: page loaded');
    else void this.compute(message.id, message.params);
  }

  private async compute(id: number, params: PlaygroundParams): Promise<void> {
    try {
      const result = await this.worker.compute(params);
      this.log.trace(`playground: γ=${params.radius} T=${params.seqLen} τ=${params.threshold} ${params.mode} ${params.nonlinearity}: ${result.elapsedMs.toFixed(1)} ms`);
      this.post({ type: 'result', id, result });
    } catch (error) {
      if (error instanceof SupersededError || this.disposed) return; // a newer request is on its way; or nobody is listening
      const text = errorMessage(error);
      this.log.error(`playground: ${text}`);
      this.post({ type: 'error', id, message: text });
    }
  }

  private post(message: HostToPlayground): void {
    if (!this.disposed) void this.panel.webview.postMessage(encodeWire(message));
  }

  private dispose(): void {
    this.disposed = true;
    PlaygroundPanel.current = undefined;
    this.worker.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
