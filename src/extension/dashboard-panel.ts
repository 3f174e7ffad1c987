import * as vscode from 'vscode';
import { dashboardStateSchema, dashboardToHostSchema, type DashboardToHost, type Focus, type RunCursor } from '../protocol/dashboard';
import { decodeWire, encodeWire } from '../protocol/wire';
import type { DashboardLinks } from './dashboard-links';
import type { RunEntry, RunsModel } from './runs/model';
import { isInside } from '../shared/paths';
import type { DashboardMessageReply, DashboardMessageRequest } from '../worker/logs-protocol';
import { connectWebviewPanel, webviewPanelOptions } from './webview-panel';
import { errorMessage } from '../shared/errors';

export const DASHBOARD_VIEW_TYPE = 'gradlens.dashboard';
/** At most one update per run in this time: a growing log still shows within a second. */
const UPDATE_INTERVAL_MS = 250;

interface UpdateThrottle {
  last: number;
  timer?: ReturnType<typeof setTimeout>;
  /** A payload is being built and posted. */
  busy: boolean;
  /** The run changed again meanwhile. */
  again: boolean;
}

/**
 * The dashboard: one webview panel showing one run or several overlaid. The
 * page asks for its data with `ready` each time it loads (first open, shown
 * again after hiding, reloaded), and gets the current runs; while it is
 * visible, runs that change are sent again, at most every 250 ms each. The
 * page keeps the shown logs in its webview state, so the serializer can
 * bring the panel back after a reload of the window.
 */
