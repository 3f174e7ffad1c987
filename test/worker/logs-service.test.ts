/**
 * The logs service in this thread (the worker runs the same class), so the
 * file-system calls its polls make can be counted.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, promises as fsPromises, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogsToHost, RunSummary } from '../../src/worker/logs-protocol';
import { DEFAULT_LOGS_SETTINGS, LogsService, QUIET_POLL_MS } from '../../src/worker/logs-service';

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${JSON.stringify({ step: from + i, loss: 1, grad_norm: 0.5 })}\n`).join('');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('logs service polling', () => {
  it('looks at a run that ended every few seconds rather than at every poll, and still sees it resume', async function () {
    this.timeout(QUIET_POLL_MS + 30_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-quiet-'));
    const ended = path.join(dir, 'ended.jsonl');
    const training = path.join(dir, 'training.jsonl');
    writeFileSync(ended, lines(0, 3));
    writeFileSync(training, lines(0, 3));
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(ended, hourAgo, hourAgo);

    const runs = new Map<string, RunSummary>();
    const answered = new Set<number>();
    const service = new LogsService((message: LogsToHost) => {
      if (message.type === 'runs') for (const run of message.runs) runs.set(run.path, run);
      if (message.type === 'done') answered.add(message.requestId);
    });
    const until = async (what: string, done: () => boolean, timeoutMs: number) => {
      for (const started = Date.now(); !done(); await sleep(20)) if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    };
    const stats = new Map<string, number>();
    const stat = fsPromises.stat;
    fsPromises.stat = ((file: Parameters<typeof stat>[0], options?: Parameters<typeof stat>[1]) => {
      stats.set(String(file), (stats.get(String(file)) ?? 0) + 1);
      return stat(file, options);
    }) as typeof stat;
    try {
      service.handle({ type: 'configure', settings: { ...DEFAULT_LOGS_SETTINGS, pollIntervalMs: 100 } });
      service.handle({ type: 'open', requestId: 1, path: ended, origin: 'opened' });
      service.handle({ type: 'open', requestId: 2, path: training, origin: 'opened' });
      await until('both runs opened', () => answered.has(1) && answered.has(2), 10_000);
      stats.clear();
      await sleep(1_500);
      assert.equal(stats.get(ended) ?? 0, 0, 'the run that ended is not looked at within the quiet interval');
      assert.ok((stats.get(training) ?? 0) >= 2, `the live run is looked at every poll: ${stats.get(training) ?? 0} stats`);
      appendFileSync(ended, lines(3, 6));
      await until('the resumed run to show its new steps', () => runs.get(ended)?.steps === 6, QUIET_POLL_MS + 10_000);
      assert.equal(runs.get(ended)?.live, true);
    } finally {
      fsPromises.stat = stat;
      service.handle({ type: 'workspace', requestId: 3, folders: [] });
    }
  });
});
