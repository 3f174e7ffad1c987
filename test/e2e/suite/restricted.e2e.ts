/**
 * Restricted mode (an untrusted workspace): GradLens still reads and shows
 * logs, nothing it offers runs a program from the workspace, and the
 * workspace's settings (hostile ones: see prepare.mjs) change nothing.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { canInspect, codeOf, dashboardTab, diagnosticOf, gradlens, inspect, runAt, shapesScript, waitFor, workspacePath } from './helpers';

describe('restricted mode', () => {
  it('is what this workspace is in', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it("ignores the workspace's hostile settings: the values GradLens uses are the defaults", () => {
    const config = vscode.workspace.getConfiguration('gradlens');
    // The workspace sets these (test/e2e/prepare.mjs); VS Code ignores restricted settings' workspace values until it is trusted.
    assert.equal(config.get('warnThreshold'), 10);
    assert.deepEqual(config.get('tagRoles'), {});
    assert.ok(config.get<string[]>('logGlobs')?.includes('**/*.jsonl'));
  });

  it('lists the workspace runs and inspects a log into the dashboard', async function () {
    const api = await gradlens();
    const log = workspacePath('pytorch-lstm', 'grads.jsonl');
    const run = await waitFor('the exploding run', () => runAt(api, log), 30_000);
    assert.equal(run.status, 'exploding');
    await vscode.commands.executeCommand('gradlens.inspectLogFile', vscode.Uri.file(log));
    await dashboardTab();
    if (!canInspect()) this.skip();
    await waitFor('the dashboard to draw', async () => {
      const page = await inspect({ frame: 'dashboard', ink: { timeline: '.chart-norm .chart-canvas' } });
      return page.found && page.ink.timeline > 5000 ? true : undefined;
    });
  });

  it('still puts the diagnostics in the log and the training script', async () => {
    await gradlens();
    const log = vscode.Uri.file(workspacePath('pytorch-lstm', 'grads.jsonl'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(log));
    await diagnosticOf(log, (d) => codeOf(d) === 'explosion', 'the log diagnostics');
    const script = vscode.Uri.file(workspacePath('train', 'plain_loop.py'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(script));
    await diagnosticOf(script, (d) => codeOf(d) === 'GL001', 'GL001');
  });

  it('offers only text edits, and starts no terminal, task or debug session', async () => {
    await gradlens();
    const script = vscode.Uri.file(workspacePath('train', 'plain_loop.py'));
    const document = await vscode.workspace.openTextDocument(script);
    const whole = new vscode.Range(0, 0, document.lineCount, 0);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', script, whole)) ?? [];
    assert.ok(actions.length > 0, 'the quick fixes are offered');
    const running = actions.filter((action) => action.command !== undefined || action.edit === undefined);
    assert.deepEqual(running.map((a) => a.title), [], 'every code action is an edit, none runs a command');
    assert.equal(vscode.window.terminals.length, 0);
    assert.equal(vscode.tasks.taskExecutions.length, 0);
    assert.equal(vscode.debug.activeDebugSession, undefined);
  });

  it('offers no Run Training Script CodeLens, and the command explains itself and runs nothing', async () => {
    await gradlens();
    const script = vscode.Uri.file(shapesScript());
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(script));
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', script)) ?? [];
    assert.deepEqual(lenses.filter((lens) => lens.command?.command === 'gradlens.runTrainingScript'), []);
    await vscode.commands.executeCommand('gradlens.runTrainingScript', { script: script.fsPath, args: 'plain' });
    assert.equal(vscode.window.terminals.length, 0);
  });
});
