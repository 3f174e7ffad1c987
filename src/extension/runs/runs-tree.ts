/**
 * The Runs view (`gradlens.runs`): groups (run folders, Experiments, Opened)
 * and their runs, each with its status icon, step count and live marker.
 * Run elements are the model's RunEntry objects, so a command invoked on an
 * item (context menu, inline button) receives the RunEntry.
 */
import * as vscode from 'vscode';
import type { RunEntry, RunsModel } from './model';
import { COLLAPSED_RUNS, groupDescription, runDescription, runTooltipRows, shownLabel, STATUS_LOOKS, type Look, type RunGroup } from './present';

export type RunsNode = RunGroup | RunEntry;

/** A refresh of the whole tree draws every row again: while runs keep coming (a sweep folder being read), at most one this often. */
const FULL_REFRESH_INTERVAL_MS = 1000;

const isGroup = (node: RunsNode): node is RunGroup => 'runs' in node;

export function themeIcon(look: Look): vscode.ThemeIcon {
  return new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
}

/** A tooltip of label/value lines; values come from logs, so they are appended as text, never as Markdown. */
export function textTooltip(rows: Array<[string, string]>): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString(undefined, false);
  tooltip.isTrusted = false;
  tooltip.supportHtml = false;
  rows.forEach(([label, value], index) => {
    if (index > 0) tooltip.appendMarkdown('  \n');
    tooltip.appendMarkdown(`**${label}:** `);
    tooltip.appendText(value);
  });
  return tooltip;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | RunsNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** The groups as last listed: group elements keep their identity between refreshes of single runs. */
  private groups = new Map<string, RunGroup>();
  private readonly subscription: vscode.Disposable;
  private fullRefresh: ReturnType<typeof setTimeout> | undefined;
  private fullRefreshedAt = -Infinity;

  constructor(private readonly model: RunsModel) {
    this.subscription = model.onDidChangeRuns((change) => {
      if (change.structure) {
        this.refreshAll();
        return;
      }
      // The refresh to come draws these too (and some may not be in the tree VS Code holds yet).
      if (this.fullRefresh) return;
      // A run's status and live marker also show in its group's description.
      const runs = change.keys.flatMap((key) => model.get(key) ?? []);
      const groups = new Set(runs.flatMap((run) => this.groupOf(run) ?? []));
      if (runs.length > 0) this.changed.fire([...runs, ...groups]);
    });
  }

  private refreshAll(): void {
    if (this.fullRefresh) return;
    this.fullRefresh = setTimeout(() => {
      this.fullRefresh = undefined;
      this.fullRefreshedAt = Date.now();
      this.changed.fire(undefined);
    }, Math.max(0, this.fullRefreshedAt + FULL_REFRESH_INTERVAL_MS - Date.now()));
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (node === undefined) {
      this.groups = new Map(this.model.groups().map((group) => [group.id, group]));
      return [...this.groups.values()];
    }
    return isGroup(node) ? node.runs : [];
  }

  getParent(node: RunsNode): RunsNode | undefined {
    return isGroup(node) ? undefined : this.groupOf(node);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    return isGroup(node) ? this.groupItem(node) : this.runItem(node);
  }

  /** A run's tooltip, made when it is hovered: with a thousand runs, every refresh would carry a thousand of them to the workbench. */
  resolveTreeItem(item: vscode.TreeItem, node: RunsNode): vscode.TreeItem {
    if (!isGroup(node)) item.tooltip = textTooltip(runTooltipRows(node));
    return item;
  }

  dispose(): void {
    clearTimeout(this.fullRefresh);
    this.subscription.dispose();
    this.changed.dispose();
  }

  /** Each run's group, indexed once per grouping: a thousand rows would otherwise each search every group. */
  private byRun: { groups: readonly RunGroup[]; of: Map<string, RunGroup> } | undefined;

  private groupOf(run: RunEntry): RunGroup | undefined {
    const groups = this.model.groups();
    if (this.byRun?.groups !== groups) this.byRun = { groups, of: new Map(groups.flatMap((group) => group.runs.map((r): [string, RunGroup] => [r.key, group]))) };
    return this.byRun.of.get(run.key);
  }

  private groupItem(group: RunGroup): vscode.TreeItem {
    const item = new vscode.TreeItem(group.name, group.runs.length > COLLAPSED_RUNS ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    item.id = `group:${group.id}`;
    item.description = groupDescription(group);
    item.iconPath = new vscode.ThemeIcon(group.id.startsWith('experiment:') ? 'beaker' : group.id.startsWith('opened:') ? 'folder-opened' : 'folder');
    item.contextValue = 'gradlens.group';
    return item;
  }

  private runItem(run: RunEntry): vscode.TreeItem {
    const group = this.groupOf(run);
    const item = new vscode.TreeItem(group ? shownLabel(group, run) : run.label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${run.key}`;
    item.description = runDescription(run);
    item.iconPath = themeIcon(STATUS_LOOKS[run.status]);
    item.contextValue = run.live ? 'gradlens.run.live' : 'gradlens.run';
    item.command = { command: 'gradlens.openDashboard', title: 'Open Dashboard', arguments: [{ key: run.key }] };
    return item;
  }
}
