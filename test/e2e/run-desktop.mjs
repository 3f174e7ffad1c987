// `npm run test:e2e:desktop`: the same end-to-end suite in VS Code desktop
// through @vscode/test-electron, for anyone who has it. VS Code comes from
// $VSCODE_EXECUTABLE when set, else @vscode/test-electron downloads it (which
// needs the internet). Only the trusted-workspace suite runs here
// (test-electron opens workspaces trusted), and the checks that read the
// webviews' DOM from the browser side need the code-server driver's inspector,
// so they are skipped: see test/e2e/run.mjs for the full run.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildSuite, prepareWorkspace, ROOT } from './prepare.mjs';

const workspace = await prepareWorkspace();
try {
  await runTests({
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: await buildSuite(),
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
    launchArgs: [workspace, '--disable-extensions'],
    extensionTestsEnv: { GRADLENS_E2E_SUITE: 'main', GRADLENS_E2E_ARTIFACTS: path.join(ROOT, 'test-results', 'e2e', 'desktop-main') },
  });
} catch (error) {
  console.error(`[e2e desktop] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
