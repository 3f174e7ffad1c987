import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { computePlayground } from '../../src/playground/compute';
import { DEFAULT_PLAYGROUND_PARAMS, type PlaygroundParams, type PlaygroundResult } from '../../src/protocol/playground';
import { SupersededError } from '../../src/shared/worker-requests';
import { PlaygroundWorker } from '../../src/worker/training-client';
import { playgroundReplySchema, playgroundRequestSchema } from '../../src/worker/training-protocol';
import { buildBundles } from '../bundles';

// Worker threads cannot load TypeScript: the worker is bundled from source by the build script.
let WORKER: string;

function withoutTiming(result: PlaygroundResult): Omit<PlaygroundResult, 'elapsedMs'> {
  const { elapsedMs, ...rest } = result;
  assert.ok(elapsedMs >= 0);
  return rest;
}
const at = (seqLen: number): PlaygroundParams => ({ ...DEFAULT_PLAYGROUND_PARAMS, seqLen });

describe('playground worker', () => {
  let worker: PlaygroundWorker;
  before(() => {
    WORKER = path.join(buildBundles(['training-worker']), 'training-worker.js');
  });
  beforeEach(() => (worker = new PlaygroundWorker(WORKER)));
  afterEach(() => worker.dispose());

  it('computes in its thread exactly what the engine computes in-process', async () => {
    for (const params of [DEFAULT_PLAYGROUND_PARAMS, { ...DEFAULT_PLAYGROUND_PARAMS, mode: 'value' as const, nonlinearity: 'tanh' as const, radius: 0.8, seqLen: 120 }]) {
      assert.deepEqual(withoutTiming(await worker.compute(params)), withoutTiming(computePlayground(params)));
    }
  });

  it('computes only the newest of the requests that pile up while one is computing', async () => {
    const outcomes = await Promise.allSettled([10, 20, 30, 40, 50].map((T) => worker.compute(at(T))));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value.params.seqLen : o.reason instanceof SupersededError ? 'superseded' : String(o.reason))),
      [10, 'superseded', 'superseded', 'superseded', 50],
    );
  });

  it('rejects what is pending when disposed, and anything asked afterwards', async () => {
    const pending = worker.compute(at(30));
    worker.dispose();
    await assert.rejects(pending, /disposed/);
    await assert.rejects(worker.compute(at(30)), /disposed/);
  });

  it('rejects, rather than hangs, when its worker cannot run', async () => {
    const broken = new PlaygroundWorker(path.join(os.tmpdir(), 'gradlens-no-such-worker.js'));
    await assert.rejects(broken.compute(DEFAULT_PLAYGROUND_PARAMS));
    broken.dispose();
  });

  it('drops messages that do not follow the protocol', () => {
    assert.equal(playgroundRequestSchema.parse({ type: 'playground', requestId: 1, params: { ...DEFAULT_PLAYGROUND_PARAMS, seqLen: 10_000 } }), undefined);
    assert.equal(playgroundRequestSchema.parse({ type: 'playground', requestId: 1, params: { ...DEFAULT_PLAYGROUND_PARAMS, mode: 'sign' } }), undefined);
    assert.equal(playgroundReplySchema.parse({ type: 'playgroundResult', requestId: 1, result: { params: DEFAULT_PLAYGROUND_PARAMS } }), undefined);
    assert.equal(playgroundReplySchema.parse({ type: 'start', runId: 'x' }), undefined);
    assert.deepEqual(playgroundReplySchema.parse({ type: 'playgroundError', requestId: 2, message: 'no' }), { type: 'playgroundError', requestId: 2, message: 'no' });
  });
});
