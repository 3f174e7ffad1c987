/**
 * `npm run bench:logs`: how fast GradLens ingests logs, against the bare cost
 * of reading the same bytes measured in the same run on the same machine.
 *
 * It writes a native JSON-lines log of --steps steps (default 1,000,000) with
 * 12 parameters, and the same data as TensorBoard events (one event per
 * scalar, as SummaryWriter.add_scalar writes them), then times:
 * - JSON lines: our reader into a Run, against read + JSON.parse per line
 *   (buffered reads, newline scan), and our key-scanning fast path alone
 *   against JSON.parse alone on the same lines in memory;
 * - TensorBoard: our reader into a Run, against read + TFRecord framing +
 *   CRC-32C per record, once with each CRC-32C (JavaScript, WebAssembly):
 *   the reader with the one the baseline uses, in rounds that alternate;
 * - memory after a full GC: it grows with the values kept, 16 bytes a
 *   point, not with the file, until a series is summarised (131,072 points);
 * - peak memory over a run's length: logs of 10^5, 10^6 and 10^7 steps
 *   (--memory-steps), each read and diagnosed in a fresh process the way
 *   the CLI and the language server do it; the peak resident size above
 *   that process's baseline. Goal: 10^7 steps within 2× the 10^5 one;
 * - gradient histograms: TensorBoard logs of 150 histogram tags a step
 *   (--histogram-steps), memory kept and the size of the dashboard's first
 *   message for the run.
 *
 * Options: --steps=N, --rounds=N (best of N, default 3), --dir=PATH (where
 * the generated files go; default a temporary folder, removed afterwards),
 * --only=ingest|histograms|memory, --memory-steps=N,N,...,
 * --histogram-steps=N,N,..., --no-write (print only).
 * Nothing asserts on a time: this is a report.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { concatBytes } from '../src/logs/bytes';
import { crc32c } from '../src/logs/formats/crc';
import { frameScanner, type CrcKind } from '../src/logs/formats/tfrecord';
import { JsonObjectScanner, newScannedRecord } from '../src/logs/formats/json-scan';
import { readJsonLines } from '../src/logs/formats/jsonl';
import { MAX_EVENT_BYTES, tfEventsReaderWith } from '../src/logs/formats/tfevents';
import { feedFile } from '../src/logs/files';
import { RunBuilder, type Run } from '../src/logs/run';
import type { ReaderFactory } from '../src/logs/sink';
import { encodeEvent, frameRecord, scalarEvent, torchHistogram } from '../test/logs/tfevents-writer';
import { toRunPayload } from '../src/report/payload';
import { encodeWire } from '../src/protocol/wire';
import { cpuModel, findGc, writeSection } from './report';
import { execFileSync } from 'node:child_process';
import { diagnose } from '../src/diagnosis/diagnose';
import { openRuns } from '../src/logs/open';
import { analyzeLogFile } from '../src/server/log-diagnostics';

const SECTION = 'Log ingest';
const MEMORY_SECTION = "Memory over a run's length";
const HISTOGRAM_SECTION = 'Gradient histograms';
/** Parameters whose gradient histogram the histogram runs log at every step: a model of about ResNet-50's or GPT-2's number of tensors. */
const HISTOGRAM_TAGS = 150;
const PARAMETERS = ['emb.weight', ...[0, 1].flatMap((l) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((p) => `lstm.${p}_l${l}`)), 'head.weight', 'head.bias', 'norm.weight'];

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
    only: { type: 'string' },
    'memory-steps': { type: 'string', default: '100000,1000000,10000000' },
    'histogram-steps': { type: 'string', default: '100,400' },
    /** Internal: measure one log in this process (see memoryOf). */
    child: { type: 'string' },
    path: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const STEPS = Number(args.steps);
const ROUNDS = Number(args.rounds);
const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * A mean-reverting walk in log space, so values look like a real run's (full float64
 * repr, as Python prints them). With `incident`, the LSTM's recurrent
 * weights explode 90% of the way through and the run goes NaN at 95%.
 */
