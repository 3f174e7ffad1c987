import assert from 'node:assert/strict';
import path from 'node:path';
import { diagnose } from '../../src/diagnosis/diagnose';
import { statedHyperparameters } from '../../src/logs/hyperparameters';
import { openRuns } from '../../src/logs/open';
import { runKey, runStatus } from '../../src/report/payload';
import { findingDescription, findingLabel, findingsMessage, groupDescription, groupRuns, inSweepScope, runDescription, runTooltipRows, shownLabel, sweepRow, sweepTitle } from '../../src/extension/runs/present';
import type { RunSummary } from '../../src/worker/logs-protocol';

const REAL = path.join(__dirname, '../fixtures/real');

/** The summary the logs worker sends for a real fixture log. */
async function summaryOf(file: string, overrides: Partial<RunSummary> = {}): Promise<RunSummary> {
  const [run] = await openRuns(path.join(REAL, file));
  const diagnosis = diagnose(run);
  return {
    key: runKey(run),
    label: path.basename(file),
    title: file,
    group: path.dirname(file),
    path: run.path,
    format: run.format,
    status: runStatus(diagnosis),
    live: false,
    steps: diagnosis.steps,
    diagnosis,
    origin: 'workspace',
    warnings: [],
    hyperparameters: statedHyperparameters(run),
    ...overrides,
  };
}

