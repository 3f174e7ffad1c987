import * as vscode from 'vscode';
import { decodeWire, encodeWire } from '../protocol/wire';
import { sweepToHostSchema, type HostToSweep, type SweepRow } from '../protocol/sweep';
import type { RunsModel } from './runs/model';
import { inSweepScope, sweepRow, sweepTitle, type SweepScope } from './runs/present';
import { connectWebviewPanel, webviewPanelOptions } from './webview-panel';

export const SWEEP_VIEW_TYPE = 'gradlens.sweep';
/** Changes are gathered this long and sent together: a thousand runs read at once reach the page as a few messages. */
const CHANGE_INTERVAL_MS = 250;
/** Rows per message at most: the host's thread serializes (and a remote host compresses) each message in one go. */
const ROWS_PER_MESSAGE = 200;

/**
 * The sweep table: one webview panel listing the runs of a Runs view folder
 * (or all of them), one row each, from the logs worker's summaries. The page
 * gets every row when it says `ready` (first open, shown again after
 * hiding), then, while it is visible, only the rows that changed and the
 * keys that went, at most every 250 ms. Choosing a row opens the run through
 * Open Dashboard.
 */
export class SweepPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private scope: SweepScope | undefined;
  private ready = false;
  /** The keys the page lists. */
  private shown = new Set<string>();
  /** Runs whose data changed since the last message, and whether runs came or went. */
  private readonly changed = new Set<string>();
  private membershipChanged = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: RunsModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      model.onDidChangeRuns((change) => {
        if (!this.panel) return;
        for (const key of change.keys) this.changed.add(key);
        this.membershipChanged ||= change.structure;
        this.timer ??= setTimeout(() => this.sendChange(), CHANGE_INTERVAL_MS);
      }),
    );
  }

  /** Lists the runs of this scope (all runs when undefined), replacing what was listed. */
  show(scope: SweepScope | undefined): void {
    this.scope = scope;
    if (this.panel) {
      this.panel.title = sweepTitle(scope);
      this.panel.reveal();
      if (this.ready) this.sendShow();
      return;
    }
    const panel = vscode.window.createWebviewPanel(SWEEP_VIEW_TYPE, sweepTitle(scope), vscode.ViewColumn.Active, webviewPanelOptions(this.extensionUri));
    this.panel = panel;
    // A hidden page is torn down: it says `ready` again when shown.
    const events = { message: (raw: unknown) => this.receive(raw), hidden: () => (this.ready = false), disposed: () => this.detach() };
    this.panelDisposables.push(...connectWebviewPanel(panel, this.extensionUri, 'sweep', 'GradLens Sweep', events));
  }

  private detach(): void {
    this.panel = undefined;
    this.ready = false;
    this.shown.clear();
    this.changed.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const d of this.panelDisposables.splice(0)) d.dispose();
  }

  private receive(raw: unknown): void {
    const message = typeof raw === 'string' ? sweepToHostSchema.parse(decodeWire(raw)) : undefined;
    if (!message) {
      this.log.trace(`sweep table: dropped a message outside the protocol (${typeof raw})`);
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      this.sendShow();
    } else void vscode.commands.executeCommand('gradlens.openDashboard', { key: message.key });
  }

  private scopeRows(): SweepRow[] {
    return this.model.list().flatMap((run) => (inSweepScope(run, this.scope) ? [sweepRow(run)] : []));
  }

  private sendShow(): void {
    const rows = this.scopeRows();
    this.changed.clear();
    this.membershipChanged = false;
    this.shown = new Set(rows.map((row) => row.key));
    this.postRows(rows, [], (first) => ({ type: 'show', title: sweepTitle(this.scope), rows: first }));
  }

  /** The rows in messages of ROWS_PER_MESSAGE: the first as `start` makes it, the rest (and the removed keys) as changes. */
  private postRows(rows: SweepRow[], removed: string[], start: (rows: SweepRow[]) => HostToSweep = (first) => ({ type: 'change', rows: first, removed })): void {
    void this.post(start(rows.slice(0, ROWS_PER_MESSAGE)));
    for (let from = ROWS_PER_MESSAGE; from < rows.length; from += ROWS_PER_MESSAGE) void this.post({ type: 'change', rows: rows.slice(from, from + ROWS_PER_MESSAGE), removed: [] });
  }

  /** The rows that changed or came, and the keys that went, since the last message. */
  private sendChange(): void {
    this.timer = undefined;
    // A hidden page gets everything again when it is shown.
    if (!this.ready) return;
    const rows = new Map<string, SweepRow>();
    const removed: string[] = [];
    if (this.membershipChanged) {
      const now = new Map(this.scopeRows().map((row) => [row.key, row]));
      for (const key of this.shown) if (!now.has(key)) removed.push(key);
      for (const [key, row] of now) if (!this.shown.has(key) || this.changed.has(key)) rows.set(key, row);
      this.shown = new Set(now.keys());
    } else {
      for (const key of this.changed) {
        const run = this.model.get(key);
        if (run && this.shown.has(key)) rows.set(key, sweepRow(run));
      }
    }
    this.changed.clear();
    this.membershipChanged = false;
    if (rows.size > 0 || removed.length > 0) this.postRows([...rows.values()], removed);
  }

  private async post(message: HostToSweep): Promise<void> {
    if (!this.panel) return;
    const delivered = await this.panel.webview.postMessage(encodeWire(message));
    if (!delivered) this.log.trace('sweep table: a message was not delivered (the panel is hidden or closed)');
  }

  dispose(): void {
    this.panel?.dispose();
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
