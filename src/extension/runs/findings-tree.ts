/**
 * The Findings view (`gradlens.findings`): the selected run's findings,
 * worst first, each with its hints as children. Choosing one opens the
 * dashboard on the finding's step and first parameter.
 */
import * as vscode from 'vscode';
import type { Finding, Hint } from '../../diagnosis/types';
import type { Focus } from '../../protocol/dashboard';
import type { RunsModel } from './model';
import { findingDescription, findingLabel, findingsMessage, SEVERITY_LOOKS } from './present';
import { themeIcon } from './runs-tree';

export type FindingsNode = { finding: Finding; index: number; key: string } | { hint: Hint; parent: { finding: Finding; index: number; key: string } };

const isHint = (node: FindingsNode): node is Extract<FindingsNode, { hint: Hint }> => 'hint' in node;

function focusOn(key: string, finding: Finding): vscode.Command {
  const focus: Focus = { key, step: finding.step, ...(finding.layers.length > 0 ? { param: finding.layers[0] } : {}) };
  return { command: 'gradlens.openDashboard', title: 'Open Dashboard', arguments: [focus] };
}

export class FindingsTreeProvider implements vscode.TreeDataProvider<FindingsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly model: RunsModel) {
    this.subscriptions = [
      model.onDidSelect(() => this.changed.fire()),
      model.onDidUpdateRun((key) => {
        if (key === model.selected?.key) this.changed.fire();
      }),
    ];
  }

  /** What the view says above (or instead of) the list. */
  get message(): string | undefined {
    return findingsMessage(this.model.selected);
  }

  getChildren(node?: FindingsNode): FindingsNode[] {
    const run = this.model.selected;
    if (!node) return run ? run.diagnosis.findings.map((finding, index) => ({ finding, index, key: run.key })) : [];
    return isHint(node) ? [] : node.finding.hints.map((hint) => ({ hint, parent: node }));
  }

  getTreeItem(node: FindingsNode): vscode.TreeItem {
    if (isHint(node)) {
      const item = new vscode.TreeItem(node.hint.text, vscode.TreeItemCollapsibleState.None);
      item.id = `hint:${node.parent.key}:${node.parent.index}:${node.hint.id}`;
      item.tooltip = node.hint.text;
      item.iconPath = new vscode.ThemeIcon('lightbulb');
      item.contextValue = 'gradlens.hint';
      item.command = focusOn(node.parent.key, node.parent.finding);
      return item;
    }
    const { finding } = node;
    const item = new vscode.TreeItem(findingLabel(finding), finding.hints.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    // Stable across re-diagnoses of a growing run, so expanded findings stay expanded.
    item.id = `finding:${node.key}:${node.index}:${finding.kind}`;
    item.description = findingDescription(finding);
    item.tooltip = finding.message;
    item.iconPath = themeIcon(SEVERITY_LOOKS[finding.severity]);
    item.contextValue = `gradlens.finding.${finding.severity}`;
    item.command = focusOn(node.key, finding);
    return item;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}
