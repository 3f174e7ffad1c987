import assert from 'node:assert/strict';
import fc from 'fast-check';
import { coarsened, HISTOGRAM_BUCKETS, RunBuilder } from '../../src/logs/run';
import { bucketOf, TF_EDGES, torchHistogram } from './tfevents-writer';

describe('histograms kept for the dashboard', () => {
  it('keeps every count over the values it counted, in at most 64 buckets whose edges are the original ones', () => {
    const value = fc.oneof(fc.double({ min: -1e-2, max: 1e-2, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constant(0));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), fc.boolean(), (values, tensorflowEdges) => {
        // TensorFlow's edges, or a hundred even ones over the values' range.
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        const edges = tensorflowEdges ? TF_EDGES : [...Array.from({ length: 100 }, (_, i) => lo + ((hi - lo) * i) / 100), Number.MAX_VALUE];
        const original = torchHistogram(values, edges);
        const kept = coarsened(original);
        assert.ok(kept.counts.length <= HISTOGRAM_BUCKETS, `${kept.counts.length} buckets`);
        assert.equal(kept.limits.length, kept.counts.length);
        assert.deepEqual([kept.min, kept.max, kept.count, kept.sum, kept.sumSquares], [original.min, original.max, original.count, original.sum, original.sumSquares]);
        // Edges kept in order, the last one included: each bucket is the union of the original ones it replaced.
        let from = 0;
        for (const limit of kept.limits) from = original.limits.indexOf(limit, from) + 1 || assert.fail(`edge ${limit} is not one of the original edges after ${from}`);
        assert.equal(kept.limits.at(-1), original.limits.at(-1));
        // So counting the values again over the kept edges gives the kept counts.
        const recount = new Array<number>(kept.limits.length).fill(0);
        for (const v of values) recount[bucketOf(kept.limits, v)]++;
        assert.deepEqual(recount, kept.counts);
        if (original.counts.length <= HISTOGRAM_BUCKETS) assert.equal(kept, original, 'a small histogram is kept as it is');
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a model of many parameters in its budget, each tag sampled from its first step to its last', () => {
    const builder = new RunBuilder({ id: 'big', path: 'events', files: ['events'], format: 'tfevents' });
    const TAGS = 100;
    const STEPS = 1000;
    for (let step = 0; step < STEPS; step++) {
      for (let t = 0; t < TAGS; t++) builder.histogram(`grad/layer${t}.weight`, step * 10, { min: -1, max: 1, count: 4, sum: 0, sumSquares: 2, limits: [-0.5, 0.5, Number.MAX_VALUE], counts: [1, 2, 1] });
    }
    const [run] = builder.runs();
    const kept = run.histograms.reduce((sum, h) => sum + h.steps.length, 0);
    // 100,000 histograms arrived; a tag alone would keep 1,024.
    assert.ok(kept <= 2 ** 14 + TAGS, `${kept} histograms kept`);
    for (const h of run.histograms) {
      assert.ok(h.steps.length >= 32, `${h.tag}: ${h.steps.length}`);
      assert.equal(h.steps[0], 0);
      const gaps = h.steps.slice(1).map((s, i) => s - h.steps[i]);
      assert.ok(STEPS * 10 - h.steps.at(-1)! <= Math.max(...gaps), `${h.tag} is sampled up to its last steps`);
    }
  });
});
