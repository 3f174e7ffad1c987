/**
 * Requests to a worker thread and their replies, for each of GradLens's
 * workers (logs, playground, Python analysis): request ids and the replies
 * waited for, a heap limit, a thread that stops failing what it was asked
 * (and, unless told otherwise, starting again for the next request), a
 * request unanswered too long stopping the thread. A serial thread takes one
 * request at a time; the others wait here, where a newer request with the
 * same key replaces a waiting one, and, with `abandon`, the one being
 * computed.
 */
import { Worker } from 'node:worker_threads';
import { errorCode, errorMessage } from './errors';

/** The promise of a request that a newer one with the same key replaced. */
export class SupersededError extends Error {
  constructor() {
    super('a newer request replaced this one');
    this.name = 'SupersededError';
  }
}

/** The promise of a request whose caller cancelled it. */
export class CancelledError extends Error {
  constructor() {
    super('the request was cancelled');
    this.name = 'CancelledError';
  }
}

/** A cancellation signal, shaped as the language server protocol's CancellationToken. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): unknown;
}

export interface WorkerRequestsOptions<In> {
  /** How messages and errors name the thread: "the logs worker". */
  name: string;
  /** The bundled worker script. */
  path: string;
  workerData?: unknown;
  /** The thread's heap limit: running out of it stops the thread, reported as such, never the process. */
  maxHeapMb?: number;
  /** What the thread says, checked against its protocol: undefined drops the message (see onDropped). */
  parse(raw: unknown): In | undefined;
  /** The id of the request a message answers, or undefined for a message of the thread's own (see onMessage). */
  answers(message: In): number | undefined;
  onMessage?(message: In): void;
  /** A message that does not follow the protocol was dropped. */
  onDropped?(): void;
  onError?(error: Error): void;
  /** The thread stopped unasked (or was stopped, stuck); what it was asked has failed with `reason`. */
  onExit?(reason: string): void;
  /** Start a new thread for the next request after one stopped (default); otherwise every later request fails. */
  restart?: boolean;
  /** One request in the thread at a time, the others waiting here. */
  serial?: boolean;
  /** Tells the busy thread to give up request `id` (a serial thread reads no messages while it works). Without it, the request in the thread is never replaced. */
  abandon?(id: number): void;
  /** A request unanswered this long means the thread is stuck: it is stopped. */
  timeoutMs?: number;
}

interface Job<Out, In> {
  id: number;
  key?: string;
  message: Out;
  resolve(reply: In): void;
  reject(error: Error): void;
  /** Replaced or cancelled while in the thread: its answer is dropped, and it fails with this when that answer (or the thread's end) comes. */
  abandoned?: Error;
  timer?: ReturnType<typeof setTimeout>;
}

export class WorkerRequests<Out, In> {
  private worker?: Worker;
  /** Requests in the thread (at most one when serial), by id. */
  private readonly inThread = new Map<number, Job<Out, In>>();
  /** Serial requests waiting for the thread. */
  private readonly waiting: Job<Out, In>[] = [];
  private nextId = 1;
  /** Why the thread is gone for good (disposed, or stopped with `restart: false`). */
  private stopped?: string;
  private lastError?: string;

  constructor(private readonly options: WorkerRequestsOptions<In>) {}

  /** Sends the message `build` makes with the request's id; resolves with the thread's answer to it. */
  request(build: (id: number) => Out, { key, cancellation }: { key?: string; cancellation?: Cancellation } = {}): Promise<In> {
    if (this.stopped !== undefined) return Promise.reject(new Error(`${this.options.name} is not running (${this.stopped})`));
    if (cancellation?.isCancellationRequested) return Promise.reject(new CancelledError());
    if (key !== undefined) this.supersede(key);
    return new Promise<In>((resolve, reject) => {
      const id = this.nextId++;
      const job: Job<Out, In> = { id, key, message: build(id), resolve, reject };
      cancellation?.onCancellationRequested(() => this.drop(job, new CancelledError()));
      if (this.options.serial) {
        this.waiting.push(job);
        this.next();
      } else this.dispatch(job);
    });
  }

