/**
 * Registers the Runs and Findings views on a RunsModel: choosing a run in
 * Runs selects it in the model, and Findings follows the selection.
 */
import * as vscode from 'vscode';
import { FindingsTreeProvider } from './findings-tree';
import type { RunsModel } from './model';
import { RunsTreeProvider, type RunsNode } from './runs-tree';

export function registerRunViews(model: RunsModel): vscode.Disposable {
  const runs = new RunsTreeProvider(model);
  const findings = new FindingsTreeProvider(model);
  // Several runs can be selected for Compare Runs; the last one chosen is the model's selection.
  const runsView = vscode.window.createTreeView<RunsNode>('gradlens.runs', { treeDataProvider: runs, canSelectMany: true, showCollapseAll: true });
  const findingsView = vscode.window.createTreeView('gradlens.findings', { treeDataProvider: findings });
  const describeSelection = (): void => {
    findingsView.message = findings.message;
    findingsView.description = model.selected?.label;
  };
  describeSelection();
  return vscode.Disposable.from(
    runs,
    findings,
    runsView,
    findingsView,
    runsView.onDidChangeSelection((event) => {
      const chosen = event.selection.filter((node): node is Extract<RunsNode, { key: string }> => 'key' in node).pop();
      if (chosen) model.selected = model.get(chosen.key);
    }),
    findings.onDidChangeTreeData(describeSelection),
  );
}
