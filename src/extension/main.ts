import * as vscode from 'vscode';
import { Experiments } from './experiments';

/** Commands contributed in package.json, each bound once here. */
function commandTable(experiments: Experiments): Record<string, () => unknown> {
  return {
    'gradlens.runExperiment': () => experiments.run(),
    'gradlens.stopExperiment': () => experiments.stop(),
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('GradLens', { log: true });
  const experiments = new Experiments(vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath, context.globalStorageUri, log);
  context.subscriptions.push(log, experiments);
  for (const [id, run] of Object.entries(commandTable(experiments))) context.subscriptions.push(vscode.commands.registerCommand(id, run));
  log.info('GradLens activated');
}

export function deactivate(): void {}