  /** A message that asks for no answer. */
  post(message: Out): void {
    if (this.stopped === undefined) this.thread().postMessage(message);
  }

  /** Requests with this key are no longer wanted. */
  supersede(key: string): void {
    for (const job of this.waiting.filter((w) => w.key === key)) this.drop(job, new SupersededError());
    for (const job of this.inThread.values()) if (job.key === key && this.options.abandon) this.drop(job, new SupersededError());
  }

  /** Fails everything asked, now and later, and stops the thread. */
  async dispose(reason = `${this.options.name} was closed`): Promise<void> {
    this.stopped = reason;
    this.failAll(new Error(reason));
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private drop(job: Job<Out, In>, error: Error): void {
    const queued = this.waiting.indexOf(job);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      job.reject(error);
    } else if (this.inThread.get(job.id) === job && !job.abandoned && this.options.abandon) {
      job.abandoned = error;
      this.options.abandon(job.id);
    }
  }

  private next(): void {
    if (this.inThread.size > 0 || this.stopped !== undefined) return;
    const job = this.waiting.shift();
    if (job) this.dispatch(job);
  }

  private dispatch(job: Job<Out, In>): void {
    this.inThread.set(job.id, job);
    const { timeoutMs } = this.options;
    if (timeoutMs !== undefined) job.timer = setTimeout(() => this.stuck(job), timeoutMs);
    this.thread().postMessage(job.message);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const { path, workerData, maxHeapMb } = this.options;
    const worker = new Worker(path, { workerData, ...(maxHeapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}) });
    worker.on('message', (raw: unknown) => this.receive(raw));
    worker.on('error', (error: Error) => {
      this.lastError = errorCode(error) === 'ERR_WORKER_OUT_OF_MEMORY' ? `it ran out of memory (its limit is ${maxHeapMb} MB)` : errorMessage(error);
      this.options.onError?.(error);
    });
    worker.on('exit', (code: number) => {
      if (this.worker !== worker) return; // disposed, or stopped as stuck
      this.worker = undefined;
      this.ended(`${this.options.name} stopped (exit code ${code}${this.lastError ? `: ${this.lastError}` : ''})`);
    });
    this.worker = worker;
    this.lastError = undefined;
    return worker;
  }

  /** A stuck thread cannot be asked to stop what it is doing: it is stopped, and reported as stopped. */
  private stuck(job: Job<Out, In>): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    const type = typeof job.message === 'object' && job.message !== null && 'type' in job.message ? ` "${String(job.message.type)}"` : '';
    this.ended(`${this.options.name} did not answer${type} within ${(this.options.timeoutMs ?? 0) / 1000} s`);
  }

  /** The thread is gone: what it was asked fails; what waits goes to a new thread, unless there is to be none. */
  private ended(reason: string): void {
    for (const job of this.inThread.values()) this.settle(job, () => job.reject(job.abandoned ?? new Error(reason)));
    this.inThread.clear();
    if (this.options.restart === false) {
      this.stopped = reason;
      this.failAll(new Error(reason));
    }
    this.options.onExit?.(reason);
    this.next();
  }

  private failAll(error: Error): void {
    for (const job of [...this.inThread.values(), ...this.waiting.splice(0)]) this.settle(job, () => job.reject(error));
    this.inThread.clear();
  }

  private settle(job: Job<Out, In>, outcome: () => void): void {
    clearTimeout(job.timer);
    outcome();
  }

  private receive(raw: unknown): void {
    const message = this.options.parse(raw);
    if (message === undefined) {
      this.options.onDropped?.();
      return;
    }
    const id = this.options.answers(message);
    if (id === undefined) {
      this.options.onMessage?.(message);
      return;
    }
    const job = this.inThread.get(id);
    if (!job) return;
    this.inThread.delete(id);
    this.settle(job, () => (job.abandoned ? job.reject(job.abandoned) : job.resolve(message)));
    this.next();
  }
}
