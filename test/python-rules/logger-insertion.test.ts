import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, type PythonAnalyzer } from '../../src/python';
import { goldenDir, loadAnalyzer, readCorpus } from './helpers';

const updateGolden = process.env.GRADLENS_UPDATE_GOLDEN === '1';

/** Script → a line (1-based, as the editor shows) inside its training loop. */
const LOOPS: Record<string, number> = {
  'plain_loop_ok.py': 25,
  'amp_loop_ok.py': 20,
  'accelerate_loop_ok.py': 19,
  'nanogpt_loop_ok.py': 37,
  'rnn_lm_ok.py': 53,
};

describe('"Log gradient norms with GradLens" (loggerInsertion)', () => {
  let analyzer: PythonAnalyzer;
  before(async () => { analyzer = await loadAnalyzer(); });

  for (const [script, editorLine] of Object.entries(LOOPS)) {
    it(`${script}: inserts the logger (golden file), valid Python, not offered again`, () => {
      const original = readCorpus(script);
      const edits = analyzer.loggerInsertion(original, editorLine - 1);
      assert.ok(edits.length > 0);
      const withLogger = applyEdits(original, edits);
      const golden = path.join(goldenDir, script.replace(/\.py$/, '.logger.py'));
      if (updateGolden) fs.writeFileSync(golden, withLogger);
      assert.equal(withLogger, fs.readFileSync(golden, 'utf8'));
      assert.ok(analyzer.parsesCleanly(withLogger));
      assert.deepEqual(analyzer.loggerInsertion(withLogger, editorLine - 1), []);
      assert.deepEqual(analyzer.analyze(withLogger), [], 'the logger lines draw no finding');
    });
  }

  it('offers nothing outside a training loop or in a Lightning module', () => {
    assert.deepEqual(analyzer.loggerInsertion(readCorpus('plain_loop_ok.py'), 0), []);
    assert.deepEqual(analyzer.loggerInsertion(readCorpus('lightning_module.py'), 16), []);
    assert.deepEqual(analyzer.loggerInsertion('for x in range(3):\n    print(x)\n', 0), []);
  });

  it('logs the loss passed to torch.autograd.backward, and no loss when it is a computed expression', () => {
    const script = (backward: string) => `import torch\nnet = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\nfor x in data:\n    loss = net(x).sum()\n    ${backward}\n    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)\n    opt.step()\n`;
    const logged = (backward: string) => applyEdits(script(backward), analyzer.loggerInsertion(script(backward), 3));
    assert.match(logged('torch.autograd.backward(loss)'), /\n {4}grad_logger\.log\(grad_logger_step, loss\)\n {4}grad_logger_step \+= 1\n {4}torch\.nn\.utils\.clip_grad_norm_/);
    assert.match(logged('(loss * 2).backward()'), /\n {4}grad_logger\.log\(grad_logger_step\)\n/);
    assert.match(logged('loss.backward()'), /^import torch\nfrom gradlens_logger import GradLensLogger\n/);
  });

  it('keeps CRLF line endings', () => {
    const crlf = readCorpus('plain_loop_ok.py').replace(/\n/g, '\r\n');
    assert.equal(applyEdits(crlf, analyzer.loggerInsertion(crlf, 24)), fs.readFileSync(path.join(goldenDir, 'plain_loop_ok.logger.py'), 'utf8').replace(/\n/g, '\r\n'));
  });
});
