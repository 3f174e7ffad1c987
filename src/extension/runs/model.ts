/**
 * The runs GradLens lists: the workspace's training logs (found with the
 * log-glob settings, kept up to date by a file watcher), plus what the user
 * opened and the engine's experiments. All reading, tailing and diagnosing
 * happens in the logs worker; this side only keeps the worker's summaries,
 * so the extension host's thread stays free.
 */
import * as vscode from 'vscode';
import { LogsWorkerClient } from '../../worker/logs-client';
import type { DashboardMessageReply, DashboardMessageRequest, LogsSettings, MatchedFolder, OpenOrigin, RunSummary } from '../../worker/logs-protocol';
import { affectsGradLens, readConfig, type GradLensConfig } from '../config';
import { groupRuns, type RunGroup } from './present';
import { globSearches } from './settings';
import { errorMessage } from '../../shared/errors';

/**
 * One listed run. The model keeps one object per key for as long as the run
 * is listed and updates it in place, so a tree element or a selection stays
 * current. `label` is short (the file or run folder, plus the rank); `title`
 * adds its folder, for quick picks and the dashboard.
 */
export type RunEntry = RunSummary;

/** What changed in the list: `structure` when runs came, went or moved to another group; `keys` of runs whose data changed. */
export interface RunsChange {
  structure: boolean;
  keys: string[];
}

/** The watcher waits this long after the last file created or deleted before searching again. */
const RESCAN_DELAY_MS = 500;
/** At most this many files per search and folder are listed, so a huge folder cannot flood the sidebar. */
const MAX_MATCHES_PER_SEARCH = 20_000;
/** A crashed worker is restarted this many times per session, then the user is told. */
const MAX_RESTARTS = 3;

const logsSettings = (config: GradLensConfig): LogsSettings => ({
  tagRules: config.tagRoles,
  warnThreshold: config.warnThreshold,
  alertThreshold: config.alertThreshold,
  pollIntervalMs: config.pollIntervalMs,
});

export class RunsModel implements vscode.Disposable {
  private readonly entries = new Map<string, RunEntry>();
  /** groups(), kept while the order holds: entries change in place, so the groups show their runs as they are now. */
  private grouped: RunGroup[] | undefined;
  /** Paths the user opened, to follow again if the worker has to be restarted. */
  private readonly opened = new Map<string, OpenOrigin>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  private readonly updateEmitter = new vscode.EventEmitter<string>();
  private readonly runsEmitter = new vscode.EventEmitter<RunsChange>();
  private readonly selectEmitter = new vscode.EventEmitter<RunEntry | undefined>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private watchers: vscode.Disposable[] = [];
  private config: GradLensConfig;
  private client: LogsWorkerClient | undefined;
  private selectedKey: string | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  private rescanWanted = false;
  private restarts = 0;
  private disposed = false;

  /** The list or a run's status, live marker or step count changed. */
  readonly onDidChange = this.changeEmitter.event;
  /** This run's data changed (key): a dashboard showing it asks for its payload again. */
  readonly onDidUpdateRun = this.updateEmitter.event;
  /** The same changes as onDidChange, in detail, for views that refresh only what changed. */
  readonly onDidChangeRuns = this.runsEmitter.event;
  readonly onDidSelect = this.selectEmitter.event;