function* records(steps: number, incident = false): Generator<{ step: number; loss: number; gradNorm: number; layers: number[] }> {
  let seed = 42;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const base = PARAMETERS.map(() => Math.log(0.01 + random()));
  const levels = [...base];
  const explodeAt = Math.floor(steps * 0.9);
  const nanAt = Math.floor(steps * 0.95);
  for (let step = 0; step < steps; step++) {
    const layers = levels.map((level, i) => {
      // Pulled back towards where it started, so a long run wanders as a real one does, not without bound.
      levels[i] = level + 0.05 * (random() - 0.5) - 0.01 * (level - base[i]);
      if (!incident || step < explodeAt) return Math.exp(levels[i]);
      if (step >= nanAt) return NaN;
      return PARAMETERS[i] === 'lstm.weight_hh_l0' ? Math.exp(levels[i]) * 10 ** Math.min(4, (step - explodeAt) / 10) : Math.exp(levels[i]);
    });
    yield { step, loss: step >= nanAt && incident ? NaN : 3 * Math.exp(-step / steps) + random() * 0.1, gradNorm: Math.hypot(...layers), layers };
  }
}

async function writeAll(file: string, chunks: Iterable<string | Uint8Array>): Promise<void> {
  const stream = createWriteStream(file);
  for (const chunk of chunks) if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function* nativeLines(steps: number, incident = false): Generator<string> {
  let batch = '';
  for (const r of records(steps, incident)) {
    const layers = PARAMETERS.map((name, i) => `"${name}": ${r.layers[i]}`).join(', ');
    batch += `{"step": ${r.step}, "loss": ${r.loss}, "grad_norm": ${r.gradNorm}, "lr": 0.001, "clipped": false, "layers": {${layers}}}\n`;
    if (batch.length > 1 << 20) {
      yield batch;
      batch = '';
    }
  }
  yield batch;
}

function* tensorboardRecords(steps: number): Generator<Uint8Array> {
  yield frameRecord(encodeEvent({ fileVersion: 'brain.Event:2' }));
  for (const r of records(steps)) {
    yield frameRecord(encodeEvent(scalarEvent(r.step, 'train/loss', r.loss)));
    yield frameRecord(encodeEvent(scalarEvent(r.step, 'grad_norm/total', r.gradNorm)));
    for (let i = 0; i < PARAMETERS.length; i++) yield frameRecord(encodeEvent(scalarEvent(r.step, `grad_norm/${PARAMETERS[i]}`, r.layers[i])));
  }
}

/** A file read into a Run; `limits` as RunBuilder's (Infinity: never summarised). */
async function readRun(file: string, reader: ReaderFactory, limits = RunBuilder.POINT_LIMITS): Promise<Run> {
  const builder = new RunBuilder({ id: 'bench', path: file, files: [file], format: 'jsonl' }, undefined, limits);
  const instance = reader(builder, file);
  await feedFile(file, (bytes) => instance.push(bytes));
  instance.end();
  return builder.runs()[0];
}

/** The baseline for JSON lines: the same buffered reads, a newline scan, JSON.parse per line. */
async function jsonParseBaseline(file: string): Promise<number> {
  const decoder = new TextDecoder();
  let pending = '';
  let parsed = 0;
  await feedFile(file, (bytes) => {
    const text = pending + decoder.decode(bytes, { stream: true });
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      if (newline > start) {
        JSON.parse(text.slice(start, newline));
        parsed++;
      }
      start = newline + 1;
    }
    pending = text.slice(start);
  });
  return parsed;
}

/** Interleaved rounds: each round runs every task once, in an order that reverses every round; the best time of each, in ms. */
async function bestInterleaved<K extends string>(rounds: number, tasks: Record<K, () => Promise<unknown>>): Promise<Record<K, number>> {
  const names = Object.keys(tasks) as K[];
  const fastest = Object.fromEntries(names.map((name) => [name, Infinity])) as Record<K, number>;
  for (let i = 0; i < rounds; i++) {
    for (const name of i % 2 === 0 ? names : [...names].reverse()) {
      const start = performance.now();
      await tasks[name]();
      fastest[name] = Math.min(fastest[name], performance.now() - start);
    }
  }
  return fastest;
}

