import type { StepRecord } from '../engine/record';
import type { TrainConfig } from '../engine/trainer';
import { playgroundParamsSchema, playgroundResultSchema } from '../protocol/playground';
import { finite, message, string, union, type Infer } from '../protocol/schema';

/**
 * Messages between a host (extension, CLI) and the training worker, declared
 * once. Each side validates what it receives and drops what it does not know.
 */
export type HostToWorker = {
  type: 'start';
  runId: string;
  config: TrainConfig;
  /** Int32Array over a SharedArrayBuffer, polled every step: non-zero = stop. */
  cancel: SharedArrayBuffer;
};

export type StopReason = 'completed' | 'cancelled' | 'stop-rule';

export type WorkerToHost =
  | { type: 'started'; runId: string; parameters: string[] }
  | { type: 'records'; runId: string; records: StepRecord[]; total: number }
  | { type: 'done'; runId: string; reason: StopReason; steps: number; elapsedMs: number }
  | { type: 'error'; runId: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function parseHostToWorker(v: unknown): HostToWorker | null {
  if (!isObject(v) || typeof v.runId !== 'string') return null;
  if (v.type === 'start' && isObject(v.config) && v.cancel instanceof SharedArrayBuffer) {
    return { type: 'start', runId: v.runId, config: v.config as unknown as TrainConfig, cancel: v.cancel };
  }
  return null;
}

export function parseWorkerToHost(v: unknown): WorkerToHost | null {
  if (!isObject(v) || typeof v.runId !== 'string') return null;
  switch (v.type) {
    case 'started':
      return Array.isArray(v.parameters) && v.parameters.every((p) => typeof p === 'string') ? { type: 'started', runId: v.runId, parameters: v.parameters as string[] } : null;
    case 'records':
      return Array.isArray(v.records) && typeof v.total === 'number' && v.records.every(isStepRecord)
        ? { type: 'records', runId: v.runId, records: v.records as StepRecord[], total: v.total }
        : null;
    case 'done':
      return (v.reason === 'completed' || v.reason === 'cancelled' || v.reason === 'stop-rule') && typeof v.steps === 'number' && typeof v.elapsedMs === 'number'
        ? { type: 'done', runId: v.runId, reason: v.reason, steps: v.steps, elapsedMs: v.elapsedMs }
        : null;
    case 'error':
      return typeof v.message === 'string' ? { type: 'error', runId: v.runId, message: v.message } : null;
    default:
      return null;
  }
}

function isStepRecord(v: unknown): v is StepRecord {
  return isObject(v) && typeof v.step === 'number' && typeof v.loss === 'number' && typeof v.grad_norm === 'number' && typeof v.clipped === 'boolean' && isObject(v.layers);
}

/**
 * The playground's requests travel on the same worker bundle, in a
 * long-lived worker of their own: one request at a time, each answered by
 * its id. Both sides parse with the playground's schemas.
 */
export const playgroundRequestSchema = message('playground', { requestId: finite, params: playgroundParamsSchema });
export type PlaygroundRequest = Infer<typeof playgroundRequestSchema>;

export const playgroundReplySchema = union({
  playgroundResult: message('playgroundResult', { requestId: finite, result: playgroundResultSchema }),
  playgroundError: message('playgroundError', { requestId: finite, message: string }),
});
export type PlaygroundReply = Infer<typeof playgroundReplySchema>;