export class DashboardPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private keys: string[] = [];
  /** A focus to deliver with the next `show`, once. */
  private focus: Focus | undefined;
  private ready = false;
  /** Runs being read for a revived panel: `show` waits for them. */
  private restoring: Promise<void> = Promise.resolve();
  /** Each `show` sent supersedes those still gathering their payloads. */
  private generation = 0;
  private readonly throttles = new Map<string, UpdateThrottle>();
  /** What the page holds of each shown run, as the logs worker described it: updates then carry only new points. */
  private readonly cursors = new Map<string, RunCursor>();
  private readonly panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  /**
   * @param experimentsFolder where experiment logs are written: a revived
   *   dashboard lists those under Experiments again, not under Opened
   */
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly experimentsFolder: string,
    private readonly model: RunsModel,
    private readonly links: DashboardLinks,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(model.onDidUpdateRun((key) => this.runChanged(key)));
  }

  /** The runs on screen, for commands that act on "the shown runs". */
  get shownKeys(): readonly string[] {
    return this.panel ? this.keys : [];
  }

  /** Shows these runs (replacing what was shown), focused on a step or parameter if given. */
  show(keys: string[], focus?: Focus): void {
    if (this.panel && this.ready && focus && sameKeys(keys, this.keys)) {
      this.panel.reveal(undefined, true);
      void this.post(encodeWire({ type: 'focus', focus }));
      return;
    }
    this.keys = keys;
    this.focus = focus;
    if (this.panel) {
      this.panel.title = this.title();
      this.panel.reveal();
      if (this.ready) void this.sendShow();
      return;
    }
    this.attach(vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, this.title(), vscode.ViewColumn.Active, webviewPanelOptions(this.extensionUri)));
  }

  /** The serializer's way back: the panel VS Code kept, and the state the page saved. */
  async revive(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    if (this.panel) {
      // One dashboard: a second one restored from an older session is not brought back.
      panel.dispose();
      return;
    }
    const saved = dashboardStateSchema.parse(state)?.runs ?? [];
    this.restoring = this.reopen(saved);
    this.attach(panel);
    await this.restoring;
  }

  private async reopen(saved: Array<{ path: string; stream?: string }>): Promise<void> {
    const keys: string[] = [];
    for (const { path, stream } of saved) {
      try {
        const entries = await this.model.open(path, isInside(path, this.experimentsFolder) ? 'experiment' : 'opened');
        keys.push(...entries.filter((e) => e.stream === stream).map((e) => e.key));
      } catch (error) {
        this.log.warn(`dashboard: ${path} could not be read again: ${errorMessage(error)}`);
      }
    }
    // A command may have shown other runs meanwhile.
    if (this.keys.length > 0) return;
    this.keys = keys;
    if (this.panel) this.panel.title = this.title();
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    // A hidden page is torn down: it says `ready` again when shown.
    const events = { message: (raw: unknown) => this.receive(raw), hidden: () => (this.ready = false), disposed: () => this.detach() };
    this.panelDisposables.push(...connectWebviewPanel(panel, this.extensionUri, 'dashboard', 'GradLens Dashboard', events));
  }

  private detach(): void {
    this.panel = undefined;
    this.ready = false;
    this.keys = [];
    this.generation++;
    for (const t of this.throttles.values()) clearTimeout(t.timer);
    this.throttles.clear();
    for (const d of this.panelDisposables.splice(0)) d.dispose();
  }

  private title(): string {
    const runs = this.keys.map((k) => this.model.get(k)).filter((r): r is RunEntry => r !== undefined);
    if (runs.length === 1) return `GradLens: ${runs[0].title}`;
    return runs.length > 1 ? `GradLens: ${runs.length} runs` : 'GradLens Dashboard';
  }

  private receive(raw: unknown): void {
    const message = typeof raw === 'string' ? dashboardToHostSchema.parse(decodeWire(raw)) : undefined;
    if (!message) {
      this.log.trace(`dashboard: dropped a message outside the protocol (${typeof raw})`);
      return;
    }
    void this.handle(message).catch((error: Error) => {
      this.log.error(`dashboard: ${message.type} failed: ${error.message}`);
      void vscode.window.showErrorMessage(`GradLens: ${error.message}`);
    });
  }

  private async handle(message: DashboardToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        await this.sendShow();
        return;
      case 'openHint':
        await this.links.openHint(this.model.get(message.key), message.hintId, message.step);
        return;
      case 'openLog': {
        const run = this.model.get(message.key);
        if (run) await this.links.openLog(run, message.step);
        return;
      }
      case 'exportReport':
        await vscode.commands.executeCommand('gradlens.exportReport', [...this.keys]);
        return;
    }
  }

  private async sendShow(): Promise<void> {
    await this.restoring;
    const generation = ++this.generation;
    const focus = this.focus;
    const reply = await this.dashboardMessage({ kind: 'show', keys: this.keys, ...(focus ? { focus } : {}) });
    if (reply === undefined || generation !== this.generation || !this.ready) return;
    this.focus = undefined;
    this.cursors.clear();
    if (await this.post(reply.text)) for (const [key, cursor] of Object.entries(reply.cursors)) this.cursors.set(key, cursor);
  }

  /** The message as the logs worker encoded it, whole (never spliced: the wire numbers shared arrays across a whole message). */
  private async dashboardMessage(request: DashboardMessageRequest): Promise<DashboardMessageReply | undefined> {
    try {
      const reply = await this.model.dashboardMessage(request);
      for (const { key, message } of reply.unreadable) this.log.warn(`dashboard: run ${key} could not be read: ${message}`);
      return reply;
    } catch (error) {
      this.log.warn(`dashboard: runs ${request.keys.join(', ')} could not be read: ${errorMessage(error)}`);
      return undefined;
    }
  }

  private runChanged(key: string): void {
    if (!this.panel || !this.ready || !this.keys.includes(key)) return;
    let t = this.throttles.get(key);
    if (!t) this.throttles.set(key, (t = { last: 0, busy: false, again: false }));
    if (t.timer) return;
    if (t.busy) {
      t.again = true;
      return;
    }
    const throttle = t;
    throttle.timer = setTimeout(() => {
      throttle.timer = undefined;
      void this.sendUpdate(key, throttle);
    }, Math.max(0, throttle.last + UPDATE_INTERVAL_MS - Date.now()));
  }

  private async sendUpdate(key: string, t: UpdateThrottle): Promise<void> {
    t.busy = true;
    t.again = false;
    t.last = Date.now();
    try {
      const since = this.cursors.get(key);
      const reply = await this.dashboardMessage({ kind: 'update', keys: [key], ...(since ? { since } : {}) });
      if (reply === undefined || !this.ready || !this.keys.includes(key)) return;
      if (this.cursors.get(key) !== since) {
        // A show went out meanwhile: this change is relative to what the page held before it. Ask again.
        t.again = true;
        return;
      }
      // A message the page did not get leaves it holding less than the cursor says: the next update goes whole.
      this.cursors.delete(key);
      const cursor = reply.cursors[key];
      if ((await this.post(reply.text)) && cursor) this.cursors.set(key, cursor);
    } finally {
      t.busy = false;
      if (t.again) this.runChanged(key);
    }
  }

  /** Whether the page got the message. */
  private async post(text: string): Promise<boolean> {
    if (!this.panel) return false;
    const delivered = await this.panel.webview.postMessage(text);
    if (!delivered) this.log.trace('dashboard: a message was not delivered (the panel is hidden or closed)');
    return delivered;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}
