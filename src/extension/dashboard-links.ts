import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatNumber } from '../diagnosis/stats';
import { findStepLine, LINE_FORMATS } from '../logs/step-lines';
import { hintIdSchema } from '../protocol/diagnosis';
import { hintLocationRequest, trainingScriptsRequest } from '../protocol/language-server';
import { applyTextDocumentEdit, type GradLensLanguageServer } from './language-client';
import type { RunEntry } from './runs/model';
import { errorMessage } from '../shared/errors';

/** Not training scripts: environments, caches, installed packages. */
const SCRIPT_EXCLUDE = '**/{node_modules,.git,.venv,venv,env,.tox,__pycache__,site-packages,dist-packages}/**';
const MAX_SCRIPTS = 2000;
const INSERT_LOGGER = 'Insert Gradient Logger';

/** Path segments shared from the root: scripts next to (or above) the log come first. */
function closeness(script: string, log: string): number {
  const a = script.split(/[\\/]/);
  const b = path.dirname(log).split(/[\\/]/);
  let shared = 0;
  while (shared < a.length - 1 && shared < b.length && a[shared] === b[shared]) shared++;
  return shared;
}

/**
 * Where the dashboard's links go: a hint opens the training script where its
 * change goes and offers the language server's quick fix for it there; a
 * step opens the log at the line that wrote it.
 */
export class DashboardLinks {
  /** The script chosen for a run, so the next hint of that run does not ask again. */
  private readonly scriptOfRun = new Map<string, vscode.Uri>();

  constructor(
    private readonly server: GradLensLanguageServer,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async openHint(run: RunEntry | undefined, hintId: string, step: number): Promise<void> {
    const hint = hintIdSchema.parse(hintId);
    if (!hint) {
      this.log.trace(`dashboard: unknown hint id ${JSON.stringify(hintId)} dropped`);
      return;
    }
    const hints = run?.diagnosis.findings.flatMap((f) => f.hints.map((h) => ({ ...h, step: f.step }))) ?? [];
    const text = (hints.find((h) => h.id === hint && h.step === step) ?? hints.find((h) => h.id === hint))?.text ?? hint;
    try {
      const script = await this.trainingScript(run);
      if (!script) {
        void vscode.window.showInformationMessage(`${text} (GradLens found no training script in this workspace: no Python file calls backward() and then an optimizer's step().)`);
        return;
      }
      const document = await vscode.workspace.openTextDocument(script);
      const recommended = run?.diagnosis.threshold.recommended;
      // The fix inserts the threshold the hint names, as its text writes it (the one formatNumber: 3.38, 1953, 1.5e5).
      const maxNorm = recommended !== null && recommended !== undefined && recommended > 0 ? Number(formatNumber(recommended)) : undefined;
      const location = await this.server.request(hintLocationRequest, { uri: document.uri.toString(), version: document.version, hint, ...(maxNorm !== undefined ? { maxNorm } : {}) });
      if (location.type === 'nothing') {
        await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
        void vscode.window.showInformationMessage(`${text} (${location.reason})`);
        return;
      }
      const { start, end } = location.range;
      const selection = new vscode.Range(start.line, start.character, end.line, end.character);
      await vscode.window.showTextDocument(document, { selection, viewColumn: vscode.ViewColumn.Beside, preview: true });
      const where = location.exact ? '' : ` (${path.basename(script.fsPath)} has no ${location.what.replace(/^the /, '')}: opened at the training step.)`;
      const fix = location.fix;
      const actions = fix ? [fix.title] : hint === 'log-gradients' ? [INSERT_LOGGER] : [];
      const choice = await vscode.window.showInformationMessage(`${text}${where}`, ...actions);
      if (choice === INSERT_LOGGER) await vscode.commands.executeCommand('gradlens.insertLogger');
      else if (fix && choice === fix.title && !(await applyTextDocumentEdit(fix.edit))) {
        void vscode.window.showWarningMessage('GradLens: the script changed since the fix was computed; use the quick fix (the light bulb) on the line instead.');
      }
    } catch (error) {
      this.log.error(`hint ${hint}: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`${text} (GradLens could not open the training script: see the GradLens output.)`);
    }
  }

  /** The script the run came from: the only training script, or the one the person picks (nearest the log first). */
  private async trainingScript(run: RunEntry | undefined): Promise<vscode.Uri | undefined> {
    const remembered = run && this.scriptOfRun.get(run.key);
    if (remembered) return remembered;
    const candidates = await vscode.workspace.findFiles('**/*.py', SCRIPT_EXCLUDE, MAX_SCRIPTS);
    const byUri = new Map(candidates.map((uri) => [uri.toString(), uri]));
    const { uris } = await this.server.request(trainingScriptsRequest, { uris: [...byUri.keys()] });
    const scripts = uris.map((uri) => byUri.get(uri)).filter((uri): uri is vscode.Uri => uri !== undefined);
    if (run) scripts.sort((a, b) => closeness(b.fsPath, run.path) - closeness(a.fsPath, run.path));
    let chosen: vscode.Uri | undefined = scripts[0];
    if (scripts.length > 1) {
      const picked = await vscode.window.showQuickPick(
        scripts.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
        { title: 'GradLens: which script trained this run?', placeHolder: 'The fix goes into the training script' },
      );
      chosen = picked?.uri;
    }
    if (run && chosen) this.scriptOfRun.set(run.key, chosen);
    return chosen;
  }

  /** Opens the run's log, at the line of `step` for a text format; a binary log or a run folder is revealed instead. */
  async openLog(run: RunEntry, step?: number): Promise<void> {
    const uri = vscode.Uri.file(run.path);
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.type & vscode.FileType.Directory || !LINE_FORMATS.has(run.format)) {
      await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri);
      return;
    }
    const line = step === undefined ? undefined : await findStepLine(run.path, run.format, step, run.stream);
    const selection = line === undefined ? undefined : new vscode.Range(line, 0, line, 0);
    await vscode.window.showTextDocument(uri, { selection, viewColumn: vscode.ViewColumn.Beside, preview: true });
    if (step !== undefined && line === undefined) void vscode.window.showInformationMessage(`GradLens: step ${step} is not in ${path.basename(run.path)} (any more).`);
  }
}