/**
 * The baseline for TensorBoard: the same buffered reads, TFRecord framing and
 * CRC-32C of every record's data, each CRC in its fastest bare form: the
 * JavaScript one inline per record, the WebAssembly one in one call per chunk
 * (`FrameScanner.scan` without shapes, which also checks each header's CRC: a little more work).
 */
async function crcBaseline(file: string, kind: CrcKind): Promise<number> {
  const scanner = frameScanner(kind);
  let records = 0;
  let carry = new Uint8Array(0);
  await feedFile(file, (bytes) => {
    const data = carry.length > 0 ? concatBytes([carry, bytes]) : bytes;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 0;
    if (kind === 'wasm') {
      scanner.load(data);
      const count = scanner.scan(0, MAX_EVENT_BYTES);
      for (let k = 0; k < count; k++) {
        if (scanner.checksumHolds(k)) records++;
        at += 16 + scanner.dataLength(k);
      }
      carry = data.slice(at);
      return;
    }
    while (at + 12 <= data.length) {
      const length = view.getUint32(at, true);
      if (at + 16 + length > data.length) break;
      if (crc32c(data, at + 12, at + 12 + length) === 0x12345678) records--; // keeps the CRC from being optimised away
      records++;
      at += 16 + length;
    }
    carry = data.slice(at);
  });
  return records;
}

/** The first `limit` bytes of a file as whole lines: the bytes, and each line's [start, end). */
async function linesInMemory(file: string, limit: number): Promise<{ bytes: Uint8Array; starts: number[]; ends: number[] }> {
  const handle = await open(file);
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(limit), 0, limit, 0);
  await handle.close();
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
  const starts: number[] = [];
  const ends: number[] = [];
  for (let start = 0, newline = bytes.indexOf(10); newline >= 0; start = newline + 1, newline = bytes.indexOf(10, start)) {
    starts.push(start);
    ends.push(newline);
  }
  return { bytes, starts, ends };
}

function memoryAfterGc(gc: (() => void) | null): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const mbps = (bytes: number, ms: number) => bytes / 2 ** 20 / (ms / 1000);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** What one fresh process measured of reading and diagnosing one log (see `measureOne`). */
interface MemoryReport {
  /** Resident size before reading, after a GC. */
  baseline: number;
  /** Peak resident size above the baseline while reading and diagnosing. */
  peak: number;
  /** Heap and typed arrays still held by the result, after a GC. */
  kept: number;
  ms: number;
  steps: number;
  pointsKept: number;
  stride: number;
  maxNorm: number | null;
  maxStep: number | null;
  firstNonFiniteStep: number | null;
  findings: string[];
}

/**
 * In a fresh process: reads and diagnoses `file` as the CLI does (`openRuns`
 * then `diagnose`) or as the language server does (`analyzeLogFile`, which
 * also reads the file again to put each finding on its line).
 */
async function measureOne(file: string, how: string): Promise<MemoryReport> {
  const gc = findGc();
  const heapBefore = memoryAfterGc(gc);
  const baseline = process.memoryUsage().rss;
  const start = performance.now();
  const runs = how === 'server' ? undefined : await openRuns(file);
  const diagnosis = runs ? diagnose(runs[0]) : undefined;
  const analysis = how === 'server' ? await analyzeLogFile(file) : undefined;
  const ms = performance.now() - start;
  const peak = process.resourceUsage().maxRSS * 1024 - baseline;
  const kept = memoryAfterGc(gc) - heapBefore;
  const run = runs?.[0];
  const report: MemoryReport = {
    baseline,
    peak,
    kept,
    ms,
    steps: diagnosis?.steps ?? analysis?.runs[0]?.norms.steps.length ?? 0,
    pointsKept: run ? run.series.reduce((sum, s) => sum + s.steps.length, 0) : (analysis?.runs[0]?.norms.steps.length ?? 0),
    stride: run?.buckets?.stride ?? 1,
    maxNorm: diagnosis?.gradNorm.max ?? null,
    maxStep: diagnosis?.gradNorm.maxStep ?? null,
    firstNonFiniteStep: diagnosis?.gradNorm.firstNonFiniteStep ?? null,
    findings: (diagnosis?.findings ?? analysis?.findings ?? []).map((f) => `${f.kind}@${f.step}`),
  };
  return report;
}

