/**
 * Entry of the language server's Python analysis thread (bundled as
 * dist/python-worker.js, beside dist/server.js and the grammar's wasm
 * files): parsing a 50,000-line script takes seconds, and here it never
 * holds up the server's answers to hovers, CodeLenses or cancellations.
 * Messages that do not follow the protocol are dropped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PythonAnalyzer } from '../python';
import { pythonWorkerDataSchema, serverToPythonSchema, type PythonToServer, type ServerToPython } from './python-worker-protocol';
import { errorMessage } from '../shared/errors';

const port = parentPort;
const data = pythonWorkerDataSchema.parse(workerData);
if (!port || !data) throw new Error('the GradLens Python worker must run in a worker thread started with its workerData');

const abandoned = new Int32Array(data.abandoned);
const analyzer = PythonAnalyzer.load(data.wasmDir);
const send = (message: PythonToServer): void => port.postMessage(message);

async function answer(request: ServerToPython): Promise<PythonToServer> {
  const loaded = await analyzer;
  const isAbandoned = () => Atomics.load(abandoned, 0) === request.id;
  if (isAbandoned()) return { type: 'abandoned', id: request.id };
  const reply = compute(loaded, request, isAbandoned);
  return isAbandoned() ? { type: 'abandoned', id: request.id } : reply;
}

/** The answer to `request`; every analysis stops mid-parse (and between rules) once `isCancelled`, its answer then dropped. */
function compute(loaded: PythonAnalyzer, request: ServerToPython, isCancelled: () => boolean): PythonToServer {
  const { id } = request;
  switch (request.type) {
    case 'analyze':
      return { type: 'findings', id, findings: loaded.analyze(request.text, { maxNorm: request.maxNorm, isCancelled }) };
    case 'logger':
      return { type: 'plan', id, plan: loaded.loggerPlan(request.text, { line: request.line, orFirstLoop: request.orFirstLoop }, { isCancelled }) };
    case 'hintLocation':
      return { type: 'location', id, location: loaded.hintLocation(request.text, request.hint, { maxNorm: request.maxNorm, isCancelled }) };
    case 'trainingStep':
      return { type: 'trainingStep', id, found: loaded.hasTrainingStep(request.text, { isCancelled }) };
  }
}

port.on('message', (raw: unknown) => {
  const request = serverToPythonSchema.parse(raw);
  // The server sends only messages of the protocol; one that is not has no id to answer.
  if (!request) return;
  answer(request).then(send, (error: unknown) => send({ type: 'failed', id: request.id, message: errorMessage(error) }));
});
