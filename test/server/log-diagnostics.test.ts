import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeLogFile, hoverAtLine } from '../../src/server/log-diagnostics';

describe('log diagnostics: what a hover keeps of a run', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'gradlens-hover-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists a parameter logged as NaN first, and leaves out one not logged at that step', async () => {
    const file = path.join(dir, 'run.jsonl');
    const lines = Array.from({ length: 40 }, (_, step) => {
      if (step === 20) return `{"step": 20, "loss": 2, "grad_norm": 1.5, "layers": {"encoder.weight": NaN, "decoder.weight": 1.5}}`;
      if (step === 21) return JSON.stringify({ step, loss: 2, grad_norm: 1.2, layers: { 'decoder.weight': 1.2 } });
      return JSON.stringify({ step, loss: 2, grad_norm: 1, layers: { 'encoder.weight': 0.6, 'decoder.weight': 0.8 } });
    });
    writeFileSync(file, lines.join('\n') + '\n');
    const analysis = await analyzeLogFile(file);
    assert.ok(analysis);
    const atNaN = await hoverAtLine(analysis, 20);
    assert.match(atNaN ?? '', /\| `encoder\.weight` \| NaN \| {2}\|\n\| `decoder\.weight` \| 1\.5 \| 100% \|/);
    const missing = await hoverAtLine(analysis, 21);
    assert.match(missing ?? '', /\| `decoder\.weight` \| 1\.2 \| 100% \|/);
    assert.doesNotMatch(missing ?? '', /encoder/);
    const healthy = await hoverAtLine(analysis, 5);
    assert.match(healthy ?? '', /\| `decoder\.weight` \| 0\.8 \| 64% \|\n\| `encoder\.weight` \| 0\.6 \| 36% \|/);
  });

  it('shows a parameter name holding backticks and pipes as one code span in its table cell', async () => {
    const file = path.join(dir, 'odd-names.jsonl');
    const names = ['enc`oder.weight', 'a|b.bias', '`edge'];
    const lines = Array.from({ length: 10 }, (_, step) => JSON.stringify({ step, loss: 2, grad_norm: 1, layers: Object.fromEntries(names.map((name, i) => [name, 0.3 + i / 10])) }));
    writeFileSync(file, lines.join('\n') + '\n');
    const analysis = await analyzeLogFile(file);
    assert.ok(analysis);
    const hover = (await hoverAtLine(analysis, 3)) ?? '';
    const rows = hover.split('\n').filter((line) => line.startsWith('| `'));
    assert.deepEqual(
      rows.map((row) => row.split(' | ')[0]),
      ['| `` `edge ``', '| `a\\|b.bias`', '| ``enc`oder.weight``'],
    );
  });
});
