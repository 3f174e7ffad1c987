import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { canInspect, dashboardTab, gradlens, inspect, runAt, waitFor, workspacePath } from './helpers';

describe('dashboard', () => {
  it('opens on the exploding run with its timeline, problematic parameters and findings drawn', async function () {
    const api = await gradlens();
    const log = workspacePath('pytorch-lstm', 'grads.jsonl');
    const run = await waitFor('the exploding run to be read', () => runAt(api, log));
    await vscode.commands.executeCommand('gradlens.openDashboard', { key: run.key });
    await dashboardTab();
    if (!canInspect()) this.skip();

    const page = await waitFor('the dashboard to draw the run', async () => {
      const result = await inspect({
        frame: 'dashboard',
        text: { title: '.header h1', parameters: 'table.parameters tbody tr', findings: '.finding-message' },
        ink: { timeline: '.chart-norm .chart-canvas', heatMap: '.chart-heat .chart-canvas' },
      });
      return result.found && result.ink.timeline > 5000 && result.text.parameters.length > 0 && result.text.findings.length > 0 ? result : undefined;
    });
    assert.match(page.text.title.join(' '), /grads\.jsonl/);
    assert.ok(page.ink.heatMap > 5000, `heat map drawn (${page.ink.heatMap} pixels)`);
    const explosion = run.diagnosis.findings.find((f) => f.kind === 'explosion');
    assert.ok(explosion, 'the diagnosis has an explosion');
    assert.ok(page.text.findings.some((text) => text === explosion.message), `the explosion's finding is listed: ${page.text.findings.join(' | ')}`);
    assert.equal(page.text.parameters.length, run.diagnosis.parameters.length, 'one table row per problematic parameter');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await inspect({ frame: 'dashboard', screenshot: 'vscode-dashboard.png' });
  });
});

describe('dashboard comparing runs', () => {
  it('draws each run on its own steps when the runs cover different step ranges', async function () {
    const api = await gradlens();
    const lstm = await waitFor('the LSTM run to be read', () => runAt(api, workspacePath('pytorch-lstm', 'grads.jsonl')));
    const hf = await waitFor('the Hugging Face run to be read', () => runAt(api, workspacePath('hf-gpt2', 'trainer_state.json')));
    const runs = [lstm, hf];
    assert.notEqual(lstm.diagnosis.firstStep, hf.diagnosis.firstStep, 'the fixtures start at different steps');
    // The multi-run path of Open Dashboard, Compare Runs and multi-select: one show message with both runs.
    await vscode.commands.executeCommand('gradlens.openDashboard', runs.map((r) => r.key));
    await dashboardTab();
    if (!canInspect()) this.skip();

    const page = await waitFor('the comparison to draw both runs', async () => {
      const result = await inspect({
        frame: 'dashboard',
        text: { title: '.header h1', steps: 'table.compare tbody td:nth-child(3)' },
        ink: { timeline: '.chart-norm .chart-canvas' },
      });
      return result.found && result.text.steps.length === 2 && result.ink.timeline > 5000 ? result : undefined;
    });
    assert.deepEqual(page.text.title, ['Comparing 2 runs']);
    // The Steps column is the span of the series each run's charts draw, as the page decoded them.
    assert.deepEqual(
      page.text.steps,
      runs.map((r) => `steps ${r.diagnosis.firstStep}–${r.diagnosis.lastStep}`),
    );
  });
});
