/**
 * `npm run bench:server`: what the language server costs on big inputs.
 * - A 5,000-line training script (the test corpus's scripts repeated):
 *   parsing alone, and the whole analysis (parse + model + rules); the
 *   rules' share is the difference. Goal: under 50 ms after parsing.
 * - Log files of 25 and 100 MB (native JSON lines, 12 parameters): the time
 *   to read, diagnose and place every finding on its line, and the peak
 *   resident memory above the baseline while doing it, to show how memory
 *   grows (the goal is memory independent of the file's size).
 * Medians: of 4 × --rounds runs after warm-up for the script, of --rounds
 * (at most 3) for the logs. Nothing asserts on a time: this is a report.
 */
import { copyFileSync, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PythonAnalyzer } from '../src/python/analyzer';
import { analyzeLogFile } from '../src/server/log-diagnostics';
import { cpuModel, findGc, writeSection } from './report';

const ROOT = path.join(__dirname, '..');
const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, 'no-write': { type: 'boolean', default: false } } });
const ROUNDS = Number(args.rounds);
/** The script analyses take a fraction of a second: more of them steady the medians on a busy machine. */
const SCRIPT_ROUNDS = 4 * ROUNDS;
const SCRIPT_WARMUP = 3;
const PARAMETERS = Array.from({ length: 12 }, (_, i) => `layers.${i}.weight`);
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(0)} ms`;

function bigScript(lines: number): string {
  const corpus = path.join(ROOT, 'test/python-rules/corpus');
  const scripts = readdirSync(corpus).filter((f) => f.endsWith('.py')).sort().map((f) => readFileSync(path.join(corpus, f), 'utf8'));
  const parts: string[] = [];
  let count = 0;
  for (let i = 0; count < lines; i++) {
    const script = scripts[i % scripts.length];
    parts.push(script);
    count += script.split('\n').length;
  }
  return parts.join('\n');
}

/** A native JSON-lines log of about `bytes`, with an explosion at 60 % and a few spikes. */
async function writeLog(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let step = 0;
  let seed = 3;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const estimatedSteps = bytes / 330;
  while (written < bytes) {
    const scale = step > 0.6 * estimatedSteps && step < 0.6 * estimatedSteps + 20 ? 1e6 : step % 9973 === 0 ? 50 : 1;
    const layers: Record<string, number> = {};
    let squares = 0;
    for (const name of PARAMETERS) {
      const v = scale * (0.05 + 0.1 * random());
      layers[name] = Number(v.toPrecision(6));
      squares += v * v;
    }
    const line = JSON.stringify({ step, loss: Number((2 + random()).toFixed(5)), grad_norm: Number(Math.sqrt(squares).toPrecision(6)), lr: 0.001, layers }) + '\n';
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += line.length;
    step++;
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return step;
}

/** Time, peak resident memory above the baseline while `work` runs, and the memory its result keeps once collected garbage is gone (what an open log costs the server). */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peakMB: number; keptMB: number }> {
  const gc = findGc();
  gc?.();
  const baseline = process.memoryUsage().rss;
  const baselineHeld = held();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const result = await work();
  const elapsed = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  gc?.();
  return { result, ms: elapsed, peakMB: (peak - baseline) / 1e6, keptMB: Math.max(0, held() - baselineHeld) / 1e6 };
}

/** Bytes the JavaScript heap and typed arrays hold: freed memory counts at once, unlike the resident size, which the allocator returns late. */
function held(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

async function run(): Promise<void> {
  // Both wasm files in one folder, as in dist/.
  const wasmDir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-bench-wasm-'));
  for (const file of ['node_modules/web-tree-sitter/tree-sitter.wasm', 'node_modules/tree-sitter-python/tree-sitter-python.wasm']) copyFileSync(path.join(ROOT, file), path.join(wasmDir, path.basename(file)));
  const analyzer = await PythonAnalyzer.load(wasmDir);
  const script = bigScript(5000);
  const lines = script.split('\n').length;
  const parse: number[] = [];
  const whole: number[] = [];
  // The rules' share is taken round by round (analysis minus the parse just before it), so both see the machine in the same state.
  const afterParsing: number[] = [];
  let findings = 0;
  for (let r = 0; r < SCRIPT_WARMUP + SCRIPT_ROUNDS; r++) {
    let t = performance.now();
    analyzer.parsesCleanly(script);
    const p = performance.now() - t;
    t = performance.now();
    findings = analyzer.analyze(script).length;
    const w = performance.now() - t;
    if (r >= SCRIPT_WARMUP) {
      parse.push(p);
      whole.push(w);
      afterParsing.push(w - p);
    }
  }
  log(`script: ${lines} lines, ${findings} findings, parse ${ms(median(parse))}, analyze ${ms(median(whole))}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-bench-server-'));
  const logRows: string[] = [];
  for (const mb of [25, 100]) {
    const file = path.join(dir, `run-${mb}.jsonl`);
    const steps = await writeLog(file, mb * 1e6);
    const size = statSync(file).size;
    const runs: Array<{ ms: number; peakMB: number; keptMB: number }> = [];
    let found = 0;
    for (let r = 0; r < Math.min(ROUNDS, 3); r++) {
      const m = await measured(() => analyzeLogFile(file));
      found = m.result?.findings.length ?? 0;
      runs.push(m);
    }
    const row = `| ${(size / 1e6).toFixed(0)} MB, ${steps.toLocaleString('en-US')} steps | ${ms(median(runs.map((x) => x.ms)))} | ${median(runs.map((x) => x.peakMB)).toFixed(0)} MB | ${median(runs.map((x) => x.keptMB)).toFixed(0)} MB | ${found} |`;
    log(row);
    logRows.push(row);
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(wasmDir, { recursive: true, force: true });

  const rules = median(afterParsing);
  const text = [
    `\`npm run bench:server\` on ${cpuModel()}, Node ${process.version}: the script's figures are medians of ${SCRIPT_ROUNDS} runs after ${SCRIPT_WARMUP} warm-up runs (a server analyses the same code again at every pause in typing), the logs' of ${Math.min(ROUNDS, 3)}.`,
    '',
    `A ${lines.toLocaleString('en-US')}-line training script (the test corpus's scripts repeated; ${findings} findings):`,
    '',
    '| measure | time | goal |',
    '| --- | --- | --- |',
    `| parse (tree-sitter, wasm) | ${ms(median(parse))} | |`,
    `| whole analysis (parse, model, rules GL001–GL007) | ${ms(median(whole))} | |`,
    `| after parsing (model and rules; median of each run's analysis minus its parse) | ${ms(rules)} | under 50 ms: ${rules < 50 ? 'met' : 'missed'} |`,
    '',
    'Log files (native JSON lines, 12 parameters): read from disk in a stream, diagnosed, every finding placed on its line (`analyzeLogFile`, what the server does when a log is opened or grows). Peak memory is the resident size above the baseline during the analysis; kept is what stays while the log is open (the heap and typed arrays the analysis holds once garbage is collected):',
    '',
    '| log | time | peak memory | kept | findings |',
    '| --- | --- | --- | --- | --- |',
    ...logRows,
    '',
    "Reading streams in chunks, and a series keeps at most 131,072 points (a longer run is summarised as it is read, one point per bucket of steps: README, *Long runs*), so the peak stops growing with the log there: the 100 MB log (247,529 steps) is summarised, the 25 MB one is kept whole. *Memory over a run's length* measures this path up to 10,000,000 steps. What stays while the log is open is what hovers show: the total norm of every point kept and each parameter's norm at those points (8 bytes per parameter and point, without the parameters' own step arrays); the loss, learning rate and events are let go.",
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (!args['no-write']) writeSection('Language server', text);
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
