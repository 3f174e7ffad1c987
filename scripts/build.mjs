// One build for every bundle GradLens ships. Each bundle is self-contained;
// Node bundles keep `vscode` external (the extension host provides it).
import { build } from 'esbuild';

const production = process.argv.includes('--production');

/** Every bundle: its entry, its output, and where it runs. */
const BUNDLES = [
  { entry: 'src/cli/main.ts', out: 'dist/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  { entry: 'src/worker/main.ts', out: 'dist/worker.js', platform: 'node' },
  { entry: 'src/worker/logs-main.ts', out: 'dist/logs-worker.js', platform: 'node' },
  { entry: 'src/extension/main.ts', out: 'dist/extension.js', platform: 'node' },
  { entry: 'src/webview/main.ts', out: 'dist/webview.js', platform: 'browser' },
];

const started = Date.now();
await Promise.all(
  BUNDLES.map((b) =>
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
      banner: b.banner ? { js: b.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
);
console.log(`built ${BUNDLES.map((b) => b.out).join(', ')} in ${Date.now() - started} ms`);
