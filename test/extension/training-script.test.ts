import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HintId } from '../../src/diagnosis/types';
import { hasTrainingStep, hintLocation, HINT_SITES, isHintId } from '../../src/extension/training-script';

/** Where a dashboard hint opens the training script: the line a person would edit for that fix. */
const script = (name: string): string => readFileSync(path.join(__dirname, 'scripts', name), 'utf8');

/** The hint's location as a person sees it: the line's text, what was found there, and whether it is the hint's own landmark. */
function opened(text: string, hint: HintId): { line: string; found: string; exact: boolean } {
  const location = hintLocation(text, hint);
  assert.ok(location, `${hint}: no location`);
  const line = text.split(/\r?\n/)[location.line];
  assert.ok(location.startColumn < location.endColumn && location.endColumn <= line.length, `${hint}: columns ${location.startColumn}-${location.endColumn} outside "${line}"`);
  return { line: line.trim(), found: line.slice(location.startColumn, location.endColumn), exact: location.exact };
}

describe('hint locations in training scripts', () => {
  const lstm = script('char_lstm.py');
  const amp = script('amp_classifier.py');
  const rnn = script('rnn_accumulate.py');

  it('opens clipping hints at the clip call, or at the optimizer step when there is none', () => {
    for (const hint of ['add-norm-clipping', 'lower-clip-threshold', 'raise-clip-threshold', 'prefer-norm-clipping', 'unscale-before-clipping'] as const) {
      assert.equal(opened(lstm, hint).line, 'torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)', hint);
      assert.equal(opened(amp, hint).line, 'nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)', hint);
      assert.deepEqual(opened(rnn, hint), { line: 'opt.step()', found: 'opt.step(', exact: true }, hint);
    }
  });

  it('opens recurrent-weight hints at the recurrent layer', () => {
    for (const hint of ['orthogonal-init', 'spectral-norm', 'gated-cells'] as const) {
      assert.deepEqual(opened(lstm, hint), { line: 'self.lstm = nn.LSTM(16, hidden, num_layers=layers, batch_first=True)', found: 'nn.LSTM(', exact: true });
      assert.equal(opened(rnn, hint).found, 'nn.RNN(');
    }
  });

  it('falls back to the backward call when the script has no recurrent layer', () => {
    assert.deepEqual(opened(amp, 'orthogonal-init'), { line: 'scaler.scale(loss).backward()', found: '.backward(', exact: false });
  });

  it('opens truncated BPTT at the hidden state the loop carries from batch to batch', () => {
    assert.equal(opened(lstm, 'truncated-bptt').line, 'logits, hidden = model(x, hidden)');
  });

  it('opens learning-rate hints at the optimizer construction, also inside a helper function', () => {
    assert.equal(opened(lstm, 'lower-lr').line, 'optimizer = torch.optim.SGD(');
    assert.equal(opened(amp, 'lr-warmup').found, 'optim.AdamW(');
    assert.equal(opened(rnn, 'lower-lr').line, 'return torch.optim.Adam(net.parameters(), lr=1e-2)');
  });

  it('opens the other hints at their landmarks', () => {
    assert.equal(opened(amp, 'loss-scaler').line, 'scaler = torch.cuda.amp.GradScaler(enabled=use_amp)');
    assert.equal(opened(lstm, 'residual-connections').line, 'class CharLSTM(nn.Module):');
    assert.equal(opened(amp, 'residual-connections').line, 'model = nn.Sequential(');
    assert.equal(opened(lstm, 'check-data').line, 'for i, (x, y) in enumerate(loader):');
    assert.deepEqual(opened(lstm, 'log-gradients'), { line: 'loss.backward()', found: '.backward(', exact: true });
  });

  it('knows every hint id of the diagnosis', () => {
    assert.ok(isHintId('truncated-bptt'));
    assert.ok(!isHintId('<img src=x onerror=alert(1)>'));
    assert.equal(Object.keys(HINT_SITES).length, 15);
  });

  it('tells training scripts from other Python files', () => {
    for (const name of ['char_lstm.py', 'amp_classifier.py', 'rnn_accumulate.py', 'mlp_epochs.py']) assert.ok(hasTrainingStep(script(name)), name);
    const notTraining = [
      '"""Call loss.backward() then optimizer.step() in your loop."""',
      'def evaluate(model, loader):',
      '    # no loss.backward() here, and no optimizer.step() either',
      '    return sum(model(x).sum() for x in loader)',
      "HELP = 'x.backward(); opt.step()'",
    ].join('\n');
    assert.ok(!hasTrainingStep(notTraining));
    assert.equal(hintLocation(notTraining, 'add-norm-clipping'), undefined);
    // A scheduler's step is not the optimizer's.
    assert.ok(!hasTrainingStep('loss.backward()\nscheduler.step()\n'));
  });
});
