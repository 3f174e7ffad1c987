import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatNumber } from '../diagnosis/stats';
import { LOG_FILE_EXTENSIONS } from '../logs/log-files';
import { inputsAmong, reportBase } from '../report/files';
import { presetArgument, runsArgument, sweepScopeArgument } from './command-args';
import type { CommandId } from './command-ids';
import type { DashboardPanel } from './dashboard-panel';
import type { Experiments } from './experiments';
import { insertLogger } from './insert-logger';
import type { GradLensLanguageServer } from './language-client';
import { PlaygroundPanel } from './playground-panel';
import type { RunEntry, RunsModel } from './runs/model';
import { runTrainingScript } from './run-script';
import { runDescription, type SweepScope } from './runs/present';
import type { SweepPanel } from './sweep-panel';
import { errorMessage } from '../shared/errors';

export interface CommandServices {
  context: vscode.ExtensionContext;
  model: RunsModel;
  dashboard: DashboardPanel;
  sweep: SweepPanel;
  experiments: Experiments;
  languageServer: GradLensLanguageServer;
  log: vscode.LogOutputChannel;
}

type RunItem = vscode.QuickPickItem & { run: RunEntry };

const LOG_FILE_FILTERS = { 'Training logs': [...LOG_FILE_EXTENSIONS], 'All files': ['*'] };

function runItems(runs: RunEntry[], picked: ReadonlySet<string> = new Set()): RunItem[] {
  return runs.map((run) => ({
    label: run.title,
    description: runDescription(run),
    detail: vscode.workspace.asRelativePath(run.path),
    picked: picked.has(run.key),
    run,
  }));
}

/** The runs there are, or undefined (and a way forward) when there are none. */
async function listedRuns(model: RunsModel): Promise<RunEntry[] | undefined> {
  const runs = model.list();
  if (runs.length > 0) return runs;
  const choice = await vscode.window.showInformationMessage('GradLens has no runs yet: open a training log or a run folder, or run an experiment.', 'Inspect Log File', 'Open Run Folder', 'Run Experiment');
  const command = { 'Inspect Log File': 'gradlens.inspectLogFile', 'Open Run Folder': 'gradlens.openRunFolder', 'Run Experiment': 'gradlens.runExperiment' } as const;
  if (choice) await vscode.commands.executeCommand(command[choice as keyof typeof command]);
  return undefined;
}

async function pickRun(model: RunsModel, title: string): Promise<RunEntry | undefined> {
  const runs = await listedRuns(model);
  if (!runs) return undefined;
  return (await vscode.window.showQuickPick(runItems(runs), { title, placeHolder: 'Choose a run', matchOnDescription: true, matchOnDetail: true }))?.run;
}

/** The run an argument names, else the selected run, else the one the person picks. */
async function runFrom(arg: unknown, model: RunsModel, title: string): Promise<RunEntry | undefined> {
  const named = runsArgument(arg)?.keys[0];
  return (named !== undefined ? model.get(named) : undefined) ?? model.selected ?? pickRun(model, title);
}

/** The runs an argument names, else `fallback` (shown or selected runs), else the one the person picks; empty when none. */
async function runKeysFrom(arg: unknown, fallback: readonly string[], model: RunsModel, title: string): Promise<string[]> {
  const named = runsArgument(arg)?.keys ?? (fallback.length > 0 ? [...fallback] : undefined);
  if (named) return named;
  const picked = await pickRun(model, title);
  return picked ? [picked.key] : [];
}

/** A tree's context menu passes the clicked run and, with several selected, all of them: those win. */
const clickedOrSelected = (arg: unknown, selected: unknown): unknown => (runsArgument(selected) ? selected : arg);

/** The file an explorer or editor-title menu passed, else the active editor's. */
function fileArgument(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri ?? (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: unknown } | undefined)?.uri;
  return active instanceof vscode.Uri && active.scheme === 'file' ? active : undefined;
}

/** The Runs view folder an explorer folder is (with the folders under it), named as the view groups it; undefined outside the workspace. */
function folderScope(uri: vscode.Uri): SweepScope | undefined {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) return undefined;
  const relative = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
  // With several workspace folders open, each group starts with its folder's name.
  const qualified = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  return { origin: 'workspace', folder: qualified ? [folder.name, relative].filter((part) => part !== '').join('/') : relative };
}

