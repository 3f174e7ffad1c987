/**
 * Registers the Runs and Findings views on a RunsModel: choosing a run in
 * Runs selects it in the model, and Findings follows the selection.
 */
import * as vscode from 'vscode';
import type { RunsViewRow } from '../api';
import { FindingsTreeProvider } from './findings-tree';
import type { RunsModel } from './model';
import { RunsTreeProvider, type RunsNode } from './runs-tree';

/** The rows a Runs tree draws, groups expanded, as labels, descriptions and icon ids. */
function rowsOf(tree: RunsTreeProvider, model: RunsModel): RunsViewRow[] {
  const text = (value: string | vscode.TreeItemLabel | boolean | undefined): string =>
    typeof value === 'string' ? value : typeof value === 'object' ? value.label : '';
  const row = (node: RunsNode, group: string | undefined): RunsViewRow => {
    const item = tree.getTreeItem(node);
    return { group, label: text(item.label), description: text(item.description), icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : '' };
  };
  return model.groups().flatMap((group) => {
    const head = row(group, undefined);
    return [head, ...group.runs.map((run) => row(run, head.label))];
  });
}

export function registerRunViews(model: RunsModel): vscode.Disposable & { rows(): RunsViewRow[] } {
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
  const disposable = vscode.Disposable.from(
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
  return { dispose: () => disposable.dispose(), rows: () => rowsOf(runs, model) };
}
