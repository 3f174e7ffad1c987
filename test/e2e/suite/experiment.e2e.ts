import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GradLensApi } from '../../../src/extension/api';
import { gradlens, sleep, waitFor } from './helpers';

const experimentRun = (api: GradLensApi, preset: string) => api.runs().find((run) => run.origin === 'experiment' && run.label.includes(preset));

describe('experiments', () => {
  it('trains the exploding RNN preset to its end, with an explosion finding', async () => {
    const api = await gradlens();
    await vscode.commands.executeCommand('gradlens.runExperiment', { preset: 'rnn-exploding' });
    const run = await waitFor('the finished run, diagnosed', () => {
      const now = experimentRun(api, 'rnn-exploding');
      return now?.steps === 200 && now.diagnosis.findings.some((f) => f.kind === 'explosion') ? now : undefined;
    }, 10_000, () => JSON.stringify(experimentRun(api, 'rnn-exploding')?.diagnosis.findings.map((f) => f.kind)));
    // The preset's norm grows until it overflows: exploding, or non-finite once it reaches Inf/NaN.
    assert.ok(run.status === 'exploding' || run.status === 'nonfinite', run.status);
  });

  it('streams a slower experiment step by step while it trains, and Stop Experiment stops it', async () => {
    const api = await gradlens();
    const done = vscode.commands.executeCommand('gradlens.runExperiment', { preset: 'lstm-long' });
    const streamed = await waitFor('the LSTM experiment to show its first steps', () => {
      const steps = experimentRun(api, 'lstm-long')?.steps ?? 0;
      return steps > 0 ? steps : undefined;
    }, 30_000);
    await vscode.commands.executeCommand('gradlens.stopExperiment');
    await done;
    await sleep(1500); // the log's last lines reach the Runs view
    const stopped = experimentRun(api, 'lstm-long')?.steps ?? 0;
    assert.ok(streamed < 200 && stopped >= streamed && stopped < 200, `shown at ${streamed} steps while training, stopped after ${stopped} of 200`);
    await sleep(1500);
    assert.equal(experimentRun(api, 'lstm-long')?.steps, stopped, 'no step comes after the stop');
  });
});
