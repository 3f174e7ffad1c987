/**
 * Long runs are summarised as they are read (RunBuilder's points per
 * series): memory stays bounded, and what a person reads first (how many
 * steps, the peak and its step, the first NaN) stays exact.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RunBuilder, tallyOf, type Run, type SeriesTally } from '../../src/logs/run';
import { readJsonLines } from '../../src/logs/formats/jsonl';
import { diagnose } from '../../src/diagnosis/diagnose';
import { RunView } from '../../src/diagnosis/view';

const source = { id: 'long', path: 'long.jsonl', files: ['long.jsonl'], format: 'jsonl' as const };

/** A run of `points` a series at most (and no limit on the run's total unless given). */
function build(points: number, feed: (builder: RunBuilder) => void, perRun = Infinity): Run {
  const builder = new RunBuilder(source, undefined, { perSeries: points, perRun });
  feed(builder);
  return builder.runs()[0];
}

/** The JSON lines of a long LSTM run: steady norms, `lstm.weight_hh_l0` exploding from `explodeAt`, NaN everywhere from `nanAt`. */
function longLog(steps: number, explodeAt: number, nanAt: number): Uint8Array {
  const lines: string[] = [];
  for (let step = 0; step < steps; step++) {
    const wobble = 1 + 0.3 * Math.sin(step * 0.37);
    const hh = step >= nanAt ? NaN : step >= explodeAt ? 0.8 * 10 ** Math.min(4, (step - explodeAt) / 8) : 0.8 * wobble;
    const head = step >= nanAt ? NaN : 0.5 * wobble;
    const norm = Math.hypot(hh, head);
    const loss = step >= nanAt ? NaN : 2 * Math.exp(-step / steps) + 0.01 * wobble;
    lines.push(`{"step": ${step}, "loss": ${loss}, "grad_norm": ${norm}, "layers": {"lstm.weight_hh_l0": ${hh}, "head.weight": ${head}}}`);
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

function readLog(bytes: Uint8Array, points: number): Run {
  return build(points, (builder) => {
    const reader = readJsonLines(builder, source.path);
    for (let at = 0; at < bytes.length; at += 1 << 16) reader.push(bytes.subarray(at, at + (1 << 16)));
    reader.end();
  });
}

describe('long runs, summarised as they are read', () => {
  it('keeps at most its points per series, one per bucket of steps, the same buckets for every series, each point one that was logged', () => {
    const run = build(1024, (builder) => {
      for (let step = 0; step < 100_000; step++) {
        builder.scalar('grad_norm', step, 1 + (step % 97));
        if (step % 3 === 0) builder.scalar('loss', step, 1 / (1 + step));
      }
    });
    assert.ok(run.buckets, 'the run says it is summarised');
    const { stride, origin } = run.buckets;
    assert.equal(origin, 0);
    assert.ok(Number.isInteger(Math.log2(stride)) && stride >= 128, `stride ${stride}`);
    for (const series of run.series) {
      assert.ok(series.steps.length <= 1024, `${series.tag}: ${series.steps.length} points`);
      const indexes: number[] = [...series.steps].map((step: number) => Math.floor((step - origin) / stride));
      assert.deepEqual(indexes, [...new Set(indexes)].sort((a, b) => a - b), `${series.tag}: one point per bucket, in order`);
    }
    const norms = run.series.find((s) => s.tag === 'grad_norm')!;
    for (let i = 0; i < norms.steps.length; i++) assert.equal(norms.values[i], 1 + (norms.steps[i] % 97), 'a logged point, not an average');
    // Each bucket of 128+ steps holds a step with step % 97 = 96: its largest value.
    assert.ok([...norms.values].slice(0, -1).every((v) => v === 97));
  });

  it('tallies every point logged exactly, whatever it kept (property)', () => {
    const value = fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity) });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), value), { minLength: 1, maxLength: 3000 }), fc.integer({ min: 4, max: 64 }), (points, cap) => {
        let step = 0;
        const logged = points.map(([gap, v]) => ({ step: (step += gap), value: v }));
        const run = build(cap, (builder) => logged.forEach((p) => builder.scalar('grad_norm', p.step, p.value)));
        const series = run.series[0];
        assert.ok(series.steps.length <= cap);
        const expected: SeriesTally = tallyOf({ steps: Float64Array.from(logged, (p) => p.step), values: Float64Array.from(logged, (p) => p.value) });
        assert.deepEqual(tallyOf(series), expected);
        // The first non-finite point and the peak are among the points kept.
        if (!Number.isNaN(expected.firstNonFiniteStep)) assert.ok(series.steps.includes(expected.firstNonFiniteStep));
        else if (!Number.isNaN(expected.max)) assert.ok(series.values.includes(expected.max));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps fewer points a series when a run has many (per-parameter norms of a large model), its total within the run\'s limit', () => {
    const run = build(
      2 ** 17,
      (builder) => {
        for (let step = 0; step < 30_000; step++) {
          builder.scalar('grad_norm', step, 1 + (step % 13));
          // The parameters' norms appear at step 1,000: the series kept so far are merged to the new share.
          if (step >= 1_000) for (let p = 0; p < 63; p++) builder.scalar(`grad_norm/layers.${p}.weight`, step, 0.1 + ((step + p) % 7));
        }
      },
      2 ** 16,
    );
    assert.ok(run.buckets, 'summarised');
    const lengths = run.series.map((s) => s.steps.length);
    assert.ok(Math.max(...lengths) <= 1024, `at most 2^16 / 64 points a series: ${Math.max(...lengths)}`);
    assert.ok(lengths.reduce((a, b) => a + b, 0) <= 2 ** 16);
    assert.equal(tallyOf(run.series[0]).count, 30_000);
    assert.equal(tallyOf(run.series[1]).count, 29_000);
  });

  it('a run within its points is not summarised: every point is kept and no tally is attached', () => {
    const run = build(1024, (builder) => {
      for (let step = 0; step < 1024; step++) builder.scalar('grad_norm', step, step);
    });
    assert.equal(run.buckets, undefined);
    assert.equal(run.series[0].steps.length, 1024);
    assert.equal(run.series[0].tally, undefined);
  });

  it('a restart in a summarised run drops what came after its step and goes on counting from there', () => {
    const run = build(256, (builder) => {
      for (let step = 0; step < 10_000; step++) builder.scalar('loss', step, 1);
      for (let step = 5_000; step < 6_000; step++) builder.scalar('loss', step, 2);
    });
    const series = run.series[0];
    assert.equal(series.steps[series.steps.length - 1] < 6_000, true);
    assert.equal(series.values[series.values.length - 1], 2);
    const tally = tallyOf(series);
    assert.equal(tally.lastStep, 5_999);
    assert.equal(tally.max, 2);
    assert.ok(Math.abs(tally.count - 6_000) <= 2 * run.buckets!.stride, `about 6,000 points counted: ${tally.count}`);
  });

  it('diagnoses a summarised run with the exact steps, peak and first NaN, the same findings, and says it is summarised', () => {
    const log = longLog(60_000, 45_000, 52_000);
    const whole = diagnose(readLog(log, Infinity));
    const run = readLog(log, 2048);
    const summary = diagnose(run);
    assert.ok(run.buckets && run.buckets.stride >= 32, 'summarised');
    assert.equal(summary.steps, 60_000);
    assert.deepEqual([summary.firstStep, summary.lastStep], [whole.firstStep, whole.lastStep]);
    assert.deepEqual(summary.gradNorm.max, whole.gradNorm.max);
    assert.equal(summary.gradNorm.maxStep, whole.gradNorm.maxStep);
    assert.equal(summary.gradNorm.firstNonFiniteStep, 52_000);
    assert.deepEqual(summary.loss, whole.loss);
    assert.deepEqual(
      summary.parameters.map((p) => [p.name, p.maxNorm, p.maxStep, p.nanSteps, p.infSteps]),
      whole.parameters.map((p) => [p.name, p.maxNorm, p.maxStep, p.nanSteps, p.infSteps]),
    );
    assert.deepEqual(new Set(summary.findings.map((f) => f.kind)), new Set(whole.findings.map((f) => f.kind)));
    const nonfinite = summary.findings.find((f) => f.kind === 'nonfinite')!;
    assert.equal(nonfinite.step, 52_000);
    assert.equal(nonfinite.evidence.nonFiniteSteps, 8_000, 'counted over every step, not the points kept');
    assert.match(nonfinite.message, /8000 of 60000 steps/);
    const explosion = summary.findings.find((f) => f.kind === 'explosion')!;
    const exact = whole.findings.find((f) => f.kind === 'explosion')!;
    assert.ok(explosion.step >= exact.step && explosion.step - exact.step < run.buckets.stride, `explosion at ${explosion.step}, exactly ${exact.step}`);
    assert.deepEqual(explosion.layers, exact.layers);
    assert.match(explosion.message, new RegExp(`\\d+ points kept \\(one per ${run.buckets.stride} steps\\) between`), 'a count of points kept is not called a count of steps');
    assert.match(exact.message, /\d+ steps between/);
    assert.ok(summary.setup.caveats.some((c) => c.includes(`one point per ${run.buckets!.stride} steps`)), summary.setup.caveats.join('\n'));
    assert.ok(!whole.setup.caveats.some((c) => c.includes('one point per')));
  });

  it('matches parameters to the total norm by bucket, so shares and the rebuilt total stay whole', () => {
    const run = build(512, (builder) => {
      for (let step = 0; step < 20_000; step++) {
        // The two parameters peak at different steps of each bucket: matched by step, no bucket would align.
        builder.scalar('grad_norm/a', step, 1 + (step % 7));
        builder.scalar('grad_norm/b', step, 1 + ((step + 3) % 11));
      }
    });
    const view = new RunView(run);
    assert.equal(view.normSource, 'parameters');
    assert.equal(view.norms.steps.length, run.series[0].steps.length, 'a total at every bucket');
    assert.ok(view.aligned().every((norms) => norms.at === undefined && norms.values.length === view.norms.steps.length));
    assert.equal(view.normsExtent().count, 20_000);
  });
});
