import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { codeOf, gradlens, runAt, waitFor, workspacePath } from './helpers';

async function diagnosticsOf(uri: vscode.Uri, wanted: (d: vscode.Diagnostic) => boolean, what: string): Promise<vscode.Diagnostic> {
  return waitFor(what, () => vscode.languages.getDiagnostics(uri).find(wanted), 30_000, () =>
    vscode.languages.getDiagnostics(uri).map((d) => `${codeOf(d)}@${d.range.start.line + 1}`).join(', '),
  );
}

describe('language server', () => {
  for (const script of ['plain_loop.py', 'crlf_tabs_loop.py']) {
    it(`flags the unclipped training step of ${script} (GL001); its quick fix inserts the clip line and one undo restores the file byte for byte`, async () => {
      await gradlens();
      const file = workspacePath('train', script);
      const original = readFileSync(file, 'utf8');
      const uri = vscode.Uri.file(file);
      const document = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(document);
      const gl001 = await diagnosticsOf(uri, (d) => codeOf(d) === 'GL001', 'the GL001 diagnostic');
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
    const diagnostic = await diagnosticsOf(uri, (d) => codeOf(d) === 'explosion', 'the explosion diagnostic');
    assert.equal(diagnostic.range.start.line, line, `the explosion (step ${explosion.step}) is on line ${line + 1}`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
