import * as vscode from 'vscode';
import type { GradLensApi } from './api';
import { commandTable } from './commands';
import { DashboardLinks } from './dashboard-links';
import { DASHBOARD_VIEW_TYPE, DashboardPanel } from './dashboard-panel';
import { Experiments, experimentsFolder } from './experiments';
import { GradLensLanguageServer } from './language-client';
import { PLAYGROUND_VIEW_TYPE, PlaygroundPanel } from './playground-panel';
import { MainGuardCodeLens } from './run-script';
import { RunsModel } from './runs/model';
import { registerRunViews } from './runs/views';
import { SweepPanel } from './sweep-panel';

/**
 * Wires GradLens into VS Code. Activation only creates objects and
 * registrations: logs are found and read by the logs worker, off this thread.
 */
export function activate(context: vscode.ExtensionContext): GradLensApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('GradLens', { log: true });
  const dist = (file: string) => vscode.Uri.joinPath(context.extensionUri, 'dist', file).fsPath;
  const model = new RunsModel(dist('logs-worker.js'), log);
  const languageServer = new GradLensLanguageServer(context, log);
  const dashboard = new DashboardPanel(context.extensionUri, experimentsFolder(context.globalStorageUri).fsPath, model, new DashboardLinks(languageServer, log), log);
  const experiments = new Experiments(dist('training-worker.js'), context.globalStorageUri, model, dashboard, log);
  const sweep = new SweepPanel(context.extensionUri, model, log);
  const views = registerRunViews(model);
  context.subscriptions.push(model, dashboard, sweep, experiments, views);
  for (const [id, handler] of Object.entries(commandTable({ context, model, dashboard, sweep, experiments, languageServer, log }))) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  const mainGuardLens = new MainGuardCodeLens();
  context.subscriptions.push(mainGuardLens, vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, mainGuardLens));
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => dashboard.revive(panel, state) }),
    vscode.window.registerWebviewPanelSerializer(PLAYGROUND_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => PlaygroundPanel.revive(panel, context, log),
    }),
  );
  context.subscriptions.push(languageServer);
  // Last, so whatever logs while being disposed still has its channel.
  context.subscriptions.push(log);
  const activationMs = performance.now() - started;
  log.info(`GradLens activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, runsView: () => views.rows(), runs: () => model.list() };
}

export function deactivate(): void {}
