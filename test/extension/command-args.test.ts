import assert from 'node:assert/strict';
import { runsArgument, scriptArgument, sweepScopeArgument } from '../../src/extension/command-args';
import { reportBase } from '../../src/report/files';

/** The same command from the palette, a tree, a finding and the dashboard. */
describe('command arguments', () => {
  it('reads a run from the Runs tree, a finding from the Findings tree, keys from the dashboard', () => {
    const entry = { key: '/logs/a.jsonl', label: 'a.jsonl', group: 'logs', path: '/logs/a.jsonl', status: 'warning', steps: 10 };
    assert.deepEqual(runsArgument(entry), { keys: ['/logs/a.jsonl'] });
    assert.deepEqual(runsArgument({ key: '/logs/a.jsonl', step: 17, param: 'rnn.weight_hh_l0' }), {
      keys: ['/logs/a.jsonl'],
      focus: { key: '/logs/a.jsonl', step: 17, param: 'rnn.weight_hh_l0' },
    });
    assert.deepEqual(runsArgument(['/logs/a.jsonl', '/logs/b.jsonl#rank 1', '/logs/a.jsonl']), { keys: ['/logs/a.jsonl', '/logs/b.jsonl#rank 1'] });
    assert.deepEqual(runsArgument([entry, { ...entry, key: '/logs/c.csv' }]), { keys: ['/logs/a.jsonl', '/logs/c.csv'] });
  });

  it('names no run for the palette\'s nothing, a file URI or a malformed focus', () => {
    assert.equal(runsArgument(undefined), undefined);
    assert.equal(runsArgument({ scheme: 'file', path: '/logs/a.jsonl' }), undefined);
    assert.equal(runsArgument({ key: '/logs/a.jsonl', step: 'NaN' }), undefined);
    assert.equal(runsArgument([]), undefined);
    assert.equal(runsArgument(['/logs/a.jsonl', 3]), undefined);
  });

  it('reads a Runs view folder row as the sweep table’s scope, and nothing else', () => {
    assert.deepEqual(sweepScopeArgument({ id: 'workspace:sweep', name: 'sweep', origin: 'workspace', runs: [] }), { origin: 'workspace', folder: 'sweep' });
    assert.equal(sweepScopeArgument(undefined), undefined, 'the palette: every run');
    assert.equal(sweepScopeArgument({ name: 'sweep', origin: 'elsewhere', runs: [] }), undefined);
    assert.equal(sweepScopeArgument({ key: '/logs/a.jsonl', name: 'a', origin: 'workspace' }), undefined, 'a run is not a folder');
  });

  it('names the CSV and Markdown files after the HTML report', () => {
    assert.equal(reportBase('/out/run report.html'), '/out/run report');
    assert.equal(reportBase('/out/REPORT.HTM'), '/out/REPORT');
    assert.equal(reportBase('/out/report'), '/out/report');
  });

  it('takes Run Training Script\'s { script, args } from a keybinding, and nothing else', () => {
    assert.deepEqual(scriptArgument({ script: '/w/train.py', args: '--lr 0.1' }), { script: '/w/train.py', args: '--lr 0.1' });
    assert.deepEqual(scriptArgument({ script: '/w/train.py' }), { script: '/w/train.py' });
    assert.deepEqual(scriptArgument({ script: '/w/train.py', args: ['--lr'] }), { script: '/w/train.py' });
    assert.equal(scriptArgument({ script: '' }), undefined);
    assert.equal(scriptArgument('/w/train.py'), undefined);
    assert.equal(scriptArgument(undefined), undefined);
  });
});
