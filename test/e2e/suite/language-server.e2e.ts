import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import { formatNumber } from '../../../src/diagnosis/stats';
import { canInspect, codeOf, diagnosticOf, gradlens, inspect, runAt, sleep, waitFor, workspacePath } from './helpers';

describe('language server', () => {
  for (const script of ['plain_loop.py', 'crlf_tabs_loop.py']) {
    it(`flags the unclipped training step of ${script} (GL001); its quick fix inserts the clip line and one undo restores the file byte for byte`, async () => {
      await gradlens();
      const file = workspacePath('train', script);
      const original = readFileSync(file, 'utf8');
      const uri = vscode.Uri.file(file);
      const document = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(document);
      const gl001 = await diagnosticOf(uri, (d) => codeOf(d) === 'GL001', 'the GL001 diagnostic');
      assert.match(document.lineAt(gl001.range.start.line).text, /optimizer\.step\(\)/, 'GL001 sits on the unclipped optimizer.step()');
      assert.equal(gl001.source, 'GradLens');

      const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, gl001.range)) ?? [];
      // The command returns the actions without the diagnostics they fix: the preferred quick fix at GL001's range is GL001's.
      const fix = actions.find((a) => a.isPreferred && a.kind?.value === vscode.CodeActionKind.QuickFix.value);
      const listed = actions.map((a) => `${a.title} (${a.kind?.value}${a.isPreferred ? ', preferred' : ''})`).join(' | ');
      assert.ok(fix?.edit, `a preferred quick fix for GL001 among: ${listed}`);
      assert.ok(await vscode.workspace.applyEdit(fix.edit), 'the fix applied');
      const fixed = document.getText();
      const clipLine = fixed.split(/\r?\n/).findIndex((line) => /torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), max_norm=/.test(line));
      assert.match(fixed.split(/\r?\n/)[clipLine - 1], /loss\.backward\(\)/, 'the clip line is inserted after backward()');
      assert.ok(/^\s*optimizer\.step\(\)/.test(fixed.split(/\r?\n/)[clipLine + 1]), 'and before optimizer.step()');
      if (original.includes('\r\n')) assert.ok(!/[^\r]\n/.test(fixed), 'CRLF line ends kept');
      await waitFor('GL001 to go once the step is clipped', () => (vscode.languages.getDiagnostics(uri).some((d) => codeOf(d) === 'GL001') ? undefined : true));

      await vscode.commands.executeCommand('undo');
      assert.equal(editor.document.getText(), original, 'one undo restores the text byte for byte');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });
  }

  it('puts a diagnostic on the log line where the explosion starts', async () => {
    const api = await gradlens();
    const file = workspacePath('pytorch-lstm', 'grads.jsonl');
    const run = await waitFor('the exploding run', () => runAt(api, file));
    const explosion = run.diagnosis.findings.find((f) => f.kind === 'explosion');
    assert.ok(explosion);
    // The line holding the explosion's first step, found here from the file itself.
    const line = readFileSync(file, 'utf8').split('\n').findIndex((text) => JSON.parse(text || 'null')?.step === explosion.step);
    assert.ok(line >= 0);
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostic = await diagnosticOf(uri, (d) => codeOf(d) === 'explosion', 'the explosion diagnostic');
    assert.equal(diagnostic.range.start.line, line, `the explosion (step ${explosion.step}) is on line ${line + 1}`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});

describe('the training script, from the command palette and the dashboard', () => {
  const script = () => workspacePath('train', 'plain_loop.py');

  it('Insert Gradient Logger instruments the loop at the cursor once, copies the logger beside it, and one undo takes it back', async () => {
    await gradlens();
    const original = readFileSync(script(), 'utf8');
    const document = await vscode.workspace.openTextDocument(script());
    const backward = original.split('\n').findIndex((line) => line.includes('loss.backward()'));
    const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(backward, 0, backward, 0) });
    await vscode.commands.executeCommand('gradlens.insertLogger');
    const lines = await waitFor('the logger inserted', () => (document.getText() !== original ? document.getText().split('\n') : undefined));
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const loop = at(/^\s*for epoch in range/);
    assert.ok(at(/^from gradlens_logger import GradLensLogger/) >= 0 && at(/^from gradlens_logger import/) < at(/^class MLP/), 'the import, with the imports');
    assert.match(lines[loop - 1], /grad_logger = GradLensLogger\("gradlens\.jsonl", model, optimizer=optimizer/, 'the logger is created right before the loop');
    assert.match(lines[at(/loss\.backward\(\)/) + 1], /^\s*grad_logger\.log\(/, 'and logs right after backward()');
    assert.ok(existsSync(workspacePath('train', 'gradlens_logger.py')), 'gradlens_logger.py is copied beside the script');

    const once = document.getText();
    await vscode.commands.executeCommand('gradlens.insertLogger');
    await sleep(1000);
    assert.equal(document.getText(), once, 'running it again inserts nothing');
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), original, 'one undo restores the script byte for byte');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it("the dashboard's Show fix opens the script at the unclipped step and applies GL001's fix from the notification", async function () {
    if (!canInspect()) this.skip();
    const api = await gradlens();
    // One training script in the workspace, so Show fix needs no pick.
    rmSync(workspacePath('train', 'crlf_tabs_loop.py'));
    const run = await waitFor('the exploding run', () => runAt(api, workspacePath('pytorch-lstm', 'grads.jsonl')));
    await vscode.commands.executeCommand('gradlens.openDashboard', { key: run.key });
    await waitFor('Show fix clicked', async () => {
      const page = await inspect({ frame: 'dashboard', text: { fixes: 'li[data-hint="add-norm-clipping"] .hint-fix' } });
      if (!page.found || page.text.fixes.length === 0) return undefined;
      await inspect({ frame: 'dashboard', click: { selector: 'li[data-hint="add-norm-clipping"] .hint-fix' } });
      return true;
    });
    const editor = await waitFor('the script in an editor', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === script()));
    assert.match(editor.document.lineAt(editor.selection.start.line).text, /optimizer\.step\(\)/, 'selected: the unclipped optimizer.step()');
    const original = editor.document.getText();
    // A workbench running extension tests shows no notification toasts: the notification waits in the list.
    await vscode.commands.executeCommand('notifications.showList');
    await waitFor('the notification with the fix', async () => {
      const list = await inspect({ frame: 'workbench', text: { buttons: '.notifications-center .monaco-button' } });
      return list.text.buttons.some((text) => text.startsWith('Clip gradients')) ? true : undefined;
    });
    await inspect({ frame: 'workbench', screenshot: 'vscode-show-fix.png' });
    await waitFor("GL001's fix applied from the notification's button", async () => {
      await inspect({ frame: 'workbench', click: { selector: '.notifications-center .monaco-button', text: 'Clip gradients' } }).catch(() => undefined);
      return editor.document.getText().includes('clip_grad_norm_(') ? true : undefined;
    });
    const recommended = run.diagnosis.threshold.recommended;
    assert.ok(recommended !== null);
    assert.ok(editor.document.getText().includes(`max_norm=${formatNumber(recommended)})`), "the fix inserts the run's recommended threshold, as the hint says");
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), original, 'one undo takes the fix back');
  });
});
