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
import type { CancellationToken } from 'vscode-languageserver/node';
import type { HintId } from '../diagnosis/types';
import type { HintLocation, LoggerPlan, LoggerTarget, PythonFinding, TextEdit } from '../python';
import { WorkerRequests } from '../shared/worker-requests';
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

export class PythonWorker implements PythonAnalysis {
  private readonly requests: WorkerRequests<ServerToPython, PythonToServer>;
  private reportedFailure = false;
  /** Slot 0: the id of the request the worker should give up. */
  private readonly abandoned = new Int32Array(new SharedArrayBuffer(4));

  /**
   * `workerPath`: dist/python-worker.js; `wasmDir`: the folder of the grammar's wasm files;
   * `maxHeapMb`: the thread's JavaScript heap limit (a script too big for it stops the thread, never the server).
   */
  constructor(workerPath: string, wasmDir: string, private readonly report: (message: string) => void, maxHeapMb = 2048) {
    const workerData: PythonWorkerData = { wasmDir, abandoned: this.abandoned.buffer as SharedArrayBuffer };
    this.requests = new WorkerRequests<ServerToPython, PythonToServer>({
      name: "GradLens's Python analysis thread",
      path: workerPath,
      workerData,
      maxHeapMb,
      serial: true,
      // Parsing 50,000 lines takes a second or two: a request this late is stuck, and a new thread takes the next.
      timeoutMs: 120_000,
      // The worker reads no message while it works: it reads this flag.
      abandon: (id) => Atomics.store(this.abandoned, 0, id),
      parse: (raw) => pythonToServerSchema.parse(raw),
      answers: (reply) => reply.id,
      onDropped: () => report('GradLens dropped a message from its Python analysis that does not follow the protocol.'),
      onError: (error) => report(`GradLens's Python analysis failed: ${error.message}`),
      onExit: (reason) => report(`${reason}; it restarts for the next request.`),
    });
  }

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
    for (const key of [`analyze ${uri}`, `logger ${uri}`]) this.requests.supersede(key);
  }

  dispose(): Promise<void> {
    return this.requests.dispose();
  }

  /** The worker's answer; undefined when the request was superseded, cancelled, abandoned or failed (or the thread stopped on it). */
  private async submit(build: (id: number) => ServerToPython, { key, token }: { key?: string; token?: CancellationToken }): Promise<PythonToServer | undefined> {
    const reply = await this.requests.request(build, { key, cancellation: token }).catch(() => undefined);
    if (reply?.type === 'failed') {
      // Every request fails alike (the grammar did not load): once is enough.
      if (!this.reportedFailure) this.report(`GradLens's Python analysis failed: ${reply.message}`);
      this.reportedFailure = true;
      return undefined;
    }
    return reply;
  }
}
