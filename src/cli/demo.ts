import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { diagnose } from '../diagnosis/diagnose';
import { findPreset } from '../engine/presets';
import { openRuns } from '../logs/open';
import { clipLabel, summarize, type RunSummary } from '../engine/summary';
import { textReport } from './analyze';
import type { CommandSpec, Parsed } from './args';
import { writeReport } from './report';
import { trainRuns } from './train';

export const demoSpec: CommandSpec = {
  name: 'demo',
  summary: 'Trains the exploding vanilla RNN with and without norm clipping, writes both logs and says what happened.',
  usage: 'gradlens demo [--out-dir DIR]',
  positionals: [0, 0],
  options: [{ name: 'out-dir', type: { kind: 'string', placeholder: 'a folder' }, help: 'where the logs go (default gradlens-demo)' }],
};

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2 ? v.toExponential(2) : v.toFixed(3)) : String(v));

function row(id: string, clip: string, s: RunSummary): string {
  const cells = [
    id.padEnd(14),
    clip.padEnd(10),
    `${fmt(s.firstLoss)} → ${fmt(s.lastLoss)}`.padEnd(22),
    `${fmt(s.maxGradNorm)} @${s.maxGradNormStep}`.padEnd(16),
    (s.firstNonFiniteStep === null ? '-' : String(s.firstNonFiniteStep)).padEnd(10),
    `${(100 * s.clippedFraction).toFixed(0)}%`.padEnd(8),
    s.backwardGrowth === null ? '-' : fmt(s.backwardGrowth),
  ];
  return cells.join(' ');
}

export async function demoCommand(parsed: Parsed, workerPath: string): Promise<number> {
  const dir = (parsed.options.get('out-dir') as string | undefined) ?? 'gradlens-demo';
  mkdirSync(dir, { recursive: true });
  const runs = ['rnn-exploding', 'rnn-clipped'].map((name) => findPreset(name)!.runs[0]);
  const c = runs[0].config;
  process.stdout.write(
    `Training a vanilla ${c.nonlinearity ?? 'tanh'} RNN (hidden ${c.hiddenSize}, T=${c.seqLen}, recurrent spectral radius ${c.radius}, ${c.optimizer.toUpperCase()} lr ${c.lr}) twice: without and with ${clipLabel(runs[1].config.clip)} clipping.\n\n`,
  );
  const results = [];
  for (const run of runs) {
    results.push(...(await trainRuns([run], workerPath, path.join(dir, `${run.id}.jsonl`), process.stderr, process.stdout)));
  }
  process.stdout.write(`${['run'.padEnd(14), 'clip'.padEnd(10), 'loss first → last'.padEnd(22), 'max ‖g‖ @step'.padEnd(16), 'first NaN'.padEnd(10), 'clipped'.padEnd(8), '‖∂L/∂h_0‖ / ‖∂L/∂h_T‖'].join(' ')}\n`);
  const summaries = results.map((r) => summarize(r.records));
  results.forEach((r, i) => process.stdout.write(row(r.id, clipLabel(r.config.clip), summaries[i]) + '\n'));
  const [raw, clipped] = summaries;
  process.stdout.write('\nWhat happened:\n');
  process.stdout.write(
    `- Without clipping, the gradient norm reached ${fmt(raw.maxGradNorm)} at step ${raw.maxGradNormStep}` +
      (raw.firstNonFiniteStep !== null ? ` and the run produced NaN from step ${raw.firstNonFiniteStep} on.\n` : `; the loss went ${fmt(raw.firstLoss)} → ${fmt(raw.lastLoss)}.\n`),
  );
  const radii = results[0].records.flatMap((r) => (r.spectral ? [{ step: r.step, radius: r.spectral['rnn.weight_hh_l0'].radius[0] }] : []));
  const peak = radii.reduce((a, b) => (b.radius > a.radius ? b : a), radii[0]);
  if (peak && raw.backwardGrowth !== null) {
    process.stdout.write(
      `- Why: the recurrent weight starts with spectral radius ${fmt(radii[0].radius)}, so the hidden state saturates tanh and ‖∂L/∂h_0‖ is only ${fmt(raw.backwardGrowth)}× ‖∂L/∂h_T‖ at first; ` +
        `but each large update enlarges W_hh (radius ${fmt(peak.radius)} by step ${peak.step}), which makes the next gradient larger still: a feedback loop that clipping breaks.\n`,
    );
  }
  process.stdout.write(
    `- With clip_grad_norm_(max_norm=1.0) the raw norm still peaks at ${fmt(clipped.maxGradNorm)}, but every update is at most 1.0 long: ` +
      `clipping acted on ${(100 * clipped.clippedFraction).toFixed(0)}% of steps and the loss went ${fmt(clipped.firstLoss)} → ${fmt(clipped.lastLoss)}.\n`,
  );
  process.stdout.write(`\nLogs (GradLens JSON lines): ${results.map((r) => r.file).join(', ')}\n`);
  process.stdout.write('\nWhat `gradlens analyze` reads in these logs:\n\n');
  for (const { file } of results) {
    if (file === undefined) continue;
    for (const run of await openRuns(file)) process.stdout.write(`${textReport(run, diagnose(run))}\n\n`);
  }
  const logs = results.flatMap((r) => (r.file === undefined ? [] : [r.file]));
  // The demo's folder is its own: running it again replaces its report, as it replaces its logs.
  const [report] = await writeReport(logs, { out: path.join(dir, 'report.html'), force: true });
  process.stdout.write(`The dashboard of both runs, overlaid (one self-contained HTML file; open it in any browser): ${report}\n`);
  return 0;
}
