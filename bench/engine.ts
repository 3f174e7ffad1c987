/**
 * `npm run bench:engine`: one float32 training step of our engine against
 * PyTorch on the CPU, same shapes, in one run, and a heap check over many
 * steps. Writes the section "Training step vs PyTorch" of BENCHMARKS.md.
 *
 * Two PyTorch peers run interleaved with ours: Debian's torch with the
 * system's default BLAS (what update-alternatives selects: the reference
 * libblas3 on a stock install), and the same torch with OpenBLAS
 * (libopenblas0-pthread) put in front for that process alone through
 * LD_LIBRARY_PATH. Each reports the BLAS it really loaded.
 *
 * Options: --rounds=N (timing rounds, default 5), --memory-steps=N (length of
 * the heap check, default 10000; the first reading is at a tenth of it),
 * --no-write (print only).
 *
 * Nothing here asserts on a time: the machine is shared and noisy, so the
 * output is a report, never a pass/fail.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { cpuModel, findGc, writeSection } from './report';
import { Graph } from '../src/engine/graph';
import { wasmSimdAvailable } from '../src/engine/kernels/wasm-gemm';
import { createModel } from '../src/engine/models';
import { lossOf } from '../src/engine/ops/loss';
import { Random } from '../src/engine/random';
import { Tensor } from '../src/engine/tensor';
import { chooseGemm, chooseTranscendentals, DEFAULT_CONFIG, Trainer, type TrainConfig } from '../src/engine/trainer';

type ModelName = 'rnn' | 'lstm' | 'gru';

interface Case {
  model: ModelName;
  hidden: number;
}

const CASES: readonly Case[] = [
  { model: 'rnn', hidden: 64 },
  { model: 'lstm', hidden: 128 },
  { model: 'gru', hidden: 128 },
];
const INPUT = 16;
const SEQ_LEN = 100;
const BATCH = 32;

/** Long enough that timer resolution and one stray interrupt do not matter, short enough that rounds interleave finely. */
const BLOCK_MS = 400;
/** V8 needs a few steps to tier up the hot loops; anything measured before that is compile time. */
const WARMUP_MS = 600;
const WARMUP_STEPS = 3;
/** The plain kernel is a reference column, and a single LSTM step with it takes over a second. */
const PLAIN_ROUNDS = 3;

const TORCH_PYTHON = '/usr/bin/python3'; // Debian's python3-torch is installed for the system interpreter only
const TORCH_SCRIPT = path.join(__dirname, 'torch_step.py');
/** Debian's libopenblas0-pthread puts its libblas.so.3 here, outside the loader's default path. */
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

/** One PyTorch process to compare with, told apart by the BLAS it loads. */
interface Peer {
  /** Column label. */
  label: string;
  /** The process environment: the system BLAS peer must not inherit an LD_LIBRARY_PATH, the OpenBLAS one sets it. */
  env: NodeJS.ProcessEnv;
  /** Why this peer cannot run on this machine, checked before starting it; null when it can. */
  missing: () => string | null;
  /** The BLAS it must have loaded (from /proc/self/maps) to count as this peer. */
  expects: RegExp | null;
}

function peers(): Peer[] {
  const { LD_LIBRARY_PATH: inherited, ...withoutLibraryPath } = process.env;
  return [
    { label: 'system BLAS', env: withoutLibraryPath, missing: () => null, expects: null },
    {
      label: 'OpenBLAS',
      env: { ...withoutLibraryPath, LD_LIBRARY_PATH: inherited ? `${OPENBLAS_DIR}:${inherited}` : OPENBLAS_DIR },
      missing: () =>
        existsSync(path.join(OPENBLAS_DIR, 'libblas.so.3')) ? null : `${OPENBLAS_DIR}/libblas.so.3 not found: install it with apt-get install -y libopenblas0-pthread`,
      expects: /openblas/i,
    },
  ];
}
const SECTION = 'Training step vs PyTorch';

