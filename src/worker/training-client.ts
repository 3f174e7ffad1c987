import { Worker } from 'node:worker_threads';
import type { StepRecord } from '../engine/record';
import type { TrainConfig } from '../engine/trainer';
import type { PlaygroundParams, PlaygroundResult } from '../protocol/playground';
import { playgroundReplySchema, trainingToHostSchema, type HostToTraining, type PlaygroundRequest, type StopReason } from './training-protocol';

export interface TrainingCallbacks {
  onStarted?(parameters: string[]): void;
  onRecords?(records: StepRecord[], total: number): void;
}

export interface TrainingResult {
  reason: StopReason;
  steps: number;
  elapsedMs: number;
}

export interface TrainingHandle {
  readonly runId: string;
  readonly done: Promise<TrainingResult>;
  /** Asks the worker to stop after the step it is on; `done` then resolves with reason "cancelled". */
  cancel(): void;
}

let nextRun = 0;

/**
 * Runs one training configuration in its own worker thread. The shared flag
 * lets the host stop the run between two steps without waiting for the
 * worker's event loop.
 */
export function startTraining(workerPath: string, config: TrainConfig, callbacks: TrainingCallbacks = {}, execArgv?: string[]): TrainingHandle {
  const runId = `run-${process.pid}-${++nextRun}`;
  const cancelBuffer = new SharedArrayBuffer(4);
  const cancelFlag = new Int32Array(cancelBuffer);
  const worker = new Worker(workerPath, execArgv ? { execArgv } : undefined);
  const done = new Promise<TrainingResult>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate();
    };
    worker.on('message', (raw: unknown) => {
      const message = trainingToHostSchema.parse(raw);
      if (!message || message.runId !== runId) return;
      switch (message.type) {
        case 'started':
          callbacks.onStarted?.(message.parameters);
          return;
        case 'records':
          callbacks.onRecords?.(message.records, message.total);
          return;
        case 'done':
          finish(() => resolve({ reason: message.reason, steps: message.steps, elapsedMs: message.elapsedMs }));
          return;
        case 'error':
          finish(() => reject(new Error(message.message)));
          return;
      }
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the training worker exited with code ${code} before finishing`))));
  });
  const start: HostToTraining = { type: 'start', runId, config, cancel: cancelBuffer };
  worker.postMessage(start);
  return {
    runId,
    done,
    cancel() {
      Atomics.store(cancelFlag, 0, 1);
    },
  };
}

/** The promise of a request that a newer one replaced before it was computed. */
export class SupersededError extends Error {
  constructor() {
    super('a newer playground request replaced this one');
    this.name = 'SupersededError';
  }
}

interface Pending {
  resolve(result: PlaygroundResult): void;
  reject(error: Error): void;
}

/**
 * The playground's engine: one long-lived worker thread, one request in it at
 * a time. While it computes, a new request waits; a newer one still replaces
 * the waiting one (its promise rejects with SupersededError), so a slider
 * dragged across its range costs a computation per answer, not per position.
 * A worker that dies is replaced on the next request.
 */
export class PlaygroundWorker {
  private worker: Worker | null = null;
  private running: (Pending & { requestId: number }) | null = null;
  private waiting: (Pending & { params: PlaygroundParams }) | null = null;
  private lastRequestId = 0;
  private disposed = false;

  constructor(private readonly workerPath: string) {}

  compute(params: PlaygroundParams): Promise<PlaygroundResult> {
    if (this.disposed) return Promise.reject(new Error('the playground worker is disposed'));
    return new Promise((resolve, reject) => {
      this.waiting?.reject(new SupersededError());
      this.waiting = { params, resolve, reject };
      this.next();
    });
  }

  dispose(): void {
    this.disposed = true;
    const closed = new Error('the playground worker is disposed');
    this.running?.reject(closed);
    this.waiting?.reject(closed);
    this.running = this.waiting = null;
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
  }

  private next(): void {
    if (this.running || !this.waiting) return;
    const { params, resolve, reject } = this.waiting;
    this.waiting = null;
    const requestId = ++this.lastRequestId;
    this.running = { requestId, resolve, reject };
    const request: PlaygroundRequest = { type: 'playground', requestId, params };
    this.thread().postMessage(request);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    worker.on('message', (raw: unknown) => {
      const reply = playgroundReplySchema.parse(raw);
      const running = this.running;
      if (!reply || !running || reply.requestId !== running.requestId) return;
      this.running = null;
      if (reply.type === 'playgroundResult') running.resolve(reply.result);
      else running.reject(new Error(reply.message));
      this.next();
    });
    const lost = (error: Error): void => {
      if (this.worker !== worker) return; // disposed, or already replaced
      this.worker = null;
      const running = this.running;
      this.running = null;
      running?.reject(error);
      this.next();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the playground worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
