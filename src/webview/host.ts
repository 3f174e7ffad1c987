/**
 * The webview's side of the wire: messages to and from the host, encoded
 * with the shared wire format and parsed with the shared schemas. Outside VS
 * Code (a standalone report) there is no host: the page's embedded data is
 * delivered as the first message, and nothing is sent.
 */
import type { Schema } from '../protocol/schema';
import { decodeWire, encodeWire } from '../protocol/wire';
import { DATA_ELEMENT_ID } from '../report/page';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

export interface HostBridge<In, Out> {
  /** No host to talk to: a report opened in a browser. */
  readonly standalone: boolean;
  post(message: Out): void;
  /** Valid messages only; anything else is dropped (and counted, for tests). */
  onMessage(handler: (message: In) => void): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export function connectToHost<In, Out>(incoming: Schema<In>): HostBridge<In, Out> {
  const api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  const handlers: Array<(message: In) => void> = [];
  const deliver = (raw: unknown): void => {
    const message = typeof raw === 'string' ? incoming.parse(decodeWire(raw)) : undefined;
    if (message === undefined) {
      document.body.dataset.droppedMessages = String(Number(document.body.dataset.droppedMessages ?? 0) + 1);
      return;
    }
    for (const handler of handlers) handler(message);
  };
  window.addEventListener('message', (event: MessageEvent) => deliver(event.data));
  let standaloneState: unknown;
  return {
    standalone: api === undefined,
    post: (message) => api?.postMessage(encodeWire(message)),
    onMessage(handler) {
      handlers.push(handler);
      const embedded = document.getElementById(DATA_ELEMENT_ID);
      if (!api && embedded?.textContent && handlers.length === 1) queueMicrotask(() => deliver(embedded.textContent));
    },
    getState: () => (api ? api.getState() : standaloneState),
    setState: (state) => {
      if (api) api.setState(state);
      else standaloneState = state;
    },
  };
}