describe('Runs and Findings views: what they show', () => {
  let exploding: RunSummary;
  let nonfinite: RunSummary;
  let healthy: RunSummary;
  before(async () => {
    exploding = await summaryOf('torch_lstm_sgd_noclip/grads.jsonl');
    nonfinite = await summaryOf('torch_rnn_radius1.6_noclip/grads.jsonl');
    healthy = await summaryOf('torch_rnn_orthogonal_clip1/grads.jsonl');
  });

  it('groups experiments first, then workspace folders in natural order, then opened runs, each sorted by name', () => {
    const run = (label: string, group: string, origin: RunSummary['origin']): RunSummary => ({ ...healthy, key: `${group}/${label}`, label, group, origin });
    const groups = groupRuns([
      run('b.jsonl', 'Opened', 'opened'),
      run('grads.jsonl', 'runs/run10', 'workspace'),
      run('tb', 'runs/run2', 'workspace'),
      run('grads.jsonl', 'runs/run2', 'workspace'),
      run('rnn-clipped.jsonl', 'Experiments', 'experiment'),
      run('a.jsonl', 'Opened', 'workspace'),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.name, g.runs.map((r) => r.label)]),
      [
        ['Experiments', ['rnn-clipped.jsonl']],
        ['Opened', ['a.jsonl']],
        ['runs/run2', ['grads.jsonl', 'tb']],
        ['runs/run10', ['grads.jsonl']],
        ['Opened', ['b.jsonl']],
      ],
    );
    assert.notEqual(groups[1].id, groups[4].id, 'a workspace folder named Opened is not the Opened group');
    assert.equal(groupDescription({ ...groups[2], runs: [groups[2].runs[0], { ...groups[2].runs[1], live: true }] }), '2 runs · 1 live');
  });

  it('shows a sweep (a folder of ten or more run folders) as one group, its runs named by their folders, its troubles counted', () => {
    const run = (group: string, label: string, status: RunSummary['status'] = 'healthy'): RunSummary => ({ ...healthy, key: `${group}/${label}`, label, group, origin: 'workspace', status });
    const sweep = Array.from({ length: 12 }, (_, i) => run(`runs/sweep/lr-${i}`, i % 4 === 2 ? 'tb' : 'grads.jsonl', i % 5 === 0 ? 'exploding' : i === 7 ? 'nonfinite' : 'healthy'));
    const few = Array.from({ length: 3 }, (_, i) => run(`runs/ablation/seed-${i}`, 'metrics.csv'));
    const groups = groupRuns([...sweep, ...few, run('runs/sweep', 'notes.log'), run('runs/sweep/lr-3', 'eval.jsonl')]);
    assert.deepEqual(
      groups.map((g) => [g.name, g.runs.map((r) => shownLabel(g, r))]),
      [
        ['runs/ablation/seed-0', ['metrics.csv']],
        ['runs/ablation/seed-1', ['metrics.csv']],
        ['runs/ablation/seed-2', ['metrics.csv']],
        ['runs/sweep', ['lr-0/grads.jsonl', 'lr-1/grads.jsonl', 'lr-2/tb', 'lr-4/grads.jsonl', 'lr-5/grads.jsonl', 'lr-6/tb', 'lr-7/grads.jsonl', 'lr-8/grads.jsonl', 'lr-9/grads.jsonl', 'lr-10/tb', 'lr-11/grads.jsonl', 'notes.log']],
        ['runs/sweep/lr-3', ['eval.jsonl', 'grads.jsonl']],
      ],
      'three folders are no sweep; a run folder of two runs keeps its group',
    );
    assert.equal(groupDescription(groups[3]), '12 runs · 1 non-finite · 3 exploding');
    assert.equal(groupDescription(groups[0]), '1 run');
  });

  it('lists a folder’s runs and those of the folders under it in a sweep table, each row from its summary', () => {
    const run = (group: string, origin: RunSummary['origin'] = 'workspace'): RunSummary => ({ ...healthy, key: `${origin}:${group}`, group, origin });
    const runs = [run('sweep/lr-1'), run('sweep/lr-10/tb'), run('sweep-old'), run('sweep', 'opened'), run('ws')];
    const under = (scope: Parameters<typeof inSweepScope>[1]) => runs.filter((r) => inSweepScope(r, scope)).map((r) => r.key);
    assert.deepEqual(under({ origin: 'workspace', folder: 'sweep' }), ['workspace:sweep/lr-1', 'workspace:sweep/lr-10/tb'], 'not a folder whose name starts alike, nor another origin');
    assert.deepEqual(under({ origin: 'workspace', folder: '' }), ['workspace:sweep/lr-1', 'workspace:sweep/lr-10/tb', 'workspace:sweep-old', 'workspace:ws']);
    assert.equal(under(undefined).length, runs.length);
    assert.equal(sweepTitle({ origin: 'workspace', folder: 'sweep' }), 'Sweep: sweep');
    assert.equal(sweepTitle(undefined), 'Sweep: all runs');
    const row = sweepRow(exploding);
    assert.deepEqual(
      { ...row, hyperparameters: undefined },
      { key: exploding.key, run: exploding.title, status: 'exploding', live: false, steps: 400, maxNorm: exploding.diagnosis.gradNorm.max, maxNormStep: 4, firstNonFiniteStep: null, finalLoss: exploding.diagnosis.loss.last, hyperparameters: undefined },
    );
    assert.equal(row.hyperparameters, exploding.hyperparameters);
  });

  it('describes a run by its status, step count and live marker', () => {
    assert.equal(runDescription(exploding), 'exploding · 400 steps');
    assert.equal(runDescription({ ...nonfinite, live: true }), 'non-finite · 300 steps · ● live');
    assert.equal(runDescription({ ...healthy, steps: 1 }), 'healthy · 1 step');
    assert.equal(runDescription({ ...healthy, status: 'empty', steps: 0, live: true }), 'no steps yet · ● live');
  });

  it('does not call a run without gradient norms healthy', async () => {
    const lossOnly = await summaryOf('../public/llamafactory/trainer_log.jsonl');
    assert.equal(lossOnly.status, 'no-gradients');
    assert.equal(runDescription(lossOnly), 'no gradient norms · 120 steps');
  });

  it('puts the numbers a user checks first in the tooltip', () => {
    const rows = new Map(runTooltipRows({ ...exploding, warnings: ['grads.jsonl:17: not a JSON object: "<b>x</b>"'] }));
    assert.equal(rows.get('Path'), path.join(REAL, 'torch_lstm_sgd_noclip/grads.jsonl'));
    assert.equal(rows.get('Format'), 'JSON lines');
    assert.equal(rows.get('Steps'), '400 steps (0–399)');
    assert.equal(rows.get('Max gradient norm'), '2.57e10 at step 4');
    assert.equal(rows.get('First non-finite'), '—');
    assert.equal(rows.get('Recommended clip threshold'), '3.38');
    assert.equal(rows.get('Findings'), '3 errors, 1 note');
    assert.equal(rows.get('Read warnings'), '1, first: grads.jsonl:17: not a JSON object: "<b>x</b>"', 'log text is kept as it is, to be shown as text');
    assert.equal(new Map(runTooltipRows(nonfinite)).get('First non-finite'), 'step 1');
    assert.equal(new Map(runTooltipRows(healthy)).has('Read warnings'), false);
  });

  it('labels a finding by kind and steps, describes it by its parameters', () => {
    const [explosion] = exploding.diagnosis.findings;
    assert.equal(findingLabel(explosion), 'explosion, steps 3–4');
    assert.equal(findingDescription(explosion), 'lstm.weight_hh_l1, lstm.weight_ih_l1 +2');
    const first = nonfinite.diagnosis.findings.find((f) => f.kind === 'nonfinite');
    assert.ok(first);
    assert.equal(findingLabel(first), 'non-finite values, steps 1–299');
    assert.equal(findingDescription({ ...explosion, layers: ['head.weight'] }), 'head.weight');
  });

  it('tells what the Findings view is waiting for, or that a run has none', () => {
    assert.equal(findingsMessage(undefined), 'Select a run in Runs.');
    assert.equal(findingsMessage({ ...healthy, diagnosis: { ...healthy.diagnosis, findings: [] } }), 'No findings for grads.jsonl: the gradients look healthy.');
    const noNorms = { ...healthy.diagnosis, findings: [], gradNormSource: 'none' as const };
    assert.match(findingsMessage({ ...healthy, diagnosis: noNorms }) ?? '', /^No findings for grads\.jsonl, but this log has no gradient norms: the loss was checked .*could not be/);
    assert.equal(findingsMessage(exploding), undefined);
  });
});
