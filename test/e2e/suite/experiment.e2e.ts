import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GradLensApi } from '../../../src/extension/api';
import { gradlens, sleep, waitFor } from './helpers';

const experimentRun = (api: GradLensApi, preset: string) => api.runs().find((run) => run.origin === 'experiment' && run.label.includes(preset));

describe('experiments', () => {
  it('streams the exploding RNN preset step by step and ends with an explosion finding', async () => {
    const api = await gradlens();
    let finished = false;
    const done = Promise.resolve(vscode.commands.executeCommand('gradlens.runExperiment', { preset: 'rnn-exploding' })).finally(() => (finished = true));
    // Seen while it trains: the run is listed and grows.
    const stepsSeen = new Set<number>();
    while (!finished) {
      const steps = experimentRun(api, 'rnn-exploding')?.steps;
      if (steps !== undefined && steps > 0) stepsSeen.add(steps);
      await sleep(50);
    }
    await done;
    const partial = [...stepsSeen].filter((steps) => steps < 200);
    assert.ok(partial.length > 0, `steps were shown while training: ${[...stepsSeen].join(', ')}`);
    const run = await waitFor('the finished run, diagnosed', () => {
      const now = experimentRun(api, 'rnn-exploding');
      return now?.steps === 200 && now.diagnosis.findings.some((f) => f.kind === 'explosion') ? now : undefined;
    }, 10_000, () => JSON.stringify(experimentRun(api, 'rnn-exploding')?.diagnosis.findings.map((f) => f.kind)));
    // The preset's norm grows until it overflows: exploding, or non-finite once it reaches Inf/NaN.
    assert.ok(run.status === 'exploding' || run.status === 'nonfinite', run.status);
  });

  it('stops a running experiment on Stop Experiment', async () => {
    const api = await gradlens();
    const done = vscode.commands.executeCommand('gradlens.runExperiment', { preset: 'lstm-long' });
    await waitFor('the LSTM experiment to start', () => ((experimentRun(api, 'lstm-long')?.steps ?? 0) > 0 ? true : undefined), 30_000);
    await vscode.commands.executeCommand('gradlens.stopExperiment');
    await done;
    await sleep(1500); // the log's last lines reach the Runs view
    const stopped = experimentRun(api, 'lstm-long')?.steps ?? 0;
    assert.ok(stopped > 0 && stopped < 200, `stopped after ${stopped} of 200 steps`);
    await sleep(1500);
    assert.equal(experimentRun(api, 'lstm-long')?.steps, stopped, 'no step comes after the stop');
  });
});
