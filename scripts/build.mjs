// One build for every bundle GradLens ships. Each bundle is self-contained;
// Node bundles keep `vscode` external (the extension host provides it).
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const production = process.argv.includes('--production');

/** web-tree-sitter's ESM build locates itself with import.meta.url, which a CommonJS bundle must supply. */
const IMPORT_META_URL = {
  define: { 'import.meta.url': 'import_meta_url' },
  banner: 'const import_meta_url = require("url").pathToFileURL(__filename).href;',
};

/** Every bundle: its entry, its output, and where it runs. */
const BUNDLES = [
  { entry: 'src/cli/main.ts', out: 'dist/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  { entry: 'src/worker/main.ts', out: 'dist/worker.js', platform: 'node' },
  { entry: 'src/worker/logs-main.ts', out: 'dist/logs-worker.js', platform: 'node' },
  { entry: 'src/server/main.ts', out: 'dist/server.js', platform: 'node', define: IMPORT_META_URL.define, banner: IMPORT_META_URL.banner },
  { entry: 'src/extension/main.ts', out: 'dist/extension.js', platform: 'node' },
  { entry: 'src/webview/main.ts', out: 'dist/webview.js', platform: 'browser' },
];

/** Files the bundles load at run time, copied beside them: the Python grammar for the language server. */
const ASSETS = ['node_modules/web-tree-sitter/tree-sitter.wasm', 'node_modules/tree-sitter-python/tree-sitter-python.wasm'];

const started = Date.now();
await mkdir('dist', { recursive: true });
await Promise.all([
  ...BUNDLES.map((b) =>
    build({
      entryPoints: [b.entry],
      outfile: b.out,
      bundle: true,
      platform: b.platform,
      format: b.platform === 'browser' ? 'iife' : 'cjs',
      target: b.platform === 'browser' ? 'es2022' : 'node20',
      external: ['vscode'],
      sourcemap: production ? false : 'linked',
      minify: production,
      define: b.define,
      banner: b.banner ? { js: b.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
  ...ASSETS.map((file) => copyFile(file, `dist/${file.split('/').pop()}`)),
]);
console.log(`built ${BUNDLES.map((b) => b.out).join(', ')} and copied ${ASSETS.length} wasm files in ${Date.now() - started} ms`);
