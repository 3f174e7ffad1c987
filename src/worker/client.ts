import { Worker } from 'node:worker_threads';
import type { StepRecord } from '../engine/record';
import type { TrainConfig } from '../engine/trainer';
import { parseWorkerToHost, type HostToWorker, type StopReason } from './protocol';

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
      const message = parseWorkerToHost(raw);
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
  const start: HostToWorker = { type: 'start', runId, config, cancel: cancelBuffer };
  worker.postMessage(start);
  return {
    runId,
    done,
    cancel() {
      Atomics.store(cancelFlag, 0, 1);
    },
  };
}
