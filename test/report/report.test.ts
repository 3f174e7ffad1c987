import assert from 'node:assert/strict';
import { diagnose } from '../../src/diagnosis/diagnose';
import { openRuns } from '../../src/logs/open';
import type { RunPayload } from '../../src/protocol/dashboard';
import { runPayloadSchema } from '../../src/protocol/dashboard';
import { decodeWire } from '../../src/protocol/wire';
import { renderPage } from '../../src/report/page';
import { thinSeries, toRunPayload } from '../../src/report/payload';
import { markdownSummary, renderReport, seriesCsv } from '../../src/report/report';
import type { Run } from '../../src/logs/run';

const XSS = '<img src=x onerror=alert(1)>';

function runOf(series: Array<{ tag: string; steps: number[]; values: number[] }>, label = 'run'): Run {
  return {
    id: label,
    path: `/logs/${label}.jsonl`,
    files: [],
    format: 'jsonl' as const,
    series: series.map((s) => ({ tag: s.tag, role: s.tag === 'grad_norm' ? ('gradNorm' as const) : undefined, steps: Float64Array.from(s.steps), values: Float64Array.from(s.values) })),
    histograms: [],
    events: [],
    warnings: [],
  };
}

function payload(series: Array<{ tag: string; steps: number[]; values: number[] }>, label = 'run'): RunPayload {
  const run = runOf(series, label);
  return toRunPayload(run, diagnose(run));
}

