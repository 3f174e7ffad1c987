import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, type PythonAnalyzer, type PythonFinding } from '../../src/python';
import { goldenDir, loadAnalyzer, readCorpus } from './helpers';

function only(findings: PythonFinding[], code: string): PythonFinding {
  const matching = findings.filter((finding) => finding.code === code);
  assert.equal(matching.length, 1, `exactly one ${code} in ${JSON.stringify(findings.map((f) => f.code))}`);
  return matching[0];
}

function fixed(analyzer: PythonAnalyzer, text: string, code: string, options = {}): string {
  return applyEdits(text, only(analyzer.analyze(text, options), code).fixes[0].edits);
}

const loop = (body: string) => `import torch\nfrom torch import nn\n\nmodel = nn.Linear(4, 1)\n${body}`;

describe('Python rules: layout, forms and edge cases', () => {
  let analyzer: PythonAnalyzer;
  before(async () => { analyzer = await loadAnalyzer(); });

  describe('layout of fixes', () => {
    it('keeps CRLF line endings in a CRLF file', () => {
      const crlf = readCorpus('plain_loop.py').replace(/\n/g, '\r\n');
      const golden = fs.readFileSync(path.join(goldenDir, 'plain_loop.GL001.L30.fix1.py'), 'utf8').replace(/\n/g, '\r\n');
      assert.equal(fixed(analyzer, crlf, 'GL001'), golden);
      assert.equal(fixed(analyzer, readCorpus('lightning_module.py').replace(/\n/g, '\r\n'), 'GL006'),
        fs.readFileSync(path.join(goldenDir, 'lightning_module.GL006.L27.fix1.py'), 'utf8').replace(/\n/g, '\r\n'));
    });

    it('indents with tabs in a tab-indented file', () => {
      const toTabs = (text: string) => text.replace(/^( {4})+/gm, (spaces) => '\t'.repeat(spaces.length / 4));
      assert.equal(fixed(analyzer, toTabs(readCorpus('plain_loop.py')), 'GL001'), toTabs(fs.readFileSync(path.join(goldenDir, 'plain_loop.GL001.L30.fix1.py'), 'utf8')));
      assert.equal(fixed(analyzer, toTabs(readCorpus('nanogpt_loop.py')), 'GL002'), toTabs(readCorpus('nanogpt_loop_ok.py')));
    });

    it('writes the threshold it is given', () => {
      assert.match(fixed(analyzer, readCorpus('plain_loop.py'), 'GL001', { maxNorm: 0.3712 }), /clip_grad_norm_\(model\.parameters\(\), max_norm=0\.3712\)/);
      assert.match(fixed(analyzer, readCorpus('plain_loop.py'), 'GL001', { maxNorm: 5 }), /max_norm=5\.0\)/);
      assert.match(fixed(analyzer, readCorpus('plain_loop.py'), 'GL001', { maxNorm: Number.NaN }), /max_norm=1\.0\)/);
      assert.match(fixed(analyzer, readCorpus('hf_trainer.py'), 'GL006', { maxNorm: 2.5 }), /max_grad_norm=2\.5,/);
    });

    it('measures ranges in UTF-16 code units and offers no insertion when the step shares its line', () => {
      const text = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor x in range(3):\n    loss = model(x).sum()\n    loss.backward()\n    note = "😀é"; opt.step()\n');
      const finding = only(analyzer.analyze(text), 'GL001');
      const line = text.split('\n')[finding.range.start.line];
      assert.equal(line.slice(finding.range.start.character, finding.range.end.character), 'opt.step()');
      assert.deepEqual(finding.fixes, []);
    });
  });

  it('treats ERROR and MISSING nodes as invalid Python', () => {
    assert.ok(!analyzer.parsesCleanly('def f(:\n    pass\n'));
    assert.ok(!analyzer.parsesCleanly('x = (1\n'));
    assert.ok(analyzer.parsesCleanly('x = (1)\n'));
  });

  it('applies edits inserting at the same place in their array order, as an editor does', () => {
    const at = { line: 0, character: 0 };
    assert.equal(applyEdits('x\n', [{ range: { start: at, end: at }, newText: 'a\n' }, { range: { start: at, end: at }, newText: 'b\n' }]), 'a\nb\nx\n');
  });

  describe('GL001 forms', () => {
    it('clips through fabric with fabric.clip_gradients', () => {
      const text = loop('fabric = L.Fabric()\noptimizer = torch.optim.Adam(model.parameters())\nfor batch in data:\n    loss = model(batch).sum()\n    fabric.backward(loss)\n    optimizer.step()\n');
      assert.match(fixed(analyzer, text, 'GL001'), /\n {4}fabric\.clip_gradients\(model, optimizer, max_norm=1\.0\)\n {4}optimizer\.step\(\)/);
    });

    it('uses the expression behind a generator variable, and the model behind param groups', () => {
      const generator = loop('params = model.parameters()\nopt = torch.optim.SGD(params, lr=0.1)\nfor x in data:\n    model(x).sum().backward()\n    opt.step()\n');
      assert.match(fixed(analyzer, generator, 'GL001'), /clip_grad_norm_\(model\.parameters\(\), max_norm=1\.0\)\n {4}opt\.step/);
      const groups = loop('groups = [{"params": [p for n, p in model.named_parameters() if p.dim() >= 2], "weight_decay": 0.1}]\nopt = torch.optim.AdamW(groups)\nfor x in data:\n    model(x).sum().backward()\n    opt.step()\n');
      assert.match(fixed(analyzer, groups, 'GL001'), /clip_grad_norm_\(model\.parameters\(\), max_norm=1\.0\)/);
      const listed = loop('trainable = [p for p in model.parameters() if p.requires_grad]\nopt = torch.optim.AdamW(trainable)\nfor x in data:\n    model(x).sum().backward()\n    opt.step()\n');
      assert.match(fixed(analyzer, listed, 'GL001'), /clip_grad_norm_\(trainable, max_norm=1\.0\)/);
    });

    it('falls back to the optimizer\'s own param groups when nothing names the parameters', () => {
      const text = 'import torch\n\ndef fit(net, optimizer, data):\n    for x in data:\n        net(x).sum().backward()\n        optimizer.step()\n';
      const result = fixed(analyzer, text, 'GL001');
      assert.match(result, /clip_grad_norm_\(\[p for group in optimizer\.param_groups for p in group\["params"\]\], max_norm=1\.0\)/);
      assert.ok(analyzer.parsesCleanly(result));
    });

    it('adds `import torch` when the file has no torch name in scope', () => {
      const text = 'from mylib import make_model, make_optimizer\n\nmodel = make_model()\noptimizer = make_optimizer(model)\nfor x in range(10):\n    model(x).backward()\n    optimizer.step()\n';
      const result = fixed(analyzer, text, 'GL001');
      assert.ok(result.startsWith('import torch\nfrom mylib'));
      assert.match(result, /\n {4}torch\.nn\.utils\.clip_grad_norm_\(\[p for group in optimizer\.param_groups for p in group\["params"\]\], max_norm=1\.0\)\n {4}optimizer\.step\(\)/);
    });

    it('clips inside the accumulation branch, only when the step happens', () => {
      const text = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor i, x in enumerate(data):\n    (model(x).sum() / 4).backward()\n    if (i + 1) % 4 == 0:\n        opt.step()\n        opt.zero_grad()\n');
      assert.match(fixed(analyzer, text, 'GL001'), /if \(i \+ 1\) % 4 == 0:\n {8}torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), max_norm=1\.0\)\n {8}opt\.step\(\)/);
    });

    it('unscales only once under AMP when unscale_ is already there', () => {
      const text = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\nscaler = torch.cuda.amp.GradScaler()\nfor x in data:\n    scaler.scale(model(x).sum()).backward()\n    scaler.unscale_(opt)\n    scaler.step(opt)\n    scaler.update()\n');
      const result = fixed(analyzer, text, 'GL001');
      assert.equal(result.split('unscale_').length - 1, 1);
      assert.match(result, /scaler\.unscale_\(opt\)\n {4}torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), max_norm=1\.0\)\n {4}scaler\.step\(opt\)/);
    });

    it('stays silent on steps that already clip, by norm or by value, and on a scheduler step', () => {
      const clipped = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\nsched = torch.optim.lr_scheduler.StepLR(opt, 10)\nfor x in data:\n    model(x).sum().backward()\n    nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n    opt.step()\n    sched.step()\n');
      assert.deepEqual(analyzer.analyze(clipped), []);
      const byValue = analyzer.analyze(clipped.replace('clip_grad_norm_(model.parameters(), 1.0)', 'clip_grad_value_(model.parameters(), 1.0)'));
      assert.deepEqual(byValue.map((finding) => finding.code), ['GL003']);
    });

    it('does not pair a backward and a step from different functions', () => {
      const text = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\n\ndef compute(x):\n    model(x).sum().backward()\n\ndef update():\n    opt.step()\n');
      assert.deepEqual(analyzer.analyze(text), []);
    });
  });

  describe('GL002 and GL003 details', () => {
    it('moves a clip that follows the step, adding unscale_ under AMP', () => {
      const text = loop('opt = torch.optim.SGD(model.parameters(), lr=0.1)\nscaler = torch.cuda.amp.GradScaler()\nfor x in data:\n    scaler.scale(model(x).sum()).backward()\n    scaler.step(opt)\n    scaler.update()\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n');
      const finding = only(analyzer.analyze(text), 'GL002');
      assert.equal(finding.severity, 'error');
      const result = applyEdits(text, finding.fixes[0].edits);
      assert.match(result, /\.backward\(\)\n {4}scaler\.unscale_\(opt\)\n {4}torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), 1\.0\)\n {4}scaler\.step\(opt\)\n {4}scaler\.update\(\)\n$/);
      assert.deepEqual(analyzer.analyze(result), []);
    });

    it('rewrites an imported-by-name clip_grad_value_ through torch', () => {
      const text = 'import torch\nfrom torch.nn.utils import clip_grad_value_\n\nclip_grad_value_(parameters=net.parameters(), clip_value=0.1)\n';
      assert.equal(fixed(analyzer, text, 'GL003'), 'import torch\nfrom torch.nn.utils import clip_grad_value_\n\ntorch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)\n');
    });
  });

  describe('GL006 details', () => {
    it('adds the keyword to single-line and empty Trainer calls, and replaces a disabled value', () => {
      const lightning = 'import pytorch_lightning as pl\n';
      assert.equal(fixed(analyzer, `${lightning}trainer = pl.Trainer()\n`, 'GL006'), `${lightning}trainer = pl.Trainer(gradient_clip_val=1.0)\n`);
      assert.equal(fixed(analyzer, `${lightning}trainer = pl.Trainer(max_epochs=3)\n`, 'GL006'), `${lightning}trainer = pl.Trainer(max_epochs=3, gradient_clip_val=1.0)\n`);
      assert.equal(fixed(analyzer, `${lightning}trainer = pl.Trainer(max_epochs=3, gradient_clip_val=None)\n`, 'GL006'), `${lightning}trainer = pl.Trainer(max_epochs=3, gradient_clip_val=1.0)\n`);
      const multilineWithComma = 'from lightning.pytorch import Trainer\ntrainer = Trainer(\n\tmax_epochs=3,\n)\n';
      assert.equal(fixed(analyzer, multilineWithComma, 'GL006'), 'from lightning.pytorch import Trainer\ntrainer = Trainer(\n\tmax_epochs=3,\n\tgradient_clip_val=1.0,\n)\n');
    });

    it('stays silent on a Hugging Face Trainer, default max_grad_norm, **kwargs and an unrelated Trainer', () => {
      assert.deepEqual(analyzer.analyze('from transformers import Trainer, TrainingArguments\nargs = TrainingArguments(output_dir="o")\nTrainer(model=m, args=args)\n'), []);
      assert.deepEqual(analyzer.analyze('import lightning as L\nL.Trainer(**config)\n'), []);
      assert.deepEqual(analyzer.analyze('from mylib import Trainer\nTrainer(epochs=3)\n'), []);
      assert.equal(only(analyzer.analyze('import transformers\ntransformers.TrainingArguments(output_dir="o", max_grad_norm=None)\n'), 'GL006').severity, 'warning');
    });
  });

  describe('GL004, GL005 and GL007 details', () => {
    it('initialises a module-level GRU right after it is built, with the file\'s tab indentation', () => {
      const text = 'import torch\n\nrnn = torch.nn.GRU(8, 16)\nif True:\n\tpass\n';
      const result = fixed(analyzer, text, 'GL004');
      assert.match(result, /^import torch\n\n\ndef init_recurrent_weights\(model\):\n\t"""/);
      assert.match(result, /\n\t\t\t\tif name\.startswith\("weight_ih"\):\n\t\t\t\t\ttorch\.nn\.init\.xavier_uniform_\(parameter\)\n/);
      assert.match(result, /\nrnn = torch\.nn\.GRU\(8, 16\)\ninit_recurrent_weights\(rnn\)\nif True:/);
      assert.ok(analyzer.parsesCleanly(result));
      assert.deepEqual(analyzer.analyze(result).filter((finding) => finding.code === 'GL004'), []);
    });

    it('stays silent when recurrent weights are already initialised orthogonally', () => {
      assert.deepEqual(analyzer.analyze('import torch\nrnn = torch.nn.LSTM(4, 4)\nfor w in rnn.all_weights[0][1:2]:\n    torch.nn.init.orthogonal_(w)\n'), []);
    });

    it('detaches a GRU state as a tensor, and leaves repackaged, detach_-ed, per-batch and evaluation states alone', () => {
      const body = (line: string, extra = '') => `import torch\nrnn = torch.nn.GRU(4, 4)\nnn.init.orthogonal_(rnn.weight_hh_l0)\nopt = torch.optim.Adam(rnn.parameters())\nh = torch.zeros(1, 2, 4)\nfor x in data:\n${extra}    out, h = rnn(x, h)\n    out.sum().backward()\n    torch.nn.utils.clip_grad_norm_(rnn.parameters(), 1.0)\n    opt.step()\n${line}`;
      const finding = only(analyzer.analyze(body('')), 'GL005');
      assert.equal(applyEdits(body(''), finding.fixes[0].edits), body('', '    h = h.detach()\n'));
      assert.deepEqual(analyzer.analyze(body('', '    h = repackage_hidden(h)\n')), []);
      assert.deepEqual(analyzer.analyze(body('    h.detach_()\n')), []);
      assert.deepEqual(analyzer.analyze(body('', '    h = torch.zeros(1, 2, 4)\n')), []);
      const evaluation = 'import torch\nrnn = torch.nn.GRU(4, 4)\nnn.init.orthogonal_(rnn.weight_hh_l0)\nh = None\nwith torch.no_grad():\n    for x in data:\n        out, h = rnn(x, h)\n';
      assert.deepEqual(analyzer.analyze(evaluation), []);
    });

    it('hints at SGD with lr >= 1 only on a recurrent model without norm clipping', () => {
      const script = (rate: string, clip = '') => `import torch\nrnn = torch.nn.RNN(4, 4)\ntorch.nn.init.orthogonal_(rnn.weight_hh_l0)\nopt = torch.optim.SGD(rnn.parameters(), ${rate})\n${clip}`;
      assert.deepEqual(analyzer.analyze(script('lr=1.0')).map((finding) => [finding.code, finding.severity, finding.fixes.length]), [['GL007', 'hint', 0]]);
      assert.equal(only(analyzer.analyze(script('20')), 'GL007').range.start.character, script('20').split('\n')[3].indexOf('20)'));
      assert.deepEqual(analyzer.analyze(script('lr=0.5')), []);
      assert.deepEqual(analyzer.analyze(script('lr=20', 'torch.nn.utils.clip_grad_norm_(rnn.parameters(), 0.25)\n')), []);
      assert.deepEqual(analyzer.analyze('import torch\nnet = torch.nn.Linear(4, 4)\nopt = torch.optim.SGD(net.parameters(), lr=5)\n'), []);
    });
  });
});
