import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HintId } from '../../src/diagnosis/types';
import { applyEdits, type PythonAnalyzer } from '../../src/python';
import { loadAnalyzer } from '../python-rules/helpers';

/** Where a dashboard hint's "Show fix" opens the training script: the line a person would edit, and the rule's quick fix when one does the change. */
const script = (name: string): string => readFileSync(path.join(__dirname, 'scripts', name), 'utf8');

describe('hint locations in training scripts', () => {
  let analyzer: PythonAnalyzer;
  before(async () => {
    analyzer = await loadAnalyzer();
  });

  /** The hint's location as a person sees it: the line's text, what is selected, whether it is the hint's own landmark, and the fix offered. */
  function opened(text: string, hint: HintId): { line: string; found: string; exact: boolean; fix?: string } {
    const location = analyzer.hintLocation(text, hint);
    assert.ok(location, `${hint}: no location`);
    const { start, end } = location.range;
    const line = text.split(/\r?\n/)[start.line];
    assert.ok(start.line === end.line && start.character < end.character && end.character <= line.length, `${hint}: ${JSON.stringify(location.range)} outside "${line}"`);
    return { line: line.trim(), found: line.slice(start.character, end.character), exact: location.exact, ...(location.fix ? { fix: location.fix.title } : {}) };
  }

  const lstm = script('char_lstm.py');
  const amp = script('amp_classifier.py');
  const rnn = script('rnn_accumulate.py');

  it('opens clipping hints at the clip call, or where a rule adds the clip, with its quick fix', () => {
    for (const hint of ['lower-clip-threshold', 'raise-clip-threshold', 'prefer-norm-clipping', 'unscale-before-clipping'] as const) {
      assert.equal(opened(lstm, hint).found, 'torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)', hint);
      assert.equal(opened(amp, hint).found, 'nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)', hint);
    }
    // No clipping in the script: GL001 fires at the optimizer step and its fix inserts the clip.
    const add = opened(rnn, 'add-norm-clipping');
    assert.equal(add.found, 'opt.step()');
    assert.match(add.fix ?? '', /clip/i);
    const location = analyzer.hintLocation(rnn, 'add-norm-clipping');
    assert.match(applyEdits(rnn, location?.fix?.edits ?? []), /clip_grad_norm_\(net\.parameters\(\), max_norm=1\.0\)\n {12}opt\.step\(\)/);
  });

  it('opens recurrent-weight hints at the recurrent layer, with the initialisation fix where GL004 fires', () => {
    const init = opened(lstm, 'orthogonal-init');
    assert.equal(init.line, 'self.lstm = nn.LSTM(16, hidden, num_layers=layers, batch_first=True)');
    assert.ok(init.fix, 'GL004 offers its fix');
    assert.deepEqual(opened(lstm, 'spectral-norm'), { line: init.line, found: 'nn.LSTM(16, hidden, num_layers=layers, batch_first=True)', exact: true });
    assert.equal(opened(rnn, 'gated-cells').found, 'torch.nn.RNN(3, 24, batch_first=True)');
  });

  it('falls back to the backward call when the script has no recurrent layer', () => {
    assert.deepEqual(opened(amp, 'spectral-norm'), { line: 'scaler.scale(loss).backward()', found: 'scaler.scale(loss).backward()', exact: false });
  });

  it('opens truncated BPTT at the hidden state the loop carries, with the detach fix where GL005 fires', () => {
    assert.equal(opened(lstm, 'truncated-bptt').line, 'logits, hidden = model(x, hidden)');
    const undetached = lstm.replace(/^ *hidden = tuple\(h\.detach\(\) for h in hidden\)\n/m, '');
    assert.notEqual(undetached, lstm);
    assert.match(opened(undetached, 'truncated-bptt').fix ?? '', /Detach `hidden`/);
  });

  it('opens learning-rate hints at the optimizer construction, also inside a helper function', () => {
    assert.equal(opened(lstm, 'lower-lr').line, 'optimizer = torch.optim.SGD(');
    assert.equal(opened(amp, 'lr-warmup').found, 'torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)');
    assert.equal(opened(rnn, 'lower-lr').line, 'return torch.optim.Adam(net.parameters(), lr=1e-2)');
  });

  it('opens the other hints at their landmarks', () => {
    assert.equal(opened(amp, 'loss-scaler').line, 'scaler = torch.cuda.amp.GradScaler(enabled=use_amp)');
    assert.equal(opened(lstm, 'residual-connections').line, 'class CharLSTM(nn.Module):');
    assert.equal(opened(amp, 'residual-connections').line, 'model = nn.Sequential(');
    assert.equal(opened(lstm, 'check-data').line, 'for i, (x, y) in enumerate(loader):');
    assert.deepEqual(opened(lstm, 'log-gradients'), { line: 'loss.backward()', found: 'loss.backward()', exact: true });
  });

  it('tells training scripts from other Python files', () => {
    for (const name of ['char_lstm.py', 'amp_classifier.py', 'rnn_accumulate.py', 'mlp_epochs.py']) assert.ok(analyzer.hasTrainingStep(script(name)), name);
    const notTraining = [
      '"""Call loss.backward() then optimizer.step() in your loop."""',
      'def evaluate(model, loader):',
      '    # no loss.backward() here, and no optimizer.step() either',
      '    return sum(model(x).sum() for x in loader)',
      "HELP = 'x.backward(); opt.step()'",
    ].join('\n');
    assert.ok(!analyzer.hasTrainingStep(notTraining));
    assert.equal(analyzer.hintLocation(notTraining, 'lower-clip-threshold'), undefined);
    // A scheduler's step is not the optimizer's.
    assert.ok(!analyzer.hasTrainingStep('loss.backward()\nscheduler.step()\n'));
  });
});