describe('exported report', () => {
  it('CSV: a row per run and step, a column per tag, empty where a tag has no value, non-finite values spelled out', () => {
    const a = runOf([{ tag: 'grad_norm', steps: [0, 1, 2], values: [1, NaN, Infinity] }, { tag: 'eval_loss', steps: [2], values: [0.5] }], 'a');
    const b = runOf([{ tag: 'grad_norm', steps: [5], values: [-Infinity] }], 'b,"quoted"');
    assert.equal(seriesCsv([a, b]), ['run,step,grad_norm,eval_loss', 'a,0,1,', 'a,1,NaN,', 'a,2,Infinity,0.5', '"b,""quoted""",5,-Infinity,'].join('\n') + '\n');
  });

  it('CSV: a tag or run name cannot become a spreadsheet formula', () => {
    const csv = seriesCsv([runOf([{ tag: '=HYPERLINK("http://x")', steps: [0], values: [1] }], '+cmd')]);
    assert.match(csv, /^run,step,"'=HYPERLINK\(""http:\/\/x""\)"\n'\+cmd,0,1\n$/);
  });

  it('payload: the total norm as the diagnosis reads it, rebuilt from the parameters at the steps where each was logged', () => {
    const run: Run = {
      ...runOf([]),
      series: [
        { tag: 'layers.a', role: 'paramGradNorm', param: 'a', steps: Float64Array.from([0, 1, 2, 3]), values: Float64Array.from([3, 3, 30, 3]) },
        // b was not logged at step 1: that step has no total.
        { tag: 'layers.b', role: 'paramGradNorm', param: 'b', steps: Float64Array.from([0, 2, 3]), values: Float64Array.from([4, 40, NaN]) },
      ],
    };
    const d = diagnose(run);
    const p = toRunPayload(run, d);
    assert.deepEqual([...(p.totalNorm?.steps ?? [])], [0, 2, 3]);
    assert.deepEqual([...(p.totalNorm?.values ?? [])], [5, 50, NaN]);
    assert.equal(d.gradNormSource, 'parameters');
    assert.equal(d.gradNorm.max, 50);
    assert.equal(d.gradNorm.firstNonFiniteStep, 3);
    const logged = runOf([{ tag: 'grad_norm', steps: [0, 1], values: [1, 2] }]);
    const sent = toRunPayload(logged, diagnose(logged));
    assert.equal(sent.totalNorm?.values, sent.series[0].values, 'a logged total is the gradNorm series itself, sent once');
    const none = runOf([{ tag: 'loss', steps: [0], values: [1] }]);
    assert.equal(toRunPayload(none, diagnose(none)).totalNorm, undefined);
  });

  it('Markdown: summary, parameters and findings of a real exploding run, with log text escaped', async () => {
    const [run] = await openRuns('test/fixtures/real/torch_lstm_sgd_noclip/grads.jsonl');
    const text = markdownSummary([toRunPayload({ ...run, id: `${XSS} | run` }, diagnose(run))]);
    assert.match(text, /^## \\<img src=x onerror=alert\(1\)\\> \\\| run$/m, 'the heading shows the name, escaped');
    assert.ok(!/(^|[^\\])</m.test(text), 'every < from the log is escaped');
    assert.match(text, /status: \*\*exploding\*\*/);
    assert.match(text, /\| lstm\.weight\\_ih\\_l0 \|/);
    assert.match(text, /- \*\*Error: explosion, steps 3–4\.\*\*/);
  });

  it('HTML page: a fresh nonce per render, CSP default-src none, and data that cannot close its script element', () => {
    const options = { title: 't', script: { inline: 'void 0' }, styles: [], data: JSON.stringify({ name: '</script><script>alert(1)</script>' }), page: 'dashboard' as const };
    const one = renderPage({ ...options, nonce: 'n1' });
    assert.match(one, /content="default-src 'none'; img-src data:; style-src 'nonce-n1'; font-src; script-src 'nonce-n1'"/);
    assert.equal(one.match(/<\/script>/g)?.length, 2, 'only the data element and the script close');
    const embedded = /<script type="application\/json" id="gradlens-data">(.*?)<\/script>/s.exec(one)![1];
    assert.deepEqual(JSON.parse(embedded), { name: '</script><script>alert(1)</script>' });
  });

  it('HTML report: self-contained, with the runs embedded as wire JSON that parses back', () => {
    const run = payload([{ tag: 'grad_norm', steps: [0, 1], values: [1, 2e30] }], XSS);
    const html = renderReport([run], { script: 'console.log("bundle")', styles: ['body{}'] });
    assert.ok(!/<(script|link|img)\b[^>]*\b(src|href)=/.test(html), 'no external resources');
    const embedded = /<script type="application\/json" id="gradlens-data">(.*?)<\/script>/s.exec(html)![1];
    const message = decodeWire(embedded) as { type: string; runs: unknown[] };
    assert.equal(message.type, 'show');
    assert.deepEqual(runPayloadSchema.parse(message.runs[0])?.label, XSS);
    assert.ok(!html.includes(XSS), 'the name only appears escaped');
  });

  it('thins a long per-parameter series for the heat map, keeping every spike and every NaN or infinity', () => {
    const n = 100_000;
    const steps = Float64Array.from({ length: n }, (_, i) => i);
    const values = Float64Array.from({ length: n }, (_, i) => 1 + (i % 7) * 1e-3);
    values[12_345] = 5e9;
    values[77_777] = NaN;
    values[77_778] = Infinity;
    values[90_001] = Infinity;
    const thin = thinSeries(steps, values, 1000);
    assert.equal(thin.steps.length, Math.ceil(n / 128), 'one point per stretch of 128 steps, the power of two that leaves at most 1,000');
    assert.ok(thin.steps.every((step, i) => i === 0 || step > thin.steps[i - 1]), 'steps stay in order');
    const at = (step: number) => thin.values[Array.from(thin.steps).indexOf(step)];
    assert.equal(at(12_345), 5e9);
    assert.ok(Number.isNaN(at(77_777)), 'a NaN wins over an infinity in its bucket');
    assert.equal(at(90_001), Infinity);
    assert.equal(thinSeries(steps.subarray(0, 10), values.subarray(0, 10), 1000).values.length, 10, 'short series are kept whole');
  });

  it('thins a growing series so that its full stretches keep their points: a live run resends its last stretch only', () => {
    const values = Float64Array.from({ length: 200_000 }, (_, i) => Math.sin(i) + (i % 1000 === 0 ? 50 : 0));
    const steps = Float64Array.from(values, (_, i) => i);
    const earlier = thinSeries(steps.subarray(0, 150_000), values.subarray(0, 150_000), 16384);
    const later = thinSeries(steps, values, 16384);
    // 150,000 and 200,000 points both thin by stretches of 16: the first 9,375 points are the same.
    assert.deepEqual([...later.values.subarray(0, 9375)], [...earlier.values]);
    assert.deepEqual([...thinSeries(steps, values, 16384, 9000).values], [...later.values.subarray(9000)], 'from a point on, the same points');
  });
});
