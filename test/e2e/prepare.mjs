// What both end-to-end runners need: the suite bundled for the extension host,
// and a fresh workspace of real training logs and a training script (the
// tests append to a log and edit the script, so each run gets its own copy).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUITE_DIR = path.join(ROOT, 'out', 'e2e');

/** Bundles the suite's entry and each test file (test/e2e/suite/*.e2e.ts) into out/e2e/ (vscode and mocha stay external: the host and node_modules provide them). */
export async function buildSuite() {
  const suite = path.join(ROOT, 'test/e2e/suite');
  await build({
    entryPoints: readdirSync(suite).filter((file) => file === 'index.ts' || file.endsWith('.e2e.ts')).map((file) => path.join(suite, file)),
    outdir: SUITE_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return path.join(SUITE_DIR, 'index.js');
}

/** The sweep suite's workspace: this many runs under sweep/ (test/sweep-folder.ts), and nothing else. */
export const SWEEP_RUNS = 1000;

/** test/sweep-folder.ts, bundled for this plain-Node script. */
async function sweepWriter() {
  const outfile = path.join(ROOT, 'out', 'e2e-prepare', 'sweep-folder.cjs');
  await build({ entryPoints: [path.join(ROOT, 'test/sweep-folder.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  return createRequire(import.meta.url)(outfile).writeSweep;
}

/** Where each fixture goes in the workspace: one run per format the issue names, and a script without clipping. */
const FIXTURES = [
  ['test/fixtures/real/torch_lstm_sgd_noclip/grads.jsonl', 'pytorch-lstm/grads.jsonl'],
  ['test/fixtures/real/lightning_rnn_noclip/csv/version_0/metrics.csv', 'lightning/version_0/metrics.csv'],
  ['test/fixtures/real/hf_gpt2_lr3e-4_clip1/trainer_state.json', 'hf-gpt2/trainer_state.json'],
  ['test/fixtures/real/torch_rnn_orthogonal_clip1/tb', 'tensorboard-rnn/tb'],
  ['test/python-rules/corpus/plain_loop.py', 'train/plain_loop.py'],
];

/**
 * Workspace settings an untrusted repository could ship to hide its runs' explosions or freeze the logs
 * worker (a tag pattern that backtracks for minutes as a regular expression); restricted mode ignores them.
 */
export const HOSTILE_SETTINGS = {
  'gradlens.tagRoles': { [`${'*'.repeat(13)}X`]: 'loss' },
  'gradlens.warnThreshold': 1e12,
  'gradlens.alertThreshold': 1e13,
  'gradlens.logGlobs': ['**/nothing-here.none'],
};

/**
 * A new workspace folder under the system's temp dir; returns its path. The main and restricted suites get the
 * fixtures (the restricted one with HOSTILE_SETTINGS), the sweep suite a sweep folder of SWEEP_RUNS runs alone,
 * so the other suites' Runs view rows stay what they expect.
 */
export async function prepareWorkspace(suite = 'main') {
  const workspace = mkdtempSync(path.join(tmpdir(), 'gradlens-e2e-ws-'));
  if (suite === 'sweep') {
    (await sweepWriter())(path.join(workspace, 'sweep'), SWEEP_RUNS, path.join(ROOT, 'test/fixtures/real'));
    return workspace;
  }
  for (const [from, to] of FIXTURES) {
    mkdirSync(path.dirname(path.join(workspace, to)), { recursive: true });
    cpSync(path.join(ROOT, from), path.join(workspace, to), { recursive: true });
  }
  // The same script with Windows line ends and tab indents: one undo must restore it byte for byte.
  const script = readFileSync(path.join(ROOT, 'test/python-rules/corpus/plain_loop.py'), 'utf8');
  writeFileSync(path.join(workspace, 'train/crlf_tabs_loop.py'), script.replace(/^( {4})+/gm, (spaces) => '\t'.repeat(spaces.length / 4)).replace(/\n/g, '\r\n'));
  if (suite === 'restricted') {
    mkdirSync(path.join(workspace, '.vscode'));
    writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(HOSTILE_SETTINGS, null, 2));
  }
  return workspace;
}