/**
 * Every command of package.json, bound to its handler here and nowhere else
 * (the Record type makes a missing or extra id a compile error).
 */
export function commandTable(s: CommandServices): Record<CommandId, (...args: unknown[]) => unknown> {
  const { model, dashboard, log } = s;

  /** Reads a log file or run folder and shows what it holds. */
  const inspect = async (target: vscode.Uri): Promise<void> => {
    if (target.scheme !== 'file') {
      void vscode.window.showErrorMessage(`GradLens reads files on disk; ${target.toString()} is not one.`);
      return;
    }
    const name = path.basename(target.fsPath);
    let entries: RunEntry[];
    try {
      entries = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `GradLens: reading ${name}` }, () => model.open(target.fsPath, 'opened'));
    } catch (error) {
      log.warn(`inspect ${target.fsPath}: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`GradLens could not read ${name}: ${errorMessage(error)}`);
      return;
    }
    if (entries.length === 0) {
      void vscode.window.showInformationMessage(`GradLens found no training data in ${name}.`);
      return;
    }
    if (entries.length === 1) {
      dashboard.show([entries[0].key]);
      return;
    }
    const picked = await vscode.window.showQuickPick(runItems(entries, new Set([entries[0].key])), {
      title: `GradLens: ${entries.length} runs in ${name}`,
      placeHolder: 'Choose the runs to show (several are overlaid); all of them are listed in the Runs view',
      canPickMany: true,
    });
    if (picked && picked.length > 0) dashboard.show(picked.map((p) => p.run.key));
  };

  const exportReport = async (arg: unknown, selected: unknown): Promise<void> => {
    const shownOrSelected = dashboard.shownKeys.length > 0 ? dashboard.shownKeys : model.selected ? [model.selected.key] : [];
    const runKeys = await runKeysFrom(clickedOrSelected(arg, selected), shownOrSelected, model, 'GradLens: Export Report');
    if (runKeys.length === 0) return;
    const first = model.get(runKeys[0]);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? (first ? vscode.Uri.file(path.dirname(first.path)) : undefined);
    const target = await vscode.window.showSaveDialog({
      title: 'GradLens: Export Report',
      saveLabel: 'Export',
      defaultUri: folder && vscode.Uri.joinPath(folder, 'gradlens-report.html'),
      filters: { 'HTML report': ['html'] },
    });
    if (!target) return;
    const base = reportBase(target.path);
    const files = [target, target.with({ path: `${base}.csv` }), target.with({ path: `${base}.md` })];
    const inputs = inputsAmong(
      files.map((uri) => uri.fsPath),
      runKeys.flatMap((key) => model.get(key)?.path ?? []),
    );
    if (inputs.length > 0) {
      void vscode.window.showErrorMessage(`GradLens: the report would overwrite ${inputs.map((file) => path.basename(file)).join(' and ')}, a log it is made from. Choose another name.`);
      return;
    }
    // The save dialog asked about the HTML file; the CSV and Markdown beside it are asked about here.
    const existing = (await Promise.all(files.slice(1).map((uri) => vscode.workspace.fs.stat(uri).then(() => uri, () => undefined)))).filter((uri) => uri !== undefined);
    if (existing.length > 0) {
      const names = existing.map((uri) => path.posix.basename(uri.path)).join(' and ');
      const replace = await vscode.window.showWarningMessage(`GradLens: ${names} already exist${existing.length === 1 ? 's' : ''} beside the report. Replace?`, { modal: true }, 'Replace');
      if (replace !== 'Replace') return;
    }
    const written = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'GradLens: exporting the report' }, async () => {
      // Built in the logs worker, which holds the runs: the host thread only writes the bytes.
      const report = await model.report(runKeys, s.context.extensionUri.fsPath);
      const contents = [report.html, report.csv, report.markdown];
      await Promise.all(files.map((uri, index) => vscode.workspace.fs.writeFile(uri, contents[index])));
      return files;
    });
    log.info(`report written: ${written.map((u) => u.fsPath).join(', ')}`);
    const name = path.posix.basename(base);
    const choice = await vscode.window.showInformationMessage(`GradLens: report written to ${name}.html, with ${name}.csv (the series) and ${name}.md (the summary).`, 'Open in Browser', 'Reveal');
    if (choice === 'Open in Browser') await vscode.env.openExternal(target);
    else if (choice === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', target);
  };

  return {
    'gradlens.openDashboard': async (arg, selected) => {
      const chosen = await runKeysFrom(clickedOrSelected(arg, selected), model.selected ? [model.selected.key] : [], model, 'GradLens: Open Dashboard');
      if (chosen.length === 0) return;
      const known = chosen.filter((key) => model.get(key) !== undefined);
      if (known.length === 0) {
        void vscode.window.showInformationMessage('GradLens: that run is no longer listed (its log was removed or renamed).');
        return;
      }
      dashboard.show(known, runsArgument(arg)?.focus);
    },
    'gradlens.inspectLogFile': async (arg) => {
      const target =
        fileArgument(arg) ??
        (await vscode.window.showOpenDialog({ title: 'GradLens: Inspect Log File', openLabel: 'Inspect', canSelectFiles: true, canSelectFolders: false, canSelectMany: false, filters: LOG_FILE_FILTERS }))?.[0];
      if (target) await inspect(target);
    },
    'gradlens.openRunFolder': async (arg) => {
      const target =
        (arg instanceof vscode.Uri ? arg : undefined) ??
        (await vscode.window.showOpenDialog({ title: 'GradLens: Open Run Folder', openLabel: 'Open Runs', canSelectFiles: false, canSelectFolders: true, canSelectMany: false }))?.[0];
      if (target) await inspect(target);
    },
    'gradlens.runExperiment': (arg) => s.experiments.run(presetArgument(arg)),
    'gradlens.stopExperiment': () => s.experiments.stop(),
    'gradlens.compareRuns': async (arg, selected) => {
      const runs = await listedRuns(model);
      if (!runs) return;
      if (runs.length < 2) {
        void vscode.window.showInformationMessage('GradLens: comparing needs two runs or more; open another log or run an experiment.');
        return;
      }
      const preselected = new Set(runsArgument(clickedOrSelected(arg, selected))?.keys ?? dashboard.shownKeys);
      const picked = await vscode.window.showQuickPick(runItems(runs, preselected), {
        title: 'GradLens: Compare Runs',
        placeHolder: 'Choose two or more runs to overlay',
        canPickMany: true,
        matchOnDetail: true,
      });
      if (!picked) return;
      if (picked.length < 2) {
        void vscode.window.showInformationMessage('GradLens: choose at least two runs to compare.');
        return;
      }
      dashboard.show(picked.map((p) => p.run.key));
    },
    'gradlens.recommendThreshold': async (arg) => {
      const run = await runFrom(arg, model, 'GradLens: Recommend Clipping Threshold');
      if (!run) return;
      const t = run.diagnosis.threshold;
      if (t.recommended === null) {
        void vscode.window.showInformationMessage(`GradLens: ${run.title} has no finite gradient norms to recommend a clipping threshold from.`);
        return;
      }
      const tau = formatNumber(t.recommended);
      const stats = `mean ${formatNumber(t.mean)}, median ${formatNumber(t.median)}, p95 ${formatNumber(t.p95)}, p99 ${formatNumber(t.p99)}, max ${formatNumber(t.max)}`;
      const choice = await vscode.window.showInformationMessage(
        `GradLens: clip ${run.title} at max_norm = ${tau}, the 95th percentile of its healthy gradient norms (${stats}).`,
        'Copy clip line',
        'Open Dashboard',
      );
      if (choice === 'Copy clip line') await vscode.env.clipboard.writeText(`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${tau})`);
      else if (choice === 'Open Dashboard') dashboard.show([run.key]);
    },
    'gradlens.exportReport': exportReport,
    'gradlens.openPlayground': () => PlaygroundPanel.show(s.context, log),
    'gradlens.insertLogger': () => insertLogger(s.languageServer, s.context.extensionUri, log),
    'gradlens.runTrainingScript': (arg) => runTrainingScript(s, arg),
    'gradlens.openSweepTable': (arg) => {
      if (!(arg instanceof vscode.Uri)) {
        s.sweep.show(sweepScopeArgument(arg));
        return;
      }
      const scope = folderScope(arg);
      if (scope) s.sweep.show(scope);
      else void vscode.window.showInformationMessage(`GradLens lists the runs of the workspace's folders; ${arg.fsPath} is not in one. Open Run Folder reads it.`);
    },
  };
}
