/**
 * A live run long enough to be summarised still reaches the dashboard as
 * deltas: the last bucket's point may change while its steps arrive, so
 * the page is sent that point again, and what it builds is the whole run's
 * payload.
 */
import assert from 'node:assert/strict';
import { diagnose } from '../../src/diagnosis/diagnose';
import { RunBuilder } from '../../src/logs/run';
import { hostToDashboardSchema, type HostToDashboard, type RunCursor, type RunPayload } from '../../src/protocol/dashboard';
import { decodeWire, encodeWire } from '../../src/protocol/wire';
import { runChange, toRunPayload } from '../../src/report/payload';
import { appendToRun } from '../../src/webview/dashboard/append';

const source = { id: 'live', path: 'live.jsonl', files: ['live.jsonl'], format: 'jsonl' as const };

/** Steps `from` to `to` of a steady run; `scale` makes them larger than the steps before. */
function feed(builder: RunBuilder, from: number, to: number, scale = 1): void {
  for (let step = from; step < to; step++) {
    const wave = scale * (1 + Math.abs(Math.sin(step * 0.7)));
    builder.scalar('loss', step, 2 - step / 1e5);
    builder.scalar('grad_norm', step, Math.hypot(wave, 0.5));
    builder.scalar('grad_norm/lstm.weight_hh_l0', step, wave);
    builder.scalar('grad_norm/head.weight', step, 0.5);
  }
}

/** A message as the page receives it: through the wire, so it shares no array with the builder. */
function received(message: HostToDashboard): HostToDashboard {
  const parsed = hostToDashboardSchema.parse(decodeWire(encodeWire(message)));
  assert.ok(parsed, 'a message the page accepts');
  return parsed;
}

/** Typed arrays as plain arrays, so two payloads compare by value. */
const plain = (payload: RunPayload): unknown => JSON.parse(JSON.stringify(payload, (_key, value: unknown) => (value instanceof Float64Array ? [...value].map(String) : value)));

describe('a summarised live run on the dashboard', () => {
  it('grows by appends that rebuild the whole run, the last bucket sent again', () => {
    const builder = new RunBuilder(source, undefined, { perSeries: 256, perRun: Infinity });
    feed(builder, 0, 5_000);
    let run = builder.runs()[0];
    assert.ok(run.buckets, 'summarised');
    const first = runChange(run, diagnose(run), true, builder.edition());
    const shown = received(first.message);
    assert.equal(shown.type, 'update');
    let page = shown.type === 'update' ? shown.run : undefined;
    let cursor: RunCursor = first.cursor;
    // Larger steps that land inside the last bucket (its point changes), then ones that open new buckets: no widening in between (256 points of 32 steps reach step 8,192).
    for (const [from, to, scale] of [[5_000, 5_003, 10], [5_003, 5_200, 1], [5_200, 6_000, 1]]) {
      const edition = builder.edition();
      feed(builder, from, to, scale);
      assert.equal(builder.edition(), edition, 'the run only grew');
      run = builder.runs()[0];
      const diagnosis = diagnose(run);
      const change = runChange(run, diagnosis, true, builder.edition(), cursor);
      const message = received(change.message);
      assert.equal(message.type, 'append', `steps ${from}-${to}: an append`);
      if (message.type !== 'append' || !page) return;
      const sent = message.run.series.reduce((sum, s) => sum + s.steps.length, 0);
      assert.ok(sent <= 4 * (Math.ceil((to - from) / run.buckets!.stride) + 1), `${sent} points sent for ${to - from} steps`);
      page = appendToRun(page, message.run);
      assert.ok(page, 'the append fits what the page holds');
      assert.deepEqual(plain(page), plain(toRunPayload(run, diagnosis, true)));
      cursor = change.cursor;
    }
  });

  it('is sent whole when the buckets widen', () => {
    const builder = new RunBuilder(source, undefined, { perSeries: 256, perRun: Infinity });
    feed(builder, 0, 5_000);
    const run = builder.runs()[0];
    const { cursor } = runChange(run, diagnose(run), true, builder.edition());
    feed(builder, 5_000, 9_000);
    const grown = builder.runs()[0];
    assert.equal(grown.buckets!.stride, 2 * run.buckets!.stride);
    assert.equal(runChange(grown, diagnose(grown), true, builder.edition(), cursor).message.type, 'update');
  });
});

describe("a live run's histograms on the dashboard", () => {
  const histogram = (step: number) => ({ min: -step - 1, max: step + 1, count: 3, sum: 0, sumSquares: 2 * (step + 1) ** 2, limits: [-step - 1, 0, Number.MAX_VALUE], counts: [1, 1, 1] });
  const log = (builder: RunBuilder, from: number, to: number, tags: string[]) => {
    for (let step = from; step < to; step++) {
      builder.scalar('loss', step, 1);
      for (const tag of tags) builder.histogram(tag, step, histogram(step));
    }
  };

  it("sends each tag's new histograms, a new tag whole, and rebuilds the whole run", () => {
    const builder = new RunBuilder({ ...source, format: 'tfevents' });
    log(builder, 0, 300, ['grad/a', 'grad/b']);
    let run = builder.runs()[0];
    const first = runChange(run, diagnose(run), true, builder.edition());
    let page = (received(first.message) as Extract<HostToDashboard, { type: 'update' }>).run;
    let cursor = first.cursor;
    for (const [from, to, tags] of [[300, 302, ['grad/a', 'grad/b']], [302, 303, ['grad/a', 'grad/b', 'grad/c']], [303, 310, ['grad/b']]] as const) {
      log(builder, from, to, [...tags]);
      run = builder.runs()[0];
      const diagnosis = diagnose(run);
      const change = runChange(run, diagnosis, true, builder.edition(), cursor);
      const message = received(change.message);
      assert.equal(message.type, 'append', `steps ${from}-${to}`);
      if (message.type !== 'append') return;
      assert.deepEqual(
        message.run.histograms.map((h) => [h.tag, h.keep, h.steps.length]),
        tags.map((tag) => [tag, tag === 'grad/c' ? 0 : cursor.histograms[tag], tag === 'grad/c' ? 1 : to - from]),
        'only the histograms the page does not have',
      );
      page = appendToRun(page, message.run)!;
      assert.deepEqual(plain(page), plain(toRunPayload(run, diagnosis, true)));
      cursor = change.cursor;
    }
  });

  it('is sent whole when a tag is sampled more sparsely', () => {
    const builder = new RunBuilder({ ...source, format: 'tfevents' });
    log(builder, 0, 1024, ['grad/a']);
    const run = builder.runs()[0];
    const { cursor } = runChange(run, diagnose(run), true, builder.edition());
    log(builder, 1024, 1026, ['grad/a']);
    const grown = builder.runs()[0];
    assert.ok(grown.histograms[0].steps.length < 1024, 'thinned');
    assert.equal(runChange(grown, diagnose(grown), true, builder.edition(), cursor).message.type, 'update');
  });
});
