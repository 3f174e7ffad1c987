/**
 * `npm run bench:sweep`: a sweep folder of 1,000 runs, a quarter each JSON
 * lines, Lightning-style CSV, TensorBoard and trainer_state.json, as the
 * Runs view gets it: the logs worker finds, reads and diagnoses them all
 * (the workspace request the extension sends), and the host parses their
 * summaries. Goal: listed with statuses within 10 s.
 *
 *   npm run bench:sweep [-- --runs=N --no-write]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LogsWorkerClient } from '../src/worker/logs-client';
import { logsToHostSchema, type RunSummary } from '../src/worker/logs-protocol';
import { DEFAULT_LOGS_SETTINGS } from '../src/worker/logs-service';
import { buildBundles } from '../test/bundles';
import { writeSweep } from '../test/sweep-folder';
import { cpuModel, writeSection } from './report';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, 'no-write': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
const GOAL_MS = 10_000;

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
    const started = performance.now();
    const keys = await client.followWorkspace([{ path: root, name: 'sweep', qualify: false, files }]);
    const listedMs = performance.now() - started;
    await client.dispose();
    // What the host's thread does with them: parse every summary against the protocol.
    const raw = { type: 'runs', runs: [...summaries.values()] };
    const parseStarted = performance.now();
    if (!logsToHostSchema.parse(raw)) throw new Error('the summaries do not follow the protocol');
    const parseMs = performance.now() - parseStarted;
    const statuses = new Map<string, number>();
    for (const run of summaries.values()) statuses.set(run.status, (statuses.get(run.status) ?? 0) + 1);
    const bytes = JSON.stringify(raw).length;
    const report = [
      `\`npm run bench:sweep\` on ${cpuModel()}, Node ${process.version}: a sweep folder of ${keys.length.toLocaleString('en-US')} runs (a quarter each JSON lines and Lightning-style CSV of 300 steps, a TensorBoard dir and a trainer_state.json copied from test/fixtures/real), followed as the workspace's runs.`,
      '',
      '| measure | figure | goal |',
      '| --- | --- | --- |',
      `| found, read and diagnosed by the logs worker, until the workspace request is answered | ${(listedMs / 1000).toFixed(1)} s | ≤ 10 s: ${listedMs <= GOAL_MS ? 'met' : '**missed**'} |`,
      `| the summaries the host receives | ${messages.toLocaleString('en-US')} messages, ${(bytes / 1e6).toFixed(1)} MB as JSON | |`,
      `| the host parsing all of them against the protocol | ${parseMs.toFixed(1)} ms | |`,
      '',
      `Statuses: ${[...statuses].map(([status, n]) => `${status} ${n}`).join(', ')}. Not measured here: the Runs view drawing the rows, and a sweep table in the dashboard, which GradLens does not have yet.`,
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