function trainConfig(c: Case, kernel: TrainConfig['kernel'], steps: number): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    model: c.model, inputSize: INPUT, hiddenSize: c.hidden, layers: 1, seqLen: SEQ_LEN, batch: BATCH,
    task: 'memory', init: 'default', optimizer: 'sgd', lr: 0.01, clip: { mode: 'norm', maxNorm: 1 },
    dtype: 'float32', instrumentEvery: 0, steps, kernel,
  };
}

/** Times one step-like action; `run(n)` runs n of them and returns the mean ms per step. */
interface Timed {
  run(steps: number): number;
}

function trainerStep(c: Case, kernel: TrainConfig['kernel']): Timed {
  const trainer = new Trainer(trainConfig(c, kernel, Number.MAX_SAFE_INTEGER));
  return {
    run(steps) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) trainer.step();
      return (performance.now() - t0) / steps;
    },
  };
}

/**
 * Forward and backward alone, on a graph built the way Trainer builds it but
 * without the batch generation, norms, clipping and update around them.
 */
function forwardBackward(c: Case): Timed {
  const rng = new Random(0);
  const model = createModel('float32', { kind: c.model, inputSize: INPUT, hiddenSize: c.hidden, numLayers: 1, outputSize: 1, output: 'last' }, rng);
  const params = model.parameters().map(([, t]) => t);
  const g = new Graph('float32', chooseGemm('float32'), chooseTranscendentals());
  const input = Tensor.zeros('float32', [BATCH, SEQ_LEN, INPUT], false, 'input');
  const target = Tensor.zeros('float32', [BATCH, 1], false, 'target');
  for (let i = 0; i < input.size; i++) input.data[i] = rng.normal();
  for (let b = 0; b < BATCH; b++) target.data[b] = rng.normal();
  const loss = lossOf(g, 'mse', model.forward(g, input).prediction, target);
  return {
    run(steps) {
      let ms = 0;
      for (let i = 0; i < steps; i++) {
        // Zeroing is the optimizer's job in a real step, so it stays outside the timed span.
        for (const p of params) p.grad?.fill(0);
        const t0 = performance.now();
        g.forward();
        g.backward(loss);
        ms += performance.now() - t0;
      }
      return ms / steps;
    },
  };
}

/** Runs the warm-up and returns a per-step estimate from its second half, to size the timed blocks. */
function warmUp(timed: Timed): number {
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < WARMUP_STEPS || performance.now() - t0 < WARMUP_MS) times.push(timed.run(1));
  return median(times.slice(Math.floor(times.length / 2)));
}

function blockSteps(estimateMs: number): number {
  return Math.max(1, Math.min(200, Math.round(BLOCK_MS / estimateMs)));
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------- PyTorch side

interface TorchInfo {
  torch: string;
  python: string;
  threads: number;
  blas: string;
}

interface TorchBlock {
  stepMs: number;
  fwdBwdMs: number;
  /** Threads of the Python process after the block (a BLAS ignoring the one-thread settings shows here). */
  osThreads: number;
}

type Json = Record<string, unknown>;

function isJson(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`torch_step.py: expected a string "${key}" in ${JSON.stringify(o)}`);
  return v;
}

function num(o: Json, key: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`torch_step.py: expected a number "${key}" in ${JSON.stringify(o)}`);
  return v;
}

/**
 * A long-lived torch_step.py --serve: one import of torch for the whole run,
 * and each block is a request, so PyTorch's blocks can sit right next to ours.
 * While we time our side it is blocked on stdin and uses no CPU.
 */