const MB = (bytes: number) => fixed(bytes / 2 ** 20);

/** Peak memory over logs of each length, each measured in its own process, for both readers of a log. */
async function memoryOverLength(dir: string): Promise<string> {
  const lengths = String(args['memory-steps']).split(',').map(Number);
  const rows: string[] = [];
  const reports = new Map<string, MemoryReport>();
  for (const steps of lengths) {
    const file = path.join(dir, `memory-${steps}.jsonl`);
    log(`memory: writing ${steps.toLocaleString('en-US')} steps ...`);
    await writeAll(file, nativeLines(steps, true));
    const bytes = statSync(file).size;
    for (const how of ['cli', 'server']) {
      const out = execFileSync(process.execPath, ['--expose-gc', process.argv[1], `--child=${how}`, `--path=${file}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const report = JSON.parse(out) as MemoryReport;
      reports.set(`${how}:${steps}`, report);
      log(`memory: ${how} ${steps}: peak ${MB(report.peak)} MB above ${MB(report.baseline)} MB, ${fixed(report.ms / 1000)} s, ${report.findings.join(' ')}`);
      const what = how === 'cli' ? 'read + diagnose (CLI, logs worker)' : 'read + diagnose + place findings (language server)';
      const found = how === 'cli' ? `max ${report.maxNorm === null ? '–' : report.maxNorm.toExponential(3)} at ${report.maxStep}; first NaN at ${report.firstNonFiniteStep}; ${report.findings.join(', ')}` : report.findings.join(', ');
      rows.push(`| ${steps.toLocaleString('en-US')} | ${MB(bytes)} MB | ${what} | ${fixed(report.ms / 1000)} s | ${MB(report.peak)} MB | ${how === 'cli' ? `${report.pointsKept.toLocaleString('en-US')} (${report.stride === 1 ? 'every point' : `1 per ${report.stride} steps`})` : ''} | ${found} |`);
    }
    rmSync(file, { force: true });
  }
  const first = lengths[0];
  const last = lengths[lengths.length - 1];
  const ratios = ['cli', 'server'].map((how) => {
    const small = reports.get(`${how}:${first}`)!;
    const large = reports.get(`${how}:${last}`)!;
    return `${how === 'cli' ? 'CLI' : 'language server'} ${fixed(large.peak / small.peak, 2)}×`;
  });
  return [
    `Peak memory over a run's length (\`npm run bench:logs\`, ${cpuModel()}, Node ${process.version}): native JSON lines with ${PARAMETERS.length} parameters, an LSTM weight exploding at 90% of the run and NaN from 95%. Each log is read and diagnosed in a fresh process; peak is the largest resident size (getrusage) above that process's resident size before reading. Goal: ${last.toLocaleString('en-US')} steps within 2× the peak of ${first.toLocaleString('en-US')}.`,
    '',
    '| steps | log | path | time | peak above baseline | points kept | diagnosis |',
    '| ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Peak of ${last.toLocaleString('en-US')} steps against ${first.toLocaleString('en-US')}: ${ratios.join(', ')}.`,
  ].join('\n');
}

/** A run that logs torch's `add_histogram` of every parameter's gradient at every step (4,000 values each, TensorFlow's default buckets), and a loss. */
function* histogramRecords(steps: number): Generator<Uint8Array> {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-300)) * Math.cos(2 * Math.PI * random());
  yield frameRecord(encodeEvent({ fileVersion: 'brain.Event:2' }));
  for (let step = 0; step < steps; step++) {
    yield frameRecord(encodeEvent(scalarEvent(step, 'train/loss', 2 - step / steps)));
    for (let t = 0; t < HISTOGRAM_TAGS; t++) {
      const scale = 1e-3 * (1 + t / 10);
      yield frameRecord(encodeEvent({ step, values: [{ tag: `grad/layer${t}.weight`, histo: torchHistogram(Array.from({ length: 4000 }, () => gaussian() * scale)) }] }));
    }
  }
}

interface DashboardReport {
  baseline: number;
  peak: number;
  kept: number;
  ms: number;
  histograms: number;
  buckets: number;
  /** The dashboard's first message for the run, as the wire sends it; or why it could not be made. */
  wireBytes: number | null;
  error: string | null;
}

/** In a fresh process: reads and diagnoses a log as the logs worker does, then makes the dashboard's first message for it. */
async function measureDashboard(file: string): Promise<DashboardReport> {
  const gc = findGc();
  const heapBefore = memoryAfterGc(gc);
  const baseline = process.memoryUsage().rss;
  const start = performance.now();
  const [run] = await openRuns(file);
  const diagnosis = diagnose(run);
  const ms = performance.now() - start;
  const kept = memoryAfterGc(gc) - heapBefore;
  let wireBytes: number | null = null;
  let error: string | null = null;
  try {
    wireBytes = encodeWire({ type: 'show', runs: [toRunPayload(run, diagnosis)] }).length;
  } catch (thrown) {
    error = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  }
  return {
    baseline,
    peak: process.resourceUsage().maxRSS * 1024 - baseline,
    kept,
    ms,
    histograms: run.histograms.reduce((sum, h) => sum + h.histograms.length, 0),
    buckets: run.histograms.reduce((sum, h) => sum + h.histograms.reduce((n, x) => n + x.counts.length, 0), 0),
    wireBytes,
    error,
  };
}

/** Memory and the dashboard's message for runs of many histogram tags, each length in a fresh process. */
async function histogramMemory(dir: string): Promise<string> {
  const rows: string[] = [];
  for (const steps of String(args['histogram-steps']).split(',').map(Number)) {
    const file = path.join(dir, `events.out.tfevents.histograms-${steps}`);
    log(`histograms: writing ${HISTOGRAM_TAGS} tags × ${steps} steps ...`);
    await writeAll(file, histogramRecords(steps));
    const bytes = statSync(file).size;
    const report = JSON.parse(execFileSync(process.execPath, ['--expose-gc', process.argv[1], '--child=dashboard', `--path=${file}`], { encoding: 'utf8', maxBuffer: 1 << 26 })) as DashboardReport;
    log(`histograms: ${steps} steps: kept ${MB(report.kept)} MB, peak ${MB(report.peak)} MB, message ${report.wireBytes === null ? report.error : `${MB(report.wireBytes)} MB`}`);
    const message = report.wireBytes === null ? `not made: ${report.error}` : `${MB(report.wireBytes)} MB`;
    rows.push(`| ${steps.toLocaleString('en-US')} | ${(HISTOGRAM_TAGS * steps).toLocaleString('en-US')} | ${MB(bytes)} MB | ${fixed(report.ms / 1000)} s | ${report.histograms.toLocaleString('en-US')} | ${report.buckets.toLocaleString('en-US')} | ${MB(report.kept)} MB | ${MB(report.peak)} MB | ${message} |`);
    rmSync(file, { force: true });
  }
  return [
    `\`npm run bench:logs\` on ${cpuModel()}, Node ${process.version}: a TensorBoard log of ${HISTOGRAM_TAGS} gradient histograms a step (torch's \`add_histogram\` of 4,000 values over TensorFlow's default buckets, trimmed as torch trims them) and a loss, read and diagnosed as the logs worker does, then the dashboard's first message made for it, each length in a fresh process. Kept is the heap and typed arrays held after a full GC; peak the largest resident size above the process's before reading.`,
    '',
    '| steps | histograms logged | log | read + diagnose | histograms kept | buckets kept | kept | peak above baseline | dashboard message |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  if (args.child) {
    process.stdout.write(JSON.stringify(args.child === 'dashboard' ? await measureDashboard(String(args.path)) : await measureOne(String(args.path), args.child)));
    return;
  }
  const dir = args.dir ?? mkdtempSync(path.join(os.tmpdir(), 'gradlens-bench-'));
  try {
    if (args.only === undefined || args.only === 'ingest') await ingest(dir);
    if (args.only === undefined || args.only === 'histograms') {
      const section = await histogramMemory(dir);
      process.stdout.write(`${section}\n`);
      if (!args['no-write']) writeSection(HISTOGRAM_SECTION, section);
    }
    if (args.only === undefined || args.only === 'memory') {
      const section = await memoryOverLength(dir);
      process.stdout.write(`${section}\n`);
      if (!args['no-write']) {
        writeSection(MEMORY_SECTION, section);
        log(`wrote the section "${MEMORY_SECTION}" of BENCHMARKS.md`);
      }
    }
  } finally {
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Ingest speed against the bare read, and memory a point. */
async function ingest(dir: string): Promise<void> {
  const jsonl = path.join(dir, 'grads.jsonl');
  const tfevents = path.join(dir, 'events.out.tfevents.bench');
  {
    log(`generating ${STEPS.toLocaleString('en-US')} steps × ${PARAMETERS.length} parameters in ${dir} ...`);
    await writeAll(jsonl, nativeLines(STEPS));
    await writeAll(tfevents, tensorboardRecords(STEPS));
    const jsonBytes = statSync(jsonl).size;
    const tbBytes = statSync(tfevents).size;
    log(`JSON lines ${fixed(jsonBytes / 2 ** 20)} MB, TensorBoard ${fixed(tbBytes / 2 ** 20)} MB`);

    const { jsonBaseline, jsonOurs } = await bestInterleaved(ROUNDS, {
      jsonBaseline: () => jsonParseBaseline(jsonl),
      jsonOurs: () => readRun(jsonl, readJsonLines),
    });
    log(`JSON lines: baseline ${fixed(mbps(jsonBytes, jsonBaseline))} MB/s, ours ${fixed(mbps(jsonBytes, jsonOurs))} MB/s`);

    // JSON.parse gets its lines as strings, decoded before the clock starts; the scan reads the bytes.
    const sample = await linesInMemory(jsonl, 64 << 20);
    const decoder = new TextDecoder();
    const texts = sample.starts.map((start, i) => decoder.decode(sample.bytes.subarray(start, sample.ends[i])));
    const scanner = new JsonObjectScanner();
    const record = newScannedRecord();
    const { parseOnly, scanOnly } = await bestInterleaved(ROUNDS, {
      parseOnly: async () => texts.forEach((line) => JSON.parse(line)),
      scanOnly: async () => sample.starts.forEach((start, i) => scanner.scan(sample.bytes, start, sample.ends[i], record)),
    });
    log(`${texts.length.toLocaleString('en-US')} lines in memory: JSON.parse ${fixed(parseOnly)} ms, key scan ${fixed(scanOnly)} ms`);

    const tb = await bestInterleaved(ROUNDS, {
      baselineJs: () => crcBaseline(tfevents, 'js'),
      oursJs: () => readRun(tfevents, tfEventsReaderWith('js')),
      baselineWasm: () => crcBaseline(tfevents, 'wasm'),
      oursWasm: () => readRun(tfevents, tfEventsReaderWith('wasm')),
    });
    log(`TensorBoard, JavaScript CRC-32C: baseline ${fixed(mbps(tbBytes, tb.baselineJs))} MB/s, ours ${fixed(mbps(tbBytes, tb.oursJs))} MB/s`);
    log(`TensorBoard, WebAssembly CRC-32C: baseline ${fixed(mbps(tbBytes, tb.baselineWasm))} MB/s, ours ${fixed(mbps(tbBytes, tb.oursWasm))} MB/s`);

    const gc = findGc();
    const before = memoryAfterGc(gc);
    // Every point kept, so the figure is the cost of a point; a diagnosed run stops growing at 131,072 a series (memoryOverLength).
    const run = await readRun(jsonl, readJsonLines, { perSeries: Infinity, perRun: Infinity });
    const points = run.series.reduce((sum, s) => sum + s.steps.length, 0);
    const after = memoryAfterGc(gc);
    const kept = after - before;
    log(`memory: ${fixed(kept / 2 ** 20)} MB kept for ${points.toLocaleString('en-US')} points (${fixed(kept / points)} bytes a point) from a ${fixed(jsonBytes / 2 ** 20)} MB file`);

    const rows = [
      ['JSON lines (native), reader into a Run', fixed(mbps(jsonBytes, jsonOurs)), fixed(mbps(jsonBytes, jsonBaseline)), 'read + JSON.parse per line', fixed(jsonOurs / jsonBaseline === 0 ? 0 : jsonBaseline / jsonOurs, 2)],
      ['TensorBoard events, reader into a Run, JavaScript CRC-32C', fixed(mbps(tbBytes, tb.oursJs)), fixed(mbps(tbBytes, tb.baselineJs)), 'read + CRC-32C per record (JavaScript)', fixed(tb.baselineJs / tb.oursJs, 2)],
      ['TensorBoard events, reader into a Run, WebAssembly CRC-32C (the default)', fixed(mbps(tbBytes, tb.oursWasm)), fixed(mbps(tbBytes, tb.baselineWasm)), 'read + CRC-32C per record (WebAssembly, one call per chunk)', fixed(tb.baselineWasm / tb.oursWasm, 2)],
    ];
    const section = [
      `\`npm run bench:logs\` on ${cpuModel()}, Node ${process.version}, ${STEPS.toLocaleString('en-US')} steps with ${PARAMETERS.length} parameters (${fixed(jsonBytes / 2 ** 20)} MB of JSON lines; ${fixed(tbBytes / 2 ** 20)} MB of TensorBoard events, one event per scalar), best of ${ROUNDS}. Each baseline is measured in the same run on the same files, in rounds alternating with our reader; the goal is a ratio of 0.85 or more.`,
      '',
      '| input | ours MB/s | baseline MB/s | baseline | ratio (ours/baseline) |',
      '| --- | ---: | ---: | --- | ---: |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `TensorBoard rounds alternate the four measurements (each side with each CRC), best of ${ROUNDS} each. The default reader (WebAssembly CRC-32C) against the JavaScript-CRC baseline: ${fixed(tb.baselineJs / tb.oursWasm, 2)}; the two baselines: WebAssembly CRC-32C ${fixed(tb.baselineJs / tb.baselineWasm, 2)}× the JavaScript one's speed.`,
      '',
      `Key-scanning fast path against JSON.parse alone, on the same ${texts.length.toLocaleString('en-US')} lines in memory (JSON.parse given them as strings, the scan as bytes): ${fixed(scanOnly)} ms against ${fixed(parseOnly)} ms (${fixed(parseOnly / scanOnly, 2)}× JSON.parse's speed), and the scan also walks every key, which JSON.parse leaves to a second pass.`,
      '',
      `Memory${gc ? ' after a full GC' : ' (no GC available: includes garbage)'}: ${fixed(kept / 2 ** 20)} MB kept for ${points.toLocaleString('en-US')} points, ${fixed(kept / points)} bytes a point (steps and values as float64, with doubling buffers), from a ${fixed(jsonBytes / 2 ** 20)} MB file.`,
    ].join('\n');
    process.stdout.write(`${section}\n`);
    if (!args['no-write']) {
      writeSection(SECTION, section);
      log('wrote the section "Log ingest" of BENCHMARKS.md');
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:logs failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
