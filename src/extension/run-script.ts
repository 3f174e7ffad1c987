/**
 * GradLens: Run Training Script with Gradient Logging. Runs the user's own
 * script, unchanged, in a VS Code terminal through `gradlens run` (the
 * bundled CLI, with the extension host's Node), with the interpreter the user
 * chose; lists the log under Runs and shows it in the dashboard as it grows.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultLogPath, mainGuardLines, splitArguments } from '../instrument/launch';
import { errorMessage } from '../shared/errors';
import { scriptArgument } from './command-args';
import type { DashboardPanel } from './dashboard-panel';
import type { RunsModel } from './runs/model';

export const RUN_SCRIPT_COMMAND = 'gradlens.runTrainingScript';
const ARGUMENTS_KEY = 'gradlens.runTrainingScript.arguments';
/** How often the extension looks for the log the script has not written yet. */
const LOG_POLL_MS = 500;

export interface RunScriptServices {
  context: vscode.ExtensionContext;
  model: RunsModel;
  dashboard: DashboardPanel;
  log: vscode.LogOutputChannel;
}

export async function runTrainingScript(s: RunScriptServices, arg: unknown): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window
      .showWarningMessage(
        'GradLens cannot run a training script in Restricted Mode: running it executes code from this workspace. Trust the workspace to use Run Training Script with Gradient Logging; reading logs works either way.',
        'Manage Workspace Trust',
      )
      .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
    return;
  }
  const given = scriptArgument(arg);
  const script = given ? vscode.Uri.file(given.script) : await scriptFrom(arg);
  if (!script) return;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === script.toString());
  if (open?.isDirty) await open.save();

  const remembered = s.context.workspaceState.get<Record<string, string>>(ARGUMENTS_KEY, {});
  const typed = given?.args ?? (await vscode.window.showInputBox({
    title: `GradLens: Run ${path.basename(script.fsPath)} with Gradient Logging`,
    prompt: 'Arguments for the script, as you would type them in a shell (remembered for this script)',
    value: remembered[script.fsPath] ?? '',
    validateInput: (text) => {
      try {
        splitArguments(text);
        return undefined;
      } catch (error) {
        return errorMessage(error);
      }
    },
  }));
  if (typed === undefined) return;
  await s.context.workspaceState.update(ARGUMENTS_KEY, { ...remembered, [script.fsPath]: typed });

  const python = await pythonCommand(script, s.log);
  const command = [...python, script.fsPath, ...splitArguments(typed)];
  const folder = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath ?? path.dirname(script.fsPath);
  const out = path.join(folder, defaultLogPath([script.fsPath]));
  const cli = vscode.Uri.joinPath(s.context.extensionUri, 'dist', 'cli.js').fsPath;
  s.log.info(`running ${command.join(' ')} with gradient logging to ${out}`);
  const terminal = vscode.window.createTerminal({
    name: `GradLens: ${path.basename(script.fsPath)}`,
    cwd: folder,
    // The extension host's own executable runs the CLI: VS Code's Electron as Node, or code-server's Node.
    shellPath: process.execPath,
    shellArgs: [cli, 'run', '--keep-open', '--out', out, '--', ...command],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    iconPath: new vscode.ThemeIcon('pulse'),
  });
  terminal.show();
  await showWhenLogged(s, out, terminal);
}

/** The Python file a menu or CodeLens passed, else the active editor's, else one the person picks. */
async function scriptFrom(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === 'python' && active.uri.scheme === 'file') return active.uri;
  const [picked] =
    (await vscode.window.showOpenDialog({ title: 'GradLens: Run Training Script with Gradient Logging', openLabel: 'Run', canSelectMany: false, filters: { 'Python scripts': ['py'] } })) ?? [];
  return picked;
}

/**
 * The interpreter command: the Python extension's selected environment for
 * this script when the extension is installed, else `gradlens.pythonPath`,
 * else python3 (python on Windows).
 */
async function pythonCommand(script: vscode.Uri, log: vscode.LogOutputChannel): Promise<string[]> {
  const selected = await selectedInterpreter(script).catch((error: unknown) => {
    log.warn(`the Python extension did not say which interpreter is selected: ${errorMessage(error)}`);
    return undefined;
  });
  if (selected) return selected;
  const configured = vscode.workspace.getConfiguration('gradlens').get<unknown>('pythonPath');
  if (typeof configured === 'string' && configured.trim() !== '') return [configured.trim()];
  return [process.platform === 'win32' ? 'python' : 'python3'];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Asks the Python extension (ms-python.python) through its public API; its exports are checked, not trusted. */
async function selectedInterpreter(script: vscode.Uri): Promise<string[] | undefined> {
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (!extension) return undefined;
  const api: unknown = extension.isActive ? extension.exports : await extension.activate();
  if (!isRecord(api)) return undefined;
  const environments = api.environments;
  if (isRecord(environments) && typeof environments.getActiveEnvironmentPath === 'function' && typeof environments.resolveEnvironment === 'function') {
    const active: unknown = environments.getActiveEnvironmentPath(script);
    const resolved: unknown = active ? await environments.resolveEnvironment(active) : undefined;
    const executable = isRecord(resolved) && isRecord(resolved.executable) ? resolved.executable.uri : undefined;
    if (executable instanceof vscode.Uri) return [executable.fsPath];
  }
  const settings = api.settings;
  if (isRecord(settings) && typeof settings.getExecutionDetails === 'function') {
    const details: unknown = settings.getExecutionDetails(script);
    const command = isRecord(details) ? details.execCommand : undefined;
    if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === 'string')) return command as string[];
  }
  return undefined;
}

/** Once the script's first step is logged: the run is listed (and followed) and shown in the dashboard. */
async function showWhenLogged(s: RunScriptServices, out: string, terminal: vscode.Terminal): Promise<void> {
  const logged = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => {
      if (existsSync(out)) finish(true);
      else if (terminal.exitStatus !== undefined) finish(existsSync(out));
    }, LOG_POLL_MS);
    const closed = vscode.window.onDidCloseTerminal((t) => {
      if (t === terminal) finish(existsSync(out));
    });
    function finish(found: boolean) {
      clearInterval(timer);
      closed.dispose();
      resolve(found);
    }
  });
  if (!logged) return;
  try {
    const [run] = await s.model.open(out, 'opened');
    if (run) s.dashboard.show([run.key]);
  } catch (error) {
    s.log.warn(`could not follow ${out}: ${errorMessage(error)}`);
  }
}

/** The "Run with Gradient Logging" CodeLens on a script's `if __name__ == "__main__":`, in trusted workspaces. */
export class MainGuardCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trust = vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire());

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted || document.uri.scheme !== 'file') return [];
    return mainGuardLines(document.getText()).map(
      (line) => new vscode.CodeLens(new vscode.Range(line, 0, line, 0), { title: '$(pulse) Run with Gradient Logging (GradLens)', command: RUN_SCRIPT_COMMAND, arguments: [document.uri] }),
    );
  }

  dispose(): void {
    this.trust.dispose();
    this.changed.dispose();
  }
}
