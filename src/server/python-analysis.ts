/**
 * The server's side of the Python analysis worker: one request in the
 * worker at a time, the rest queued here, where a newer analysis or code
 * action for a document supersedes the older one (its promise resolves
 * undefined) and a cancelled request is dropped — or, when the worker is
 * already on it, abandoned through the shared flag the worker checks (an
 * analysis stops mid-parse or between rules; its answer is dropped all the
 * same). A worker that dies is started again for the next request; the
 * request it died on is answered with undefined, not retried.
 */
import { Worker } from 'node:worker_threads';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { HintId } from '../diagnosis/types';
import type { HintLocation, LoggerPlan, LoggerTarget, PythonFinding, TextEdit } from '../python';
import { pythonToServerSchema, type PythonToServer, type PythonWorkerData, type ServerToPython } from './python-worker-protocol';

/** What the server needs of the Python analysis; every answer is undefined when it was superseded, cancelled or failed. */
export interface PythonAnalysis {
  /** GradLens's findings on `text`, the current text of `uri`. */
  analyze(uri: string, text: string, maxNorm: number | undefined): Promise<PythonFinding[] | undefined>;
  /** The code action "Log gradient norms with GradLens" at `line` of `text`, the current text of `uri`. */
  loggerInsertion(uri: string, text: string, line: number, token: CancellationToken): Promise<TextEdit[] | undefined>;
  /** The Insert Gradient Logger command: the insertion for `target` in `text`, or why there is none. */
  loggerPlan(text: string, target: LoggerTarget, token: CancellationToken): Promise<LoggerPlan | undefined>;
  /** Where the change of the dashboard's `hint` goes in `text`; null when the script has neither a finding for it nor a training step. */
  hintLocation(text: string, hint: HintId, maxNorm: number | undefined, token: CancellationToken): Promise<HintLocation | null | undefined>;
  /** Whether `text` is a training script: backward() then an optimizer's step(). */
  hasTrainingStep(text: string, token: CancellationToken): Promise<boolean | undefined>;
  /** Drops or abandons the document's diagnostics and code actions (it was closed). */
  abandon(uri: string): void;
  dispose(): Promise<void>;
}

interface Job {
  id: number;
  /** Requests with the same key supersede each other: the kind of request and the document. None for the server's custom requests, each of which wants its own answer. */
  key?: string;
  message: ServerToPython;
  settle(reply: PythonToServer | undefined): void;
}

export class PythonWorker implements PythonAnalysis {
  private worker?: Worker;
  private running?: Job;
  private queue: Job[] = [];
  private nextId = 1;
  private disposed = false;
  private reportedFailure = false;
  /** Slot 0: the id of the request the worker should give up. */
  private readonly abandoned = new Int32Array(new SharedArrayBuffer(4));

  /** `workerPath`: dist/python-worker.js; `wasmDir`: the folder of the grammar's wasm files. */
  constructor(
    private readonly workerPath: string,
    private readonly wasmDir: string,
    private readonly report: (message: string) => void,
    /** The thread's JavaScript heap limit: a script too big for it stops the thread, never the server. */
    private readonly maxHeapMb = 2048,
  ) {}

  async analyze(uri: string, text: string, maxNorm: number | undefined): Promise<PythonFinding[] | undefined> {
    const reply = await this.submit((id) => ({ type: 'analyze', id, text, maxNorm }), { key: `analyze ${uri}` });
    return reply?.type === 'findings' ? reply.findings : undefined;
  }

  async loggerInsertion(uri: string, text: string, line: number, token: CancellationToken): Promise<TextEdit[] | undefined> {
    const reply = await this.submit((id) => ({ type: 'logger', id, text, line, orFirstLoop: false }), { key: `logger ${uri}`, token });
    if (reply?.type !== 'plan') return undefined;
    return reply.plan.type === 'insertion' ? reply.plan.edits : [];
  }

  async loggerPlan(text: string, { line, orFirstLoop }: LoggerTarget, token: CancellationToken): Promise<LoggerPlan | undefined> {
    const reply = await this.submit((id) => ({ type: 'logger', id, text, line, orFirstLoop }), { token });
    return reply?.type === 'plan' ? reply.plan : undefined;
  }

  async hintLocation(text: string, hint: HintId, maxNorm: number | undefined, token: CancellationToken): Promise<HintLocation | null | undefined> {
    const reply = await this.submit((id) => ({ type: 'hintLocation', id, text, hint, maxNorm }), { token });
    return reply?.type === 'location' ? reply.location ?? null : undefined;
  }

  async hasTrainingStep(text: string, token: CancellationToken): Promise<boolean | undefined> {
    const reply = await this.submit((id) => ({ type: 'trainingStep', id, text }), { token });
    return reply?.type === 'trainingStep' ? reply.found : undefined;
  }

  abandon(uri: string): void {
    for (const key of [`analyze ${uri}`, `logger ${uri}`]) this.supersede(key);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.queue.splice(0)) job.settle(undefined);
    this.finishRunning(undefined);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private submit(build: (id: number) => ServerToPython, { key, token }: { key?: string; token?: CancellationToken }): Promise<PythonToServer | undefined> {
    if (this.disposed || token?.isCancellationRequested) return Promise.resolve(undefined);
    if (key !== undefined) this.supersede(key);
    return new Promise((resolve) => {
      const id = this.nextId++;
      const job: Job = { id, key, message: build(id), settle: resolve };
      this.queue.push(job);
      token?.onCancellationRequested(() => this.cancel(job));
      this.next();
    });
  }

  /** Older requests with this key are no longer wanted. */
  private supersede(key: string): void {
    for (const job of this.queue.filter((queued) => queued.key === key)) this.cancel(job);
    if (this.running?.key === key) this.cancel(this.running);
  }

  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.settle(undefined);
    } else if (this.running === job) {
      // The worker reads no message while it works: it reads this flag.
      Atomics.store(this.abandoned, 0, job.id);
    }
  }

  private next(): void {
    if (this.running || this.disposed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    this.started().postMessage(job.message);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const workerData: PythonWorkerData = { wasmDir: this.wasmDir, abandoned: this.abandoned.buffer as SharedArrayBuffer };
    const worker = new Worker(this.workerPath, { workerData, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    worker.on('message', (raw: unknown) => this.receive(raw));
    worker.on('error', (error: Error) => this.report(`GradLens's Python analysis failed: ${error.message}`));
    worker.on('exit', (code: number) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.disposed) return;
      this.report(`GradLens's Python analysis thread stopped (exit code ${code}); it restarts for the next request.`);
      this.finishRunning(undefined);
    });
    this.worker = worker;
    return worker;
  }

  private receive(raw: unknown): void {
    const reply = pythonToServerSchema.parse(raw);
    if (!reply) {
      this.report("GradLens dropped a message from its Python analysis that does not follow the protocol.");
      return;
    }
    if (reply.id !== this.running?.id) return;
    if (reply.type === 'failed' && !this.reportedFailure) {
      // Every request fails alike (the grammar did not load): once is enough.
      this.reportedFailure = true;
      this.report(`GradLens's Python analysis failed: ${reply.message}`);
    }
    // A request abandoned just as the worker finished it is answered as abandoned all the same.
    const wanted = reply.type !== 'failed' && reply.type !== 'abandoned' && Atomics.load(this.abandoned, 0) !== reply.id;
    this.finishRunning(wanted ? reply : undefined);
  }

  private finishRunning(reply: PythonToServer | undefined): void {
    const job = this.running;
    this.running = undefined;
    job?.settle(reply);
    this.next();
  }
}