  /**
   * @param workerPath the logs worker bundle: `Uri.joinPath(context.extensionUri, 'dist', 'logs-worker.js').fsPath`
   * @param log the GradLens output channel; unreadable files and bad settings are written there
   */
  constructor(
    private readonly workerPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.config = readConfig(log);
    // The worker thread and the watchers start after activation returns: activating stays cheap.
    setTimeout(() => {
      if (!this.disposed) this.watch();
    }, 0);
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsGradLens(event)) this.reconfigure();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.requestScan(0);
      }),
    );
    this.requestScan(0);
  }

  /** The groups and their runs as the Runs view lists them; sorted again only after runs came, went or were renamed. */
  groups(): RunGroup[] {
    this.grouped ??= groupRuns([...this.entries.values()]);
    return this.grouped;
  }

  /** The runs in the order the Runs view lists them. */
  list(): RunEntry[] {
    return this.groups().flatMap((group) => group.runs);
  }

  get(key: string): RunEntry | undefined {
    return this.entries.get(key);
  }

  /** The run chosen in the Runs view (or by a command); its findings fill the Findings view. */
  get selected(): RunEntry | undefined {
    return this.selectedKey === undefined ? undefined : this.entries.get(this.selectedKey);
  }

  set selected(entry: RunEntry | undefined) {
    if (entry?.key === this.selectedKey) return;
    this.selectedKey = entry?.key;
    this.selectEmitter.fire(this.selected);
  }

  /**
   * Follows a file or folder outside the globs (Inspect Log File, Open Run
   * Folder, an experiment's growing log) and resolves with its runs once
   * read. A file is listed even before it holds steps; a folder lists its
   * runs that hold data, and runs that start in it later. Rejects with the
   * reason when the path cannot be read.
   */
  async open(path: string, origin: OpenOrigin = 'opened'): Promise<RunEntry[]> {
    const keys = await this.worker.open(path, origin);
    this.opened.set(path, origin);
    return keys.flatMap((key) => this.entries.get(key) ?? []);
  }

  /** The dashboard's `show` or `update` message as wire text, encoded whole in the worker: post it as it is. */
  dashboardMessage(request: DashboardMessageRequest): Promise<DashboardMessageReply> {
    return this.worker.dashboardMessage(request);
  }

  /** Export Report's HTML, CSV and Markdown for these runs, built in the logs worker. */
  report(keys: string[], assetsRoot: string): Promise<{ html: Uint8Array; csv: Uint8Array; markdown: Uint8Array }> {
    return this.worker.report(keys, assetsRoot);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.rescanTimer);
    for (const disposable of [...this.watchers, ...this.subscriptions, this.changeEmitter, this.updateEmitter, this.runsEmitter, this.selectEmitter]) disposable.dispose();
    void this.client?.dispose();
  }

  /** The logs worker, started on first use. */
  private get worker(): LogsWorkerClient {
    this.client ??= this.startWorker();
    return this.client;
  }

  private startWorker(): LogsWorkerClient {
    const worker = new LogsWorkerClient(this.workerPath, {
      onRuns: (runs) => this.applyRuns(runs),
      onRemoved: (keys) => this.removeRuns(keys),
      onLog: (level, message) => this.log[level](message),
      onExit: (reason) => this.workerExited(reason),
    });
    worker.configure(logsSettings(this.config));
    return worker;
  }

  private workerExited(reason: string): void {
    this.log.error(reason);
    this.removeRuns([...this.entries.keys()]);
    if (this.disposed) return;
    if (this.restarts >= MAX_RESTARTS) {
      void vscode.window.showErrorMessage(`GradLens stopped reading training logs: ${reason}. Reload the window to try again; the GradLens output channel has the details.`);
      return;
    }
    this.restarts++;
    this.log.warn(`restarting the logs worker (${this.restarts} of ${MAX_RESTARTS})`);
    this.client = this.startWorker();
    this.requestScan(0);
    for (const [path, origin] of this.opened) this.worker.open(path, origin).catch((error: Error) => this.log.warn(`could not follow ${path} again: ${error.message}`));
  }

  private reconfigure(): void {
    const previous = this.config;
    this.config = readConfig(this.log);
    this.worker.configure(logsSettings(this.config));
    if (previous.exclude !== this.config.exclude || previous.logGlobs.join('\n') !== this.config.logGlobs.join('\n')) {
      this.watch();
      this.requestScan(0);
    }
  }

  /** Watches the globs in every workspace folder: a log created or deleted makes the list be searched again. */
  private watch(): void {
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers = [];
    const changed = (what: string) => (uri: vscode.Uri) => {
      this.log.trace(`${what} ${uri.fsPath}: listing the logs again`);
      this.requestScan(RESCAN_DELAY_MS);
    };
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const glob of this.config.logGlobs) {
        // Changes to a file's content are the worker's to see when it polls; only the list of files matters here.
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob), false, true, false);
        this.watchers.push(watcher, watcher.onDidCreate(changed('created')), watcher.onDidDelete(changed('deleted')));
      }
      // A training run often creates its folder and its log at once; a watcher can miss a file made in a folder
      // it has not started watching yet (inotify adds the folder's watch after the fact), but not the folder.
      const folders = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'), false, true, true);
      this.watchers.push(
        folders,
        folders.onDidCreate(async (uri) => {
          const stat = await vscode.workspace.fs.stat(uri).then((s) => s, () => undefined);
          if (stat && stat.type & vscode.FileType.Directory) changed('created folder')(uri);
        }),
      );
    }
  }

  private requestScan(delayMs: number): void {
    clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => void this.scan(), delayMs);
  }

  /** Finds the matched files (VS Code's search runs off this thread) and hands them to the worker; one scan at a time. */
  private async scan(): Promise<void> {
    if (this.scanning) {
      this.rescanWanted = true;
      return;
    }
    this.scanning = true;
    try {
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
      const matched = await Promise.all(folders.map((folder) => this.matchedFiles(folder, folders.length > 1)));
      this.log.trace(`listing: ${matched.reduce((n, folder) => n + folder.files.length, 0)} files match gradlens.logGlobs`);
      await this.worker.followWorkspace(matched);
      this.log.trace('listing: done');
    } catch (error) {
      this.log.warn(`could not list the workspace's training logs: ${errorMessage(error)}`);
    } finally {
      this.scanning = false;
      if (this.rescanWanted && !this.disposed) {
        this.rescanWanted = false;
        void this.scan();
      }
    }
  }

  private async matchedFiles(folder: vscode.WorkspaceFolder, qualify: boolean): Promise<MatchedFolder> {
    const exclude = this.config.exclude.trim() === '' ? undefined : this.config.exclude;
    const perSearch = await Promise.all(
      globSearches(this.config.logGlobs).map(async (glob) => {
        const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, glob), exclude, MAX_MATCHES_PER_SEARCH);
        if (uris.length === MAX_MATCHES_PER_SEARCH) this.log.warn(`${folder.name}: more than ${MAX_MATCHES_PER_SEARCH} files match ${glob}; only the first are listed. Narrow gradlens.logGlobs or gradlens.exclude.`);
        return uris.map((uri) => uri.fsPath);
      }),
    );
    return { path: folder.uri.fsPath, name: folder.name, qualify, files: [...new Set(perSearch.flat())] };
  }

  private applyRuns(runs: RunSummary[]): void {
    let structure = false;
    const keys: string[] = [];
    for (const run of runs) {
      const entry = this.entries.get(run.key);
      if (!entry) {
        this.entries.set(run.key, { ...run });
        structure = true;
        this.grouped = undefined;
        continue;
      }
      if (entry.group !== run.group || entry.origin !== run.origin) structure = true;
      if (structure || entry.label !== run.label) this.grouped = undefined;
      Object.assign(entry, run);
      keys.push(run.key);
    }
    this.runsEmitter.fire({ structure, keys });
    this.changeEmitter.fire();
    for (const run of runs) this.updateEmitter.fire(run.key);
  }

  private removeRuns(keys: string[]): void {
    const gone = keys.filter((key) => this.entries.delete(key));
    if (gone.length === 0) return;
    this.grouped = undefined;
    this.runsEmitter.fire({ structure: true, keys: [] });
    this.changeEmitter.fire();
    if (this.selectedKey !== undefined && gone.includes(this.selectedKey)) this.selected = undefined;
  }
}
