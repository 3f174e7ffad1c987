/**
 * Entry of the logs worker thread (bundled as dist/logs-worker.js): reading,
 * tailing and diagnosing logs happen here, never on the extension host's
 * thread. Messages that do not follow the protocol are dropped and reported.
 */
import { parentPort } from 'node:worker_threads';
import { hostToLogsSchema, type LogsToHost } from './logs-protocol';
import { LogsService } from './logs-service';

const port = parentPort;
if (!port) throw new Error('the GradLens logs worker must run in a worker thread');

// A report's bytes move to the host without a copy.
const send = (message: LogsToHost): void =>
  port.postMessage(message, message.type === 'report' ? [message.html, message.csv, message.markdown].map((bytes) => bytes.buffer as ArrayBuffer) : []);
const service = new LogsService(send);

port.on('message', (raw: unknown) => {
  const message = hostToLogsSchema.parse(raw);
  if (message) service.handle(message);
  else send({ type: 'log', level: 'warn', message: 'logs worker: dropped a message that does not follow the protocol' });
});
