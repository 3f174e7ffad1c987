// `npm run test:e2e`: the end-to-end suite inside a real VS Code (the Node
// extension host of code-server, its workbench in headless Chromium), once
// in a trusted workspace, once in restricted mode and once on a workspace
// of 1,000 runs (the sweep suite); with --vsix FILE,
// against that package installed instead of this folder.
//
//   node test/e2e/run.mjs [--vsix gradlens-0.1.0.vsix] [--suite main|restricted|sweep]
//
// The tools come from test/e2e/setup.sh, in $GRADLENS_E2E_TOOLS (default
// ~/.cache/gradlens-e2e). Screenshots and logs go to test-results/e2e/;
// GRADLENS_UPDATE_SCREENSHOTS=1 also copies the screenshots into docs/screenshots/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSuite, prepareWorkspace, ROOT } from './prepare.mjs';

const { values: args } = parseArgs({ options: { vsix: { type: 'string' }, suite: { type: 'string', multiple: true } } });
const tools = process.env.GRADLENS_E2E_TOOLS ?? path.join(os.homedir(), '.cache', 'gradlens-e2e');
const node24 = path.join(tools, 'node24', 'bin', 'node');
if (!existsSync(node24) || !existsSync(path.join(tools, 'node_modules', '.bin', 'code-server'))) {
  console.error(`The end-to-end tools are not in ${tools}: run \`bash test/e2e/setup.sh\` first (it installs Node 24, code-server and Chromium there).`);
  process.exit(2);
}
const suites = args.suite ?? ['main', 'restricted', 'sweep'];
const tests = await buildSuite();
const variant = args.vsix ? 'vsix' : 'dev';

let failed = false;
for (const suite of suites) {
  const workspace = await prepareWorkspace(suite);
  const artifacts = path.join(ROOT, 'test-results', 'e2e', `${variant}-${suite}`);
  rmSync(artifacts, { recursive: true, force: true });
  const driverArgs = [
    path.join(ROOT, 'test/e2e/driver/run-tests.js'),
    '--extensionDevelopmentPath', args.vsix ? path.join(ROOT, 'test/e2e/host-extension') : ROOT,
    '--extensionTestsPath', tests,
    '--workspace', workspace,
    '--artifacts', artifacts,
    '--timeout', '600',
    // The web workbench saves edits after a delay by default; the tests compare the editor with the file on disk.
    '--setting', 'files.autoSave="off"',
    ...(args.vsix ? ['--install-extension', path.resolve(args.vsix)] : []),
    ...(suite === 'restricted' ? ['--untrusted'] : []),
  ];
  console.log(`[e2e] ${variant} ${suite}: ${args.vsix ? `GradLens installed from ${args.vsix}` : 'GradLens from this folder'}, workspace ${workspace}`);
  const started = Date.now();
  const result = spawnSync(node24, driverArgs, {
    stdio: 'inherit',
    env: {
      ...process.env,
      PATH: `${path.dirname(node24)}:${process.env.PATH}`,
      E2E_TOOLS_DIR: tools,
      GRADLENS_E2E_SUITE: suite,
      GRADLENS_E2E_ARTIFACTS: artifacts,
    },
  });
  console.log(`[e2e] ${variant} ${suite}: exit ${result.status} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  rmSync(workspace, { recursive: true, force: true });
  if (result.status !== 0) failed = true;
  else if (process.env.GRADLENS_UPDATE_SCREENSHOTS === '1') {
    for (const shot of readdirSync(artifacts).filter((f) => f.startsWith('vscode-') && f.endsWith('.png'))) {
      copyFileSync(path.join(artifacts, shot), path.join(ROOT, 'docs', 'screenshots', shot));
    }
  }
}
process.exit(failed ? 1 : 0);
