import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

/**
 * Builds these bundles (scripts/build.mjs names: cli, training-worker,
 * logs-worker, server, python-worker, extension, webview) with the build
 * script, exactly as they ship (minified with `production`, as in the
 * .vsix), into `outdir` (default: a fresh temp folder), and returns that
 * folder. Tests and benchmarks never restate esbuild's options.
 */
export function buildBundles(names: readonly string[], { outdir = mkdtempSync(path.join(tmpdir(), 'gradlens-bundles-')), production = false } = {}): string {
  const args = ['scripts/build.mjs', '--only', names.join(','), '--outdir', outdir, ...(production ? ['--production'] : [])];
  const built = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building ${names.join(', ')} failed: ${built.stderr}`);
  return outdir;
}
