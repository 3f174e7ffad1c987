import { strict as assert } from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { applyEdits, type PythonAnalyzer, type PythonFinding } from '../../src/python';
import { corpusDir, loadAnalyzer, readCorpus } from './helpers';

const corpus = fs.readdirSync(corpusDir).sort().map(readCorpus);

/** Every range must point inside the text it was computed for, or an editor would reject the diagnostic or the edit. */
function assertRangesInside(text: string, findings: PythonFinding[]): void {
  const lines = text.split('\n');
  const inside = ({ line, character }: { line: number; character: number }) => line >= 0 && line < lines.length && character >= 0 && character <= lines[line].length;
  for (const finding of findings) {
    assert.ok(inside(finding.range.start) && inside(finding.range.end), `${finding.code} range inside the text`);
    for (const edit of finding.fixes.flatMap((fix) => fix.edits)) assert.ok(inside(edit.range.start) && inside(edit.range.end), `${finding.code} edit inside the text`);
  }
}

describe('Python analysis robustness', () => {
  let analyzer: PythonAnalyzer;
  before(async () => { analyzer = await loadAnalyzer(); });

  it('never throws on arbitrary strings, and keeps its ranges inside them', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
      assertRangesInside(text, analyzer.analyze(text));
    }), { numRuns: 300 });
  });

  it('never throws on truncated and spliced corpus scripts (half-typed code)', () => {
    const script = fc.integer({ min: 0, max: corpus.length - 1 }).map((index) => corpus[index]);
    fc.assert(fc.property(script, fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), (text, cut, at, inserted) => {
      const truncated = text.slice(0, cut % (text.length + 1));
      assertRangesInside(truncated, analyzer.analyze(truncated));
      const position = at % (text.length + 1);
      const spliced = text.slice(0, position) + inserted + text.slice(position);
      const findings = analyzer.analyze(spliced, { maxNorm: 0.5 });
      assertRangesInside(spliced, findings);
      for (const fix of findings.flatMap((finding) => finding.fixes)) applyEdits(spliced, fix.edits);
    }), { numRuns: 300 });
  });

  it('handles binary content and NUL bytes', () => {
    const binary = String.fromCharCode(...Array.from({ length: 4096 }, (_, index) => (index * 7919) % 65536));
    assertRangesInside(binary, analyzer.analyze(binary));
    assert.deepEqual(analyzer.analyze('\u0000\u0000loss.backward()\u0000'), []);
  });

  it('analyses a 5,000-line script (time reported, not asserted)', () => {
    const plain = readCorpus('plain_loop.py');
    const parts: string[] = [];
    for (let copy = 0; parts.join('').split('\n').length < 5000; copy++) parts.push(plain.replace(/def train\(/g, `def train_${copy}(`));
    const script = parts.join('\n').split('\n').slice(0, 5000).join('\n');
    const median = (run: () => void) => {
      const times = Array.from({ length: 5 }, () => { const started = performance.now(); run(); return performance.now() - started; });
      return times.sort((a, b) => a - b)[2];
    };
    const parseOnly = median(() => analyzer.parsesCleanly(script));
    const total = median(() => analyzer.analyze(script));
    const findings = analyzer.analyze(script);
    console.log(`      5,000-line script (median of 5): parse ${parseOnly.toFixed(1)} ms, analyze ${total.toFixed(1)} ms (rules ≈ ${(total - parseOnly).toFixed(1)} ms), ${findings.length} findings`);
    assert.ok(findings.length > 100);
  });
});
