/**
 * Run Training Script with Gradient Logging: an unmodified PyTorch script of
 * the workspace runs in a terminal through `gradlens run`, and its per-parameter
 * log shows up live in the Runs view and the dashboard.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { canInspect, dashboardTab, gradlens, inspect, shapesScript, waitFor, workspacePath } from './helpers';

// Debian's Python with its PyTorch: no Python extension is installed here to pick one.
const PYTHON = '/usr/bin/python3';
const STEPS = 30;

describe('running a training script with gradient logging', () => {
  it('offers a CodeLens on the script’s if __name__ == "__main__":', async () => {
    await gradlens();
    const script = vscode.Uri.file(shapesScript());
    const document = await vscode.workspace.openTextDocument(script);
    const guard = document.getText().split('\n').findIndex((line) => line.startsWith('if __name__ == "__main__":'));
    const lenses = await waitFor('the CodeLens', async () => {
      const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', script)) ?? [];
      const ours = found.filter((lens) => lens.command?.command === 'gradlens.runTrainingScript');
      return ours.length > 0 ? ours : undefined;
    });
    assert.deepEqual(
      lenses.map((lens) => lens.range.start.line),
      [guard],
    );
  });

  it('runs the script in a terminal and follows its log live in the Runs view and the dashboard', async () => {
    const api = await gradlens();
    await vscode.workspace.getConfiguration('gradlens').update('pythonPath', PYTHON, vscode.ConfigurationTarget.Workspace);
    const script = shapesScript();
    await vscode.commands.executeCommand('gradlens.runTrainingScript', { script, args: `explode --steps ${STEPS} --pause 0.25` });
    const terminal = await waitFor('the terminal', () => vscode.window.terminals.find((t) => t.name === 'GradLens: train_shapes.py'));
    const live = await waitFor('the run listed live with its first steps', () => api.runs().find((r) => r.path.startsWith(workspacePath('gradlens-runs', 'train_shapes-')) && r.live && r.steps > 0), 60_000, () =>
      JSON.stringify(api.runs().map((r) => [r.path, r.steps, r.live])),
    );
    assert.equal(path.dirname(live.path), workspacePath('gradlens-runs'));
    await waitFor('● live in the Runs view', () => api.runsView().find((r) => r.label === path.basename(live.path) && r.description.includes('● live')), 10_000, () => JSON.stringify(api.runsView()));
    await dashboardTab();
    if (canInspect()) {
      const header = async () => (await inspect({ frame: 'dashboard', text: { meta: '.header' } })).text.meta?.join(' ') ?? '';
      await waitFor('the dashboard to follow the run', async () => ((await header()).match(/(\d+) logged steps/)?.[1] ?? '0') !== '0' || undefined, 30_000);
    }
    const done = await waitFor(`all ${STEPS} steps`, () => {
      const run = api.runs().find((r) => r.key === live.key);
      return run && run.steps === STEPS ? run : undefined;
    }, 60_000);
    const kinds = done.diagnosis.findings.map((f) => f.kind);
    assert.ok(kinds.includes('nonfinite') && kinds.includes('explosion'), kinds.join(', '));
    assert.ok(done.diagnosis.findings.find((f) => f.kind === 'nonfinite')!.layers.includes('rnn.weight_hh_l0'));
    if (canInspect()) await inspect({ frame: 'dashboard', screenshot: 'vscode-run-script.png' });
    terminal.dispose();
  });
});
