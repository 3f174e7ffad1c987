import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, type PythonAnalyzer, type PythonFinding, type RuleCode, type Severity } from '../../src/python';
import { goldenDir, loadAnalyzer, readCorpus } from './helpers';

/** `GRADLENS_UPDATE_GOLDEN=1` rewrites the golden files from the current fixes; by default the tests compare against them. */
const updateGolden = process.env.GRADLENS_UPDATE_GOLDEN === '1';

interface ExpectedFinding { code: RuleCode; /** 1-based, as the editor shows it */ editorLine: number; severity: Severity }

/** Each script with a problem, what GradLens must say about it; every `_ok` twin must draw no finding at all. */
const EXPECTATIONS: Record<string, ExpectedFinding[]> = {
  'plain_loop.py': [{ code: 'GL001', editorLine: 30, severity: 'information' }],
  'amp_loop.py': [{ code: 'GL001', editorLine: 26, severity: 'information' }],
  'accelerate_loop.py': [{ code: 'GL001', editorLine: 22, severity: 'information' }],
  'lightning_module.py': [{ code: 'GL006', editorLine: 27, severity: 'information' }],
  'hf_trainer.py': [{ code: 'GL006', editorLine: 20, severity: 'warning' }],
  'nanogpt_loop.py': [{ code: 'GL002', editorLine: 44, severity: 'error' }],
  'rnn_lm.py': [
    { code: 'GL004', editorLine: 12, severity: 'information' },
    { code: 'GL007', editorLine: 32, severity: 'hint' },
    { code: 'GL005', editorLine: 40, severity: 'warning' },
    { code: 'GL001', editorLine: 43, severity: 'warning' },
  ],
  'value_clip_loop.py': [{ code: 'GL003', editorLine: 14, severity: 'hint' }],
  'clip_before_backward.py': [{ code: 'GL002', editorLine: 12, severity: 'error' }],
};

/** Scripts whose single fix must turn them into exactly their `_ok` twin (rnn_lm needs all four of its fixes, see the test below). */
const FIX_GIVES_CORRECT_VERSION = ['plain_loop.py', 'amp_loop.py', 'accelerate_loop.py', 'lightning_module.py', 'hf_trainer.py', 'nanogpt_loop.py', 'value_clip_loop.py', 'clip_before_backward.py'];

function goldenName(script: string, finding: PythonFinding, fixIndex: number): string {
  return `${script.replace(/\.py$/, '')}.${finding.code}.L${finding.range.start.line + 1}.fix${fixIndex + 1}.py`;
}

function summary(findings: PythonFinding[]): ExpectedFinding[] {
  return findings.map((finding) => ({ code: finding.code, editorLine: finding.range.start.line + 1, severity: finding.severity }));
}

function fixTexts(findings: PythonFinding[]): string[] {
  return findings.flatMap((finding) => finding.fixes.map((fix) => `${finding.code}:${fix.edits.map((edit) => edit.newText).join('|')}`));
}

describe('Python rules on the training-script corpus', () => {
  let analyzer: PythonAnalyzer;
  before(async () => { analyzer = await loadAnalyzer(); });

  for (const [script, expected] of Object.entries(EXPECTATIONS)) {
    describe(script, () => {
      it('reports the expected diagnostics (code, line, severity)', () => {
        assert.deepEqual(summary(analyzer.analyze(readCorpus(script))), expected);
      });

      it('its correct version draws no finding', () => {
        assert.deepEqual(summary(analyzer.analyze(readCorpus(script.replace(/\.py$/, '_ok.py')))), []);
      });

      it('every fix gives the golden file, valid Python, and is not offered again', () => {
        const original = readCorpus(script);
        const findings = analyzer.analyze(original);
        const fixCount = findings.reduce((count, finding) => count + finding.fixes.length, 0);
        assert.ok(fixCount > 0, 'each corpus problem comes with a fix');
        for (const finding of findings) {
          finding.fixes.forEach((fix, fixIndex) => {
            const fixed = applyEdits(original, fix.edits);
            const golden = path.join(goldenDir, goldenName(script, finding, fixIndex));
            if (updateGolden) fs.writeFileSync(golden, fixed);
            assert.equal(fixed, fs.readFileSync(golden, 'utf8'), `${fix.title} → ${path.basename(golden)}`);
            assert.ok(analyzer.parsesCleanly(fixed), `${path.basename(golden)} re-parses without ERROR/MISSING nodes`);
            const after = analyzer.analyze(fixed);
            assert.equal(after.filter((f) => f.code === finding.code).length, findings.filter((f) => f.code === finding.code).length - 1);
            const offeredBefore = fixTexts([finding])[fixIndex];
            assert.ok(!fixTexts(after).includes(offeredBefore), 'the same fix is not offered twice');
          });
        }
      });

      if (FIX_GIVES_CORRECT_VERSION.includes(script)) {
        it('applying its fix yields the correct version', () => {
          const original = readCorpus(script);
          const [finding] = analyzer.analyze(original);
          assert.equal(applyEdits(original, finding.fixes[0].edits), readCorpus(script.replace(/\.py$/, '_ok.py')));
        });
      }
    });
  }

  it('rnn_lm.py with all its fixes applied, one after the other (clip at 0.25), is its correct version', () => {
    let text = readCorpus('rnn_lm.py');
    for (let finding = analyzer.analyze(text, { maxNorm: 0.25 }).find((f) => f.fixes.length > 0); finding; finding = analyzer.analyze(text, { maxNorm: 0.25 }).find((f) => f.fixes.length > 0)) {
      text = applyEdits(text, finding.fixes[0].edits);
    }
    assert.equal(text, readCorpus('rnn_lm_ok.py'));
  });

  it('every corpus file parses cleanly', () => {
    for (const file of fs.readdirSync(path.join(__dirname, 'corpus'))) assert.ok(analyzer.parsesCleanly(readCorpus(file)), file);
  });
});
