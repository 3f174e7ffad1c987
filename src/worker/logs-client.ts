/**
 * The host's side of the logs worker: starts the thread, sends it what to
 * follow, and turns its answers into promises and callbacks. Everything it
 * receives is parsed against the protocol; the rest is dropped.
 */
import { Worker } from 'node:worker_threads';
import { logsToHostSchema, type DashboardMessageReply, type DashboardMessageRequest, type HostToLogs, type LogsSettings, type LogsToHost, type MatchedFolder, type OpenOrigin, type RunSummary } from './logs-protocol';

export interface LogsWorkerListener {
  /** Runs that appeared or changed. */
  onRuns(runs: RunSummary[]): void;
  /** Runs that are gone. */
  onRemoved(keys: string[]): void;
  /** Something for the host's log: an unreadable file, an exception in the worker. */
  onLog(level: 'info' | 'warn' | 'error', message: string): void;
  /** The worker stopped without being asked to; pending requests have failed with the same reason. */
  onExit(reason: string): void;
}

type Reply = Extract<LogsToHost, { requestId: number }>;

export interface LogsWorkerOptions {
  /**
   * A request unanswered this long means the worker is stuck (a read that
   * never returns, a runaway computation): it is stopped and reported as
   * stopped, which fails every pending request, and the host starts a new one.
   */
  requestTimeoutMs?: number;
  /** The worker's JavaScript heap limit: a log too big for it stops the worker, never the host. */
  maxHeapMb?: number;
}

export const REQUEST_TIMEOUT_MS = 120_000;
export const MAX_HEAP_MB = 3072;

interface Pending {
  settle(reply: Reply): void;
  reject(error: Error): void;
}

const runKeys = (reply: Reply): string[] | undefined => (reply.type === 'done' ? reply.keys : undefined);

export class LogsWorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextRequest = 1;
  private closed = false;
  private lastError?: string;

  /** `workerPath`: the bundled worker, dist/logs-worker.js (tests bundle src/worker/logs-main.ts the same way). */
  private readonly requestTimeoutMs: number;

  constructor(
    workerPath: string,
    private readonly listener: LogsWorkerListener,
    options: LogsWorkerOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    // Without a limit of its own, a worker that runs out of heap takes V8's fatal error, which aborts the whole process.
    const maxHeapMb = options.maxHeapMb ?? MAX_HEAP_MB;
    this.worker = new Worker(workerPath, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    this.worker.on('message', (raw: unknown) => this.receive(raw));
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.lastError = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it ran out of memory (its limit is ${maxHeapMb} MB)` : error.message;
      listener.onLog('error', `logs worker: ${error.stack ?? error.message}`);
    });
    this.worker.on('exit', (code: number) => {
      if (this.closed) return;
      const reason = `the logs worker stopped (exit code ${code}${this.lastError ? `: ${this.lastError}` : ''})`;
      this.close(reason);
      listener.onExit(reason);
    });
  }

  configure(settings: LogsSettings): void {
    this.post({ type: 'configure', settings });
  }

  /** Follows the runs of these matched files, instead of the previous set; resolves with their keys once read. */
  followWorkspace(folders: MatchedFolder[]): Promise<string[]> {
    return this.request((requestId) => ({ type: 'workspace', requestId, folders }), runKeys);
  }

  /** Follows a file or folder; resolves with its runs' keys once read, rejects when it cannot be read. */
  open(path: string, origin: OpenOrigin): Promise<string[]> {
    return this.request((requestId) => ({ type: 'open', requestId, path, origin }), runKeys);
  }

  /** The dashboard's `show` of these runs, or `update` of one, as wire text encoded whole by the worker. */
  dashboardMessage(request: DashboardMessageRequest): Promise<DashboardMessageReply> {
    return this.request(
      (requestId) => ({ type: 'dashboardMessage', requestId, ...request }),
      (reply) => (reply.type === 'dashboardMessage' ? { text: reply.text, cursors: reply.cursors, unreadable: reply.unreadable } : undefined),
    );
  }

  /** Export Report's three files, as UTF-8 bytes. */
  report(keys: string[], assetsRoot: string): Promise<{ html: Uint8Array; csv: Uint8Array; markdown: Uint8Array }> {
    return this.request(
      (requestId) => ({ type: 'report', requestId, keys, assetsRoot }),
      (reply) => (reply.type === 'report' ? { html: reply.html, csv: reply.csv, markdown: reply.markdown } : undefined),
    );
  }

  async dispose(): Promise<void> {
    this.close('the logs worker was closed');
    await this.worker.terminate();
  }

  private post(message: HostToLogs): void {
    if (!this.closed) this.worker.postMessage(message);
  }

  /** Sends a request and resolves with what `take` finds in its reply; a `failed` reply, or one `take` does not expect, rejects. */
  private request<T>(build: (requestId: number) => HostToLogs, take: (reply: Reply) => T | undefined): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the logs worker is not running'));
    const requestId = this.nextRequest++;
    const message = build(requestId);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.stuck(`the logs worker did not answer "${message.type}" within ${this.requestTimeoutMs / 1000} s`), this.requestTimeoutMs);
      const settle = (reply: Reply): void => {
        clearTimeout(timer);
        if (reply.type === 'failed') return reject(new Error(reply.message));
        const value = take(reply);
        if (value === undefined) reject(new Error(`the logs worker answered with an unexpected ${reply.type}`));
        else resolve(value);
      };
      this.pending.set(requestId, {
        settle,
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.worker.postMessage(message);
    });
  }

  /** A stuck worker cannot be asked to stop what it is doing: stop the thread, and report it as stopped. */
  private stuck(reason: string): void {
    if (this.closed) return;
    this.close(reason);
    void this.worker.terminate();
    this.listener.onExit(reason);
  }

  private receive(raw: unknown): void {
    const message = logsToHostSchema.parse(raw);
    if (!message) {
      this.listener.onLog('warn', 'logs worker: dropped a message that does not follow the protocol');
      return;
    }
    switch (message.type) {
      case 'runs':
        this.listener.onRuns(message.runs);
        return;
      case 'removed':
        this.listener.onRemoved(message.keys);
        return;
      case 'log':
        this.listener.onLog(message.level, message.message);
        return;
      default: {
        const pending = this.pending.get(message.requestId);
        this.pending.delete(message.requestId);
        pending?.settle(message);
      }
    }
  }

  private close(reason: string): void {
    this.closed = true;
    for (const pending of this.pending.values()) pending.reject(new Error(reason));
    this.pending.clear();
  }
}