class TorchProcess {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | null) => void> = [];
  private closed = false;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    const end = (): void => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    };
    child.on('close', end);
    child.on('error', (err) => {
      this.stderr += String(err);
      end();
    });
  }

  /** Starts the server; resolves to the process and its versions, or to the reason PyTorch is unavailable. */
  static async start(peer: Peer): Promise<{ process: TorchProcess; info: TorchInfo } | { unavailable: string }> {
    const missing = peer.missing();
    if (missing) return { unavailable: missing };
    const child = spawn(TORCH_PYTHON, [TORCH_SCRIPT, '--serve'], {
      // torch.set_num_threads does not reach an OpenMP- or pthread-built BLAS: pin those too.
      env: { ...peer.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p = new TorchProcess(child);
    const first = await p.nextLine();
    let reply: unknown = null;
    try {
      reply = first === null ? null : JSON.parse(first);
    } catch {
      // reported below together with stderr
    }
    if (!isJson(reply) || reply.ready !== true) {
      p.close();
      const reason = isJson(reply) && typeof reply.error === 'string' ? reply.error : p.stderr.trim().split('\n').pop() || 'no reply';
      return { unavailable: `${TORCH_PYTHON} cannot run PyTorch (${reason})` };
    }
    const info = { torch: str(reply, 'torch'), python: str(reply, 'python'), threads: num(reply, 'threads'), blas: str(reply, 'blas') };
    if (peer.expects && !peer.expects.test(info.blas)) {
      p.close();
      return { unavailable: `it loaded ${describeBlas(info.blas)} instead` };
    }
    return { process: p, info };
  }

  async measure(c: Case, warmup: number, steps: number): Promise<TorchBlock> {
    if (this.closed) throw new Error(`torch_step.py exited: ${this.stderr.trim()}`);
    this.child.stdin.write(JSON.stringify({ model: c.model, hidden: c.hidden, warmup, steps }) + '\n');
    const line = await this.nextLine();
    if (line === null) throw new Error(`torch_step.py exited: ${this.stderr.trim()}`);
    const reply: unknown = JSON.parse(line);
    if (!isJson(reply)) throw new Error(`torch_step.py: unexpected reply ${line}`);
    if (typeof reply.error === 'string') throw new Error(`torch_step.py: ${reply.error}`);
    return { stepMs: num(reply, 'step_ms'), fwdBwdMs: num(reply, 'fwd_bwd_ms'), osThreads: num(reply, 'os_threads') };
  }

  close(): void {
    if (!this.closed) this.child.stdin.end();
  }

  private nextLine(): Promise<string | null> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Reference BLAS vs an optimised one moves PyTorch's times several-fold, so the report names it. */
function describeBlas(paths: string): string {
  if (isReferenceBlas(paths)) return `reference BLAS, Debian libblas3 (${paths})`;
  if (/openblas/i.test(paths)) return `OpenBLAS (${paths})`;
  if (/blis/i.test(paths)) return `BLIS (${paths})`;
  if (/mkl/i.test(paths)) return `MKL (${paths})`;
  return paths;
}

function isReferenceBlas(paths: string): boolean {
  return /\/blas\/libblas\.so/.test(paths);
}

// ---------------------------------------------------------------- memory

interface HeapReading {
  steps: number;
  heapUsed: number;
  arrayBuffers: number;
}

function heapCheck(checkpoints: readonly number[]): { readings: HeapReading[]; gc: boolean } {
  const gc = findGc();
  // Typed-array storage is released only after its wrappers are finalised, which takes more than one collection.
  const collect = (): void => {
    gc?.();
    gc?.();
  };
  collect();
  const trainer = new Trainer(trainConfig(CASES[0], 'auto', checkpoints[checkpoints.length - 1]));
  const readings: HeapReading[] = [];
  let done = 0;
  for (const at of checkpoints) {
    while (done < at) {
      trainer.step();
      done++;
    }
    collect();
    const m = process.memoryUsage();
    readings.push({ steps: at, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers });
  }
  return { readings, gc: gc !== null };
}

// ---------------------------------------------------------------- report

/** A peer's medians for one case; null when the peer did not run (or failed part-way). */
interface PeerTimes {
  step: number | null;
  fwdBwd: number | null;
}

interface Row {
  c: Case;
  ours: number;
  plain: number;
  oursFwdBwd: number;
  peers: PeerTimes[];
}

function headers(labels: readonly string[]): string[] {
  return [
    'model', 'H', 'ours ms/step', '(plain TS)',
    ...labels.flatMap((l) => [`torch, ${l}`, `ratio vs ${l}`]),
    'fwd+bwd ours',
    ...labels.flatMap((l) => [`fwd+bwd torch, ${l}`, `fwd+bwd ratio vs ${l}`]),
  ];
}

function cells(r: Row): string[] {
  const ms = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(v < 10 ? 2 : 1));
  const ratio = (a: number, b: number | null): string => (b === null ? 'n/a' : (a / b).toFixed(2));
  return [
    r.c.model, String(r.c.hidden), ms(r.ours), ms(r.plain),
    ...r.peers.flatMap((p) => [ms(p.step), ratio(r.ours, p.step)]),
    ms(r.oursFwdBwd),
    ...r.peers.flatMap((p) => [ms(p.fwdBwd), ratio(r.oursFwdBwd, p.fwdBwd)]),
  ];
}

function textTable(head: readonly string[], rows: readonly Row[]): string {
  const body = [head, ...rows.map(cells)];
  const widths = head.map((_, k) => Math.max(...body.map((line) => line[k].length)));
  return body.map((line) => line.map((cell, k) => cell.padEnd(widths[k])).join('  ').trimEnd()).join('\n');
}

function markdownTable(head: readonly string[], rows: readonly Row[]): string {
  const line = (xs: readonly string[]): string => `| ${xs.join(' | ')} |`;
  return [line(head), line(head.map((_, k) => (k < 2 ? '---' : '---:'))), ...rows.map((r) => line(cells(r)))].join('\n');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);

function memoryLines(heap: { readings: HeapReading[]; gc: boolean }): string[] {
  const [first, last] = [heap.readings[0], heap.readings[heap.readings.length - 1]];
  const delta = last.heapUsed - first.heapUsed;
  return [
    `Heap used by our engine, ${CASES[0].model.toUpperCase()} H=${CASES[0].hidden}${heap.gc ? ' (after a full GC)' : ' (no GC available: readings include garbage)'}: ` +
      heap.readings.map((r) => `${r.steps.toLocaleString('en-US')} steps ${mb(r.heapUsed)} MB`).join(', ') +
      `; change ${(delta / 1024).toFixed(1)} KB. Typed-array storage: ${heap.readings.map((r) => `${mb(r.arrayBuffers)} MB`).join(' → ')}.`,
  ];
}

// ---------------------------------------------------------------- PyTorch peers in a run

/** One peer through the run: its process while it works, what it loaded, or why it has no column. */
class PeerRun {
  private process: TorchProcess | null = null;
  info: TorchInfo | null = null;
  unavailable = '';
  /** Most threads the Python process had after any block. */
  osThreads = 0;

  constructor(readonly peer: Peer, private readonly log: (s: string) => void) {}

  async start(): Promise<void> {
    const started = await TorchProcess.start(this.peer);
    if ('process' in started) {
      this.process = started.process;
      this.info = started.info;
      this.log(`PyTorch, ${this.peer.label}: ${this.info.torch} (Python ${this.info.python}, ${this.info.threads} thread, BLAS: ${describeBlas(this.info.blas)})`);
    } else {
      this.unavailable = started.unavailable;
      this.log(`PyTorch, ${this.peer.label}: not run (${this.unavailable})`);
    }
  }

  get ran(): boolean {
    return this.info !== null && this.unavailable === '';
  }

  async block(c: Case, warmup: number, steps: number): Promise<TorchBlock | null> {
    if (!this.process) return null;
    try {
      const block = await this.process.measure(c, warmup, steps);
      this.osThreads = Math.max(this.osThreads, block.osThreads);
      return block;
    } catch (err) {
      this.unavailable = `failed during the run: ${(err as Error).message}`;
      this.log(`PyTorch, ${this.peer.label}: ${this.unavailable}; continuing without it.`);
      this.close();
      return null;
    }
  }

  close(): void {
    this.process?.close();
    this.process = null;
  }

  /** One sentence for the report: what this peer ran with, or why it did not run. */
  describe(): string {
    if (!this.info || !this.ran) return `PyTorch with ${this.peer.label}: not run (${this.unavailable}).`;
    const threads = this.osThreads > 1 ? `, but the process had ${this.osThreads} threads` : ', 1 OS thread';
    return (
      `PyTorch with ${this.peer.label}: ${this.info.torch} (Debian python3-torch, Python ${this.info.python}, ` +
      `torch.get_num_threads() ${this.info.threads}${threads}; BLAS loaded: ${describeBlas(this.info.blas)}).`
    );
  }
}

// ---------------------------------------------------------------- main

interface Setup {
  c: Case;
  ours: Timed;
  plain: Timed;
  fb: Timed;
  oursSteps: number;
  plainSteps: number;
  fbSteps: number;
  /** Block length of each peer (0 when it does not run). */
  peerSteps: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, 'memory-steps': { type: 'string', default: '10000' }, 'no-write': { type: 'boolean', default: false } },
  });
  const rounds = Math.max(1, Number.parseInt(values.rounds, 10) || 5);
  const memorySteps = Math.max(10, Number.parseInt(values['memory-steps'], 10) || 10000);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const kernel = wasmSimdAvailable() ? 'WebAssembly SIMD' : 'plain TypeScript (no WebAssembly SIMD in this runtime)';
  log(`bench:engine: float32, input ${INPUT}, T=${SEQ_LEN}, batch ${BATCH}; our kernel: ${kernel}`);

  // First, while nothing else is allocated: the timed trainers and their kernels' memories would otherwise sit in the readings.
  const checkpoints = [Math.round(memorySteps / 10), memorySteps];
  log(`heap check: ${memorySteps.toLocaleString('en-US')} ${CASES[0].model.toUpperCase()} steps…`);
  const heap = heapCheck(checkpoints);

  const runs = peers().map((p) => new PeerRun(p, log));
  for (const run of runs) await run.start();
  if (!runs.some((r) => r.ran)) log('no PyTorch peer: reporting our numbers only.');

  log('warming up…');
  const setups: Setup[] = [];
  for (const c of CASES) {
    const ours = trainerStep(c, 'auto');
    const plain = trainerStep(c, 'plain');
    const fb = forwardBackward(c);
    const oursSteps = blockSteps(warmUp(ours));
    const plainSteps = blockSteps(warmUp(plain));
    const fbSteps = blockSteps(warmUp(fb));
    const peerSteps: number[] = [];
    for (const run of runs) {
      const warm = await run.block(c, WARMUP_STEPS, 2);
      peerSteps.push(warm ? blockSteps(warm.stepMs) : 0);
    }
    setups.push({ c, ours, plain, fb, oursSteps, plainSteps, fbSteps, peerSteps });
  }

  const samples = setups.map(() => ({
    ours: [] as number[], plain: [] as number[], fb: [] as number[],
    peers: runs.map(() => ({ step: [] as number[], fwdBwd: [] as number[] })),
  }));
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (const [k, s] of setups.entries()) {
      const out = samples[k];
      const runOurs = (): void => {
        out.ours.push(s.ours.run(s.oursSteps));
        out.fb.push(s.fb.run(s.fbSteps));
      };
      const runPeers = async (): Promise<void> => {
        // The peers take turns too, so neither always follows ours.
        const order = runs.map((_, i) => i);
        if (r % 2 === 1) order.reverse();
        for (const i of order) {
          const t = await runs[i].block(s.c, 0, s.peerSteps[i]);
          if (t) {
            out.peers[i].step.push(t.stepMs);
            out.peers[i].fwdBwd.push(t.fwdBwdMs);
          }
        }
      };
      // Alternating who goes first keeps a slow phase of the machine from always landing on the same side.
      if (r % 2 === 0) {
        runOurs();
        await runPeers();
      } else {
        await runPeers();
        runOurs();
      }
      if (r < PLAIN_ROUNDS) out.plain.push(s.plain.run(s.plainSteps));
    }
  }
  for (const run of runs) run.close();

  const rows: Row[] = setups.map((s, k) => ({
    c: s.c,
    ours: median(samples[k].ours),
    plain: median(samples[k].plain),
    oursFwdBwd: median(samples[k].fb),
    // A peer that failed part-way gives no column rather than a median of a few early blocks.
    peers: runs.map((run, i) => (run.ran ? { step: median(samples[k].peers[i].step), fwdBwd: median(samples[k].peers[i].fwdBwd) } : { step: null, fwdBwd: null })),
  }));

  const head = headers(runs.map((r) => r.peer.label));
  const ratioNote = 'ratio = our ms/step ÷ PyTorch ms/step: 1.0 or less means we are as fast or faster.';
  const peerLines = runs.map((r) => r.describe());
  process.stdout.write(`\n${textTable(head, rows)}\n\n${ratioNote}\n${peerLines.join('\n')}\n${memoryLines(heap).join('\n')}\n`);

  if (values['no-write']) return;
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const cpus = os.cpus().length;
  const [systemRun, openBlasRun] = runs;
  const section = [
    `Measured ${date} UTC by \`npm run bench:engine\` on ${cpuModel()} (${cpus} logical cores), Node ${process.version}.`,
    '',
    ...peerLines.map((l) => `- ${l}`),
    '',
    `One float32 training step, input size ${INPUT}, sequence length ${SEQ_LEN}, batch ${BATCH}, one layer: a fresh Gaussian batch, forward, ` +
      `a Linear(H, 1) head on the last step, MSE, backward, gradient-norm clipping to 1.0, SGD (lr 0.01). ` +
      "Ours is `Trainer.step()` (it also computes the per-parameter gradient and weight norms of its record); " +
      'PyTorch is `nn.RNN`/`nn.LSTM`/`nn.GRU(batch_first=True)` + `nn.Linear` with `clip_grad_norm_` and `torch.optim.SGD`, one thread. ' +
      `The "system BLAS" peer runs with the BLAS Debian's alternatives select (no \`LD_LIBRARY_PATH\`); the "OpenBLAS" peer is the same torch with \`LD_LIBRARY_PATH=${OPENBLAS_DIR}\` for that process only, \`OPENBLAS_NUM_THREADS=1\` and \`torch.set_num_threads(1)\`.`,
    '',
    markdownTable(head, rows),
    '',
    `${ratioNote} "ours" uses the ${kernel} matrix kernel, "(plain TS)" the TypeScript one (\`kernel: 'plain'\`). ` +
      '"fwd+bwd" is the forward and backward passes alone (ours: `Graph.forward()` + `Graph.backward()` on the same model; PyTorch: from the forward call to the end of `loss.backward()`).',
    '',
    `Each time is the median over ${plural(rounds, 'round')} (the plain kernel: ${Math.min(rounds, PLAIN_ROUNDS)}) of the mean of a block of steps lasting about ${BLOCK_MS} ms, after a warm-up; ` +
      'within a round ours and the peers run back to back, in alternating order. The machine is shared and noisy: compare the ratios within one run rather than absolute times across runs.',
    ...(systemRun.ran && openBlasRun.ran && systemRun.info?.blas === openBlasRun.info?.blas
      ? [
          '',
          "Here Debian's alternatives already point `libblas.so.3` at OpenBLAS, so both peers loaded the same library: " +
            'the gap between their columns is the noise of the run.',
        ]
      : []),
    ...(systemRun.ran && systemRun.info && isReferenceBlas(systemRun.info.blas)
      ? [
          '',
          "Debian's reference libblas3 is unoptimised (a few GFLOP/s on one core): against the system-BLAS peer the ratios flatter us, and the OpenBLAS column is the fair one.",
        ]
      : []),
    '',
    ...memoryLines(heap),
  ].join('\n');
  writeSection(SECTION, section);
  log(`wrote the section "${SECTION}" of BENCHMARKS.md`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:engine failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
