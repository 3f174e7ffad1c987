import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunsViewRow } from '../../../src/extension/api';
import { canInspect, gradlens, inspect, waitFor, workspacePath } from './helpers';

/**
 * The workspace's runs (see test/e2e/prepare.mjs) and how the Runs view must
 * show them: grouped by run folder (a Hugging Face output folder is a run of
 * the workspace's own group), with the status word and icon.
 */
const expectedRows = () => [
  { group: 'pytorch-lstm', label: 'grads.jsonl', word: 'exploding', icon: 'flame' },
  { group: 'lightning/version_0', label: 'metrics.csv', word: 'non-finite', icon: 'error' },
  { group: path.basename(workspacePath()), label: 'hf-gpt2', word: 'healthy', icon: 'pass' },
  { group: 'tensorboard-rnn', label: 'tb', word: 'healthy', icon: 'pass' },
];

const show = (rows: RunsViewRow[]) => rows.map((r) => `${r.group ?? '▸'} | ${r.label} | ${r.description} | ${r.icon}`).join('\n        ');

describe('Runs view', () => {
  it('lists the PyTorch, Lightning, Hugging Face and TensorBoard runs, each with its status', async () => {
    const api = await gradlens();
    const EXPECTED = expectedRows();
    const matches = (row: RunsViewRow, e: (typeof EXPECTED)[number]) =>
      row.group === e.group && row.label === e.label && row.icon === e.icon && row.description.startsWith(e.word + ' · ');
    const rows = await waitFor('the four runs with their statuses', () => {
      const now = api.runsView();
      return EXPECTED.every((e) => now.some((row) => matches(row, e))) ? now : undefined;
    }, 30_000, () => show(api.runsView()));
    console.log(`      ${show(rows)}`);
  });

  it('draws those rows in the sidebar', async function () {
    if (!canInspect()) this.skip();
    const EXPECTED = expectedRows();
    await vscode.commands.executeCommand('gradlens.runs.focus');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    let rows: string[] = [];
    const seen = await waitFor('the Runs view rows in the workbench', async () => {
      rows = (await inspect({ frame: 'workbench', text: { rows: '.monaco-list-row' } })).text.rows ?? [];
      return EXPECTED.every((e) => rows.some((row) => row.includes(e.label) && row.includes(e.word))) ? rows : undefined;
    }, 20_000, () => rows.join(' / '));
    assert.ok(seen.length >= EXPECTED.length * 2, `groups and runs drawn: ${seen.join(' / ')}`);
    await inspect({ frame: 'workbench', screenshot: 'vscode-runs.png' });
  });
});
