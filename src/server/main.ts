/**
 * The language server's entry (bundled to dist/server.js). The transport
 * comes from the command line, as vscode-languageserver reads it:
 * `--node-ipc` when the extension's client forks it, `--stdio` (or
 * `--socket=N`, `--pipe=NAME`) when run by hand or by another editor.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all), { wasmDir: __dirname });
