/**
 * `npm run bench:sweep`: a sweep folder of 1,000 runs, a quarter each JSON
 * lines, Lightning-style CSV, TensorBoard and trainer_state.json, as the
 * Runs view gets it: the logs worker finds, reads and diagnoses them all
 * (the workspace request the extension sends), and the host parses their
 * summaries. Goal: listed with statuses within 10 s.
 *
 *   npm run bench:sweep [-- --runs=N --no-write]
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LogsWorkerClient } from '../src/worker/logs-client';
import { logsToHostSchema, type RunSummary } from '../src/worker/logs-protocol';
import { DEFAULT_LOGS_SETTINGS } from '../src/worker/logs-service';
import { buildBundles } from '../test/bundles';
import { cpuModel, writeSection } from './report';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, 'no-write': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
const GOAL_MS = 10_000;
const REAL = path.join(__dirname, '..', 'test', 'fixtures', 'real');

/** One run folder per learning rate; returns the files the log globs would match. */
function writeSweep(root: string): string[] {
  const files: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(root, `lr-${i}`);
    mkdirSync(dir, { recursive: true });
    const explodes = i % 10 === 0;
    switch (i % 4) {
      case 0: {
        const file = path.join(dir, 'grads.jsonl');
        const lines = Array.from({ length: 300 }, (_, s) => JSON.stringify({ step: s, loss: 2 - s / 300, grad_norm: 1 + (s % 7) + (explodes && s > 200 ? 1e4 : 0), layers: { 'rnn.weight_hh_l0': 0.5, 'head.weight': 0.3 } }));
        writeFileSync(file, lines.join('\n') + '\n');
        files.push(file);
        break;
      }
      case 1: {
        const file = path.join(dir, 'metrics.csv');
        writeFileSync(file, 'step,train_loss,grad_2.0_norm_total\n' + Array.from({ length: 300 }, (_, s) => `${s},${2 - s / 300},${1 + (s % 5)}`).join('\n') + '\n');
        files.push(file);
        break;
      }
      case 2: {
        const tb = path.join(dir, 'tb');
        cpSync(path.join(REAL, 'torch_rnn_orthogonal_clip1', 'tb'), tb, { recursive: true });
        for (const name of readdirSync(tb)) files.push(path.join(tb, name));
        break;
      }
      default: {
        const file = path.join(dir, 'trainer_state.json');
        cpSync(path.join(REAL, 'hf_gpt2_lr3e-4_clip1', 'trainer_state.json'), file);
        files.push(file);
      }
    }
  }
  return files;
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gradlens-sweep-'));
  try {
    const files = writeSweep(root);
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
