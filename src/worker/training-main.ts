import { parentPort } from 'node:worker_threads';
import { Trainer } from '../engine/trainer';
import type { StepRecord } from '../engine/record';
import { computePlayground } from '../playground/compute';
import { configMismatch, hostToTrainingSchema, playgroundRequestSchema, refusedStartSchema, type PlaygroundReply, type StopReason, type TrainingToHost } from './training-protocol';
import { errorMessage } from '../shared/errors';

/** Records are sent in batches at most this often, so a fast run does not flood the host. */
const FLUSH_MS = 50;

const port = parentPort;
if (!port) throw new Error('the GradLens training worker must run in a worker thread');

const send = (message: TrainingToHost): void => port.postMessage(message);

port.on('message', (raw: unknown) => {
  const message = hostToTrainingSchema.parse(raw);
  if (!message) {
    const refused = refusedStartSchema.parse(raw);
    if (refused) send({ type: 'error', runId: refused.runId, message: configMismatch(refused.config) });
    return;
  }
  const { runId, config } = message;
  const cancelled = new Int32Array(message.cancel);
  try {
    const trainer = new Trainer(config); // validates the configuration
    send({ type: 'started', runId, parameters: trainer.parameterNames });
    const started = Date.now();
    let pending: StepRecord[] = [];
    let lastFlush = started;
    const flush = (): void => {
      if (pending.length) send({ type: 'records', runId, records: pending, total: config.steps });
      pending = [];
      lastFlush = Date.now();
    };
    let reason: StopReason = 'completed';
    while (trainer.stepsDone < config.steps) {
      if (Atomics.load(cancelled, 0) !== 0) {
        reason = 'cancelled';
        break;
      }
      const record = trainer.step();
      pending.push(record);
      if (Date.now() - lastFlush >= FLUSH_MS) flush();
      if (config.stopAboveNorm !== undefined && !(record.grad_norm <= config.stopAboveNorm)) {
        reason = 'stop-rule';
        break;
      }
    }
    flush();
    send({ type: 'done', runId, reason, steps: trainer.stepsDone, elapsedMs: Date.now() - started });
  } catch (error) {
    send({ type: 'error', runId, message: errorMessage(error) });
  }
});

// Playground requests: the host sends one at a time (the newest slider values), so each is computed as it comes.
port.on('message', (raw: unknown) => {
  const request = playgroundRequestSchema.parse(raw);
  if (!request) return;
  const { requestId } = request;
  let reply: PlaygroundReply;
  try {
    reply = { type: 'playgroundResult', requestId, result: computePlayground(request.params) };
  } catch (error) {
    reply = { type: 'playgroundError', requestId, message: errorMessage(error) };
  }
  port.postMessage(reply);
});
