// One build for every bundle GradLens ships. Each bundle is self-contained;
// Node bundles keep `vscode` external (the extension host provides it).
//
//   node scripts/build.mjs [--production] [--only NAME,...] [--outdir DIR]
//
// --only builds some bundles (by name: cli, training-worker, logs-worker, server,
// python-worker, extension, webview), --outdir writes them elsewhere than dist/: the server
// tests build the server exactly as it ships, into a temp folder.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values: args } = parseArgs({
  options: { production: { type: 'boolean', default: false }, only: { type: 'string' }, outdir: { type: 'string', default: 'dist' } },
});

/** web-tree-sitter's ESM build locates itself with import.meta.url, which a CommonJS bundle must supply. */
const IMPORT_META_URL = {
  define: { 'import.meta.url': 'import_meta_url' },
  banner: 'const import_meta_url = require("url").pathToFileURL(__filename).href;',
};

/** Every bundle: its name, entry, where it runs, and the files it loads at run time (copied beside it). */
const BUNDLES = [
  { name: 'cli', entry: 'src/cli/main.ts', platform: 'node', banner: '#!/usr/bin/env node' },
  { name: 'training-worker', entry: 'src/worker/training-main.ts', platform: 'node' },
  { name: 'logs-worker', entry: 'src/worker/logs-main.ts', platform: 'node' },
  {
    name: 'server',
    entry: 'src/server/main.ts',
    platform: 'node',
    ...IMPORT_META_URL,
    // The Python grammar for the language server.
    assets: ['node_modules/web-tree-sitter/tree-sitter.wasm', 'node_modules/tree-sitter-python/tree-sitter-python.wasm'],
  },
  // The language server's Python analysis thread, which also loads the grammar (from the same folder as the server).
  { name: 'python-worker', entry: 'src/server/python-worker.ts', platform: 'node', ...IMPORT_META_URL },
  { name: 'extension', entry: 'src/extension/main.ts', platform: 'node' },
  { name: 'webview', entry: 'src/webview/main.ts', platform: 'browser' },
];

const wanted = args.only ? args.only.split(',') : BUNDLES.map((b) => b.name);
const unknown = wanted.filter((name) => !BUNDLES.some((b) => b.name === name));
if (unknown.length > 0) throw new Error(`no bundle named ${unknown.join(', ')}; the bundles are ${BUNDLES.map((b) => b.name).join(', ')}`);
const chosen = BUNDLES.filter((b) => wanted.includes(b.name));

const started = Date.now();
await mkdir(args.outdir, { recursive: true });
await Promise.all(
  chosen.flatMap((b) => [
    build({
      entryPoints: [b.entry],
      outfile: path.join(args.outdir, `${b.name}.js`),
      bundle: true,
      platform: b.platform,
      format: b.platform === 'browser' ? 'iife' : 'cjs',
      target: b.platform === 'browser' ? 'es2022' : 'node20',
      external: ['vscode'],
      sourcemap: args.production ? false : 'linked',
      minify: args.production,
      define: b.define,
      banner: b.banner ? { js: b.banner } : undefined,
      logLevel: 'warning',
    }),
    ...(b.assets ?? []).map((file) => copyFile(file, path.join(args.outdir, path.basename(file)))),
  ]),
);
console.log(`built ${chosen.map((b) => `${b.name}.js`).join(', ')} into ${args.outdir}/ in ${Date.now() - started} ms`);
