/**
 * "Insert Gradient Logger": the language server plans the insertion (the
 * same src/python code as its "Log gradient norms with GradLens" action);
 * this applies it as one WorkspaceEdit, so one undo takes it back, and copies
 * media/gradlens_logger.py next to the script.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loggerInsertionRequest } from '../protocol/language-server';
import { applyTextDocumentEdit, type GradLensLanguageServer } from './language-client';

/** media/gradlens_logger.py, the module the inserted import names. */
const LOGGER_FILE = 'gradlens_logger.py';

export async function insertLogger(server: GradLensLanguageServer, extensionUri: vscode.Uri, log: vscode.LogOutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') {
    void vscode.window.showInformationMessage('GradLens: open the Python training script to add the gradient logger to.');
    return;
  }
  const { document } = editor;
  const params = { uri: document.uri.toString(), version: document.version, line: editor.selection.active.line };
  const answer = await server.request(loggerInsertionRequest, params).catch((error: Error) => log.error(`insert logger: ${error.message}`));
  if (!answer) {
    void vscode.window.showErrorMessage('GradLens: the language server did not answer (see the GradLens output).');
    return;
  }
  if (answer.type === 'nothing') {
    log.info(`insert logger into ${document.uri.fsPath}: ${answer.reason}`);
    void vscode.window.showWarningMessage(`GradLens: ${answer.reason}`);
    return;
  }
  if (!(await applyTextDocumentEdit(answer.edit))) {
    void vscode.window.showErrorMessage('GradLens: the script changed meanwhile, or the editor refused the edit (is the file read-only?). Try again.');
    return;
  }
  const copied = await copyLogger(extensionUri, document.uri);
  log.info(`insert logger into ${document.uri.fsPath}: ${answer.message}`);
  void vscode.window.showInformationMessage(`GradLens: ${answer.message}${copied}`);
}

/** Copies the logger next to the script unless one is there; says what happened, for the message. */
async function copyLogger(extensionUri: vscode.Uri, script: vscode.Uri): Promise<string> {
  if (script.scheme !== 'file') return ` Save the script, then copy ${LOGGER_FILE} next to it.`;
  const target = vscode.Uri.joinPath(script.with({ path: path.posix.dirname(script.path) }), LOGGER_FILE);
  try {
    await vscode.workspace.fs.stat(target);
    return '';
  } catch {
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(extensionUri, 'media', LOGGER_FILE), target, { overwrite: false });
    return ` Copied ${LOGGER_FILE} next to the script.`;
  }
}
