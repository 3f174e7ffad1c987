import { Worker } from 'node:worker_threads';
import type { StepRecord } from '../engine/record';
import type { TrainConfig } from '../engine/trainer';
import type { PlaygroundParams, PlaygroundResult } from '../protocol/playground';
import { WorkerRequests } from '../shared/worker-requests';
import { playgroundReplySchema, trainingToHostSchema, type HostToTraining, type PlaygroundReply, type PlaygroundRequest, type StopReason } from './training-protocol';

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
/** The training thread's heap limit. */
const TRAINING_HEAP_MB = 4096;

/**
 * Runs one training configuration in its own worker thread. The shared flag
 * lets the host stop the run between two steps without waiting for the
 * worker's event loop.
 */
export function startTraining(workerPath: string, config: TrainConfig, callbacks: TrainingCallbacks = {}, execArgv?: string[]): TrainingHandle {
  const runId = `run-${process.pid}-${++nextRun}`;
  const cancelBuffer = new SharedArrayBuffer(4);
  const cancelFlag = new Int32Array(cancelBuffer);
  // A heap of its own: a model too big for it stops this run's thread, never the host.
  const worker = new Worker(workerPath, { ...(execArgv ? { execArgv } : {}), resourceLimits: { maxOldGenerationSizeMb: TRAINING_HEAP_MB } });
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

/**
 * The playground's engine: one long-lived worker thread, one request in it at
 * a time. While it computes, a new request waits; a newer one still replaces
 * the waiting one (its promise rejects with SupersededError), so a slider
 * dragged across its range costs a computation per answer, not per position.
 * A worker that dies is replaced on the next request.
 */
export class PlaygroundWorker {
  private readonly requests: WorkerRequests<PlaygroundRequest, PlaygroundReply>;

  constructor(workerPath: string) {
    this.requests = new WorkerRequests<PlaygroundRequest, PlaygroundReply>({
      name: 'the playground worker',
      path: workerPath,
      serial: true,
      maxHeapMb: 1024,
      // A computation takes milliseconds; one this late is stuck, and a new thread takes the next.
      timeoutMs: 30_000,
      parse: (raw) => playgroundReplySchema.parse(raw),
      answers: (reply) => reply.requestId,
    });
  }

  async compute(params: PlaygroundParams): Promise<PlaygroundResult> {
    const reply = await this.requests.request((requestId) => ({ type: 'playground', requestId, params }), { key: 'compute' });
    if (reply.type === 'playgroundError') throw new Error(reply.message);
    return reply.result;
  }

  dispose(): void {
    void this.requests.dispose('the playground worker is disposed');
  }
}
