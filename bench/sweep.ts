/**
 * `npm run bench:sweep`: a sweep folder of 1,000 runs (test/sweep-folder.ts),
 * as the Runs view gets it: the logs worker finds, reads and diagnoses them
 * all (the workspace request the extension sends) while this process, in the
 * host's place, receives and parses their summaries, its event loop watched
 * for blocks; then the host's work for the sweep table: a row per run, sent
 * 200 to a message. Goal: listed with statuses within 10 s, the host never
 * blocked over 50 ms. Last, the CPU the sweep takes while it stays followed
 * once finished, none of its files changing.
 *
 *   npm run bench:sweep [-- --runs=N --no-write]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sweepRow } from '../src/extension/runs/present';
import { HYPERPARAMETER_LABELS } from '../src/logs/hyperparameters';
import { encodeWire } from '../src/protocol/wire';
import { LogsWorkerClient } from '../src/worker/logs-client';
import { logsToHostSchema, type RunSummary } from '../src/worker/logs-protocol';
import { DEFAULT_LOGS_SETTINGS, LIVE_MS, QUIET_POLL_MS } from '../src/worker/logs-service';
import { buildBundles } from '../test/bundles';
import { writeSweep } from '../test/sweep-folder';
import { cpuModel, writeSection } from './report';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, 'no-write': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
const GOAL_MS = 10_000;
const BLOCK_GOAL_MS = 50;
/** As src/extension/sweep-panel.ts sends them. */
const ROWS_PER_MESSAGE = 200;
const RESOLUTION_MS = 10;
/** How long the followed, finished sweep's CPU is measured. */
const QUIET_WINDOW_MS = 20_000;

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-sweep-'));
  try {
    const files = writeSweep(root, RUNS);
    const worker = path.join(buildBundles(['logs-worker']), 'logs-worker.js');
    const summaries = new Map<string, RunSummary>();
    let messages = 0;
    const client = new LogsWorkerClient(worker, {
      onRuns: (runs) => {
        messages++;
        for (const run of runs) summaries.set(run.key, run);
      },
      onRemoved: () => {},
      onLog: () => {},
      onExit: (reason) => process.stderr.write(`${reason}\n`),
    });
    client.configure(DEFAULT_LOGS_SETTINGS);
    const delays = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    delays.enable();
    const started = performance.now();
    const keys = await client.followWorkspace([{ path: root, name: 'sweep', qualify: false, files }]);
    const listedMs = performance.now() - started;
    const listedMessages = messages;
    delays.disable();
    // The histogram holds the intervals between ticks: what passes the tick's own 10 ms is how long the loop was busy.
    const maxBlockMs = Math.max(0, delays.max / 1e6 - RESOLUTION_MS);
    // Then the runs as a finished sweep leaves them: followed, none changing (past LIVE_MS since written), the worker's CPU over a while.
    await new Promise((resolve) => setTimeout(resolve, LIVE_MS + 2_000));
    const cpuBefore = process.cpuUsage();
    const quietStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const cpu = process.cpuUsage(cpuBefore);
    const quietCpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - quietStarted);
    await client.dispose();
    const rowsStarted = performance.now();
    const rows = [...summaries.values()].map(sweepRow);
    let rowBytes = 0;
    for (let from = 0; from < rows.length; from += ROWS_PER_MESSAGE) rowBytes += encodeWire({ type: 'change', rows: rows.slice(from, from + ROWS_PER_MESSAGE), removed: [] }).length;
    const rowsMs = performance.now() - rowsStarted;
    const stated = new Map<string, number>();
    for (const row of rows) for (const key of Object.keys(row.hyperparameters)) stated.set(key, (stated.get(key) ?? 0) + 1);
    // What the host's thread does with them: parse every summary against the protocol.
    const raw = { type: 'runs', runs: [...summaries.values()] };
    const parseStarted = performance.now();
    if (!logsToHostSchema.parse(raw)) throw new Error('the summaries do not follow the protocol');
    const parseMs = performance.now() - parseStarted;
    const statuses = new Map<string, number>();
    for (const run of summaries.values()) statuses.set(run.status, (statuses.get(run.status) ?? 0) + 1);
    const bytes = JSON.stringify(raw).length;
    const report = [
      `\`npm run bench:sweep\` on ${cpuModel()}, Node ${process.version}: a sweep folder of ${keys.length.toLocaleString('en-US')} runs (test/sweep-folder.ts: a quarter each JSON lines and Lightning-style CSV with its hparams.yaml, of 300 steps, a TensorBoard dir and a trainer_state.json with its training_args.json, the logs copied from test/fixtures/real), followed as the workspace's runs.`,
      '',
      '| measure | figure | goal |',
      '| --- | --- | --- |',
      `| found, read and diagnosed by the logs worker, until the workspace request is answered | ${(listedMs / 1000).toFixed(1)} s | ≤ 10 s: ${listedMs <= GOAL_MS ? 'met' : '**missed**'} |`,
      `| the summaries the host receives | ${listedMessages.toLocaleString('en-US')} messages, ${(bytes / 1e6).toFixed(1)} MB as JSON | |`,
      `| the host parsing all of them against the protocol | ${parseMs.toFixed(1)} ms | |`,
      `| the host's longest block while they arrive (each parsed as it comes) | ${maxBlockMs.toFixed(0)} ms | < ${BLOCK_GOAL_MS} ms: ${maxBlockMs < BLOCK_GOAL_MS ? 'met' : '**missed**'} |`,
      `| the sweep table's rows made from the summaries and encoded, ${ROWS_PER_MESSAGE} to a message | ${rowsMs.toFixed(1)} ms, ${(rowBytes / 1e6).toFixed(2)} MB | |`,
      `| CPU while the 1,000 runs stay followed and none changes (${QUIET_WINDOW_MS / 1000} s, from ${(LIVE_MS + 2_000) / 1000} s after the listing; the whole process, both threads) | ${(100 * quietCpuShare).toFixed(1)}% of a core (quiet runs looked at every ${QUIET_POLL_MS / 1000} s) | |`,
      '',
      `Statuses: ${[...statuses].map(([status, n]) => `${status} ${n}`).join(', ')}. Hyperparameters stated: ${[...stated].map(([key, n]) => `${HYPERPARAMETER_LABELS[key as keyof typeof HYPERPARAMETER_LABELS] ?? key} by ${n}`).join(', ')}. Not measured here: VS Code drawing the Runs view and the sweep table (see the next section).`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (!args['no-write']) writeSection('Many runs', report);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
