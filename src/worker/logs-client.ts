/**
 * The host's side of the logs worker: starts the thread, sends it what to
 * follow, and turns its answers into promises and callbacks. Everything it
 * receives is parsed against the protocol; the rest is dropped.
 */
import { WorkerRequests } from '../shared/worker-requests';
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

const runKeys = (reply: Reply): string[] | undefined => (reply.type === 'done' ? reply.keys : undefined);

export class LogsWorkerClient {
  private readonly requests: WorkerRequests<HostToLogs, LogsToHost>;

  /** `workerPath`: the bundled worker, dist/logs-worker.js (tests build it with scripts/build.mjs). */
  constructor(workerPath: string, listener: LogsWorkerListener, options: LogsWorkerOptions = {}) {
    this.requests = new WorkerRequests<HostToLogs, LogsToHost>({
      name: 'the logs worker',
      path: workerPath,
      maxHeapMb: options.maxHeapMb ?? MAX_HEAP_MB,
      timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      // The host starts a new client, which follows again what this one followed.
      restart: false,
      parse: (raw) => logsToHostSchema.parse(raw),
      answers: (message) => ('requestId' in message ? message.requestId : undefined),
      onMessage: (message) => {
        if (message.type === 'runs') listener.onRuns(message.runs);
        else if (message.type === 'removed') listener.onRemoved(message.keys);
        else if (message.type === 'log') listener.onLog(message.level, message.message);
      },
      onDropped: () => listener.onLog('warn', 'logs worker: dropped a message that does not follow the protocol'),
      onError: (error) => listener.onLog('error', `logs worker: ${error.stack ?? error.message}`),
      onExit: (reason) => listener.onExit(reason),
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
    await this.requests.dispose();
  }

  private post(message: HostToLogs): void {
    this.requests.post(message);
  }

  /** Sends a request and resolves with what `take` finds in its reply; a `failed` reply, or one `take` does not expect, rejects. */
  private async request<T>(build: (requestId: number) => HostToLogs, take: (reply: Reply) => T | undefined): Promise<T> {
    const reply = await this.requests.request(build);
    if (!('requestId' in reply)) throw new Error(`the logs worker answered with an unexpected ${reply.type}`);
    if (reply.type === 'failed') throw new Error(reply.message);
    const value = take(reply);
    if (value === undefined) throw new Error(`the logs worker answered with an unexpected ${reply.type}`);
    return value;
  }
}
