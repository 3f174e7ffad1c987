/**
 * The end-to-end suite's entry, as @vscode/test-electron and the code-server
 * driver both expect: `run()` runs mocha inside the extension host.
 * GRADLENS_E2E_SUITE picks the trusted-workspace suite (`main`, the default),
 * the restricted-mode one (`restricted`) or the 1,000-run one (`sweep`).
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Run in this order: activation first, so its timing is the extension's own. */
const MAIN = ['activation', 'runs-view', 'dashboard', 'live', 'language-server', 'experiment', 'run-script'];

export function run(): Promise<void> {
  const suite = process.env.GRADLENS_E2E_SUITE ?? 'main';
  // GRADLENS_E2E_GREP runs only the tests whose titles match, as mocha's --grep.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec', grep: process.env.GRADLENS_E2E_GREP });
  const files = suite === 'main' ? MAIN : [suite];
  const present = new Set(readdirSync(__dirname));
  const unlisted = [...present].filter((file) => file.endsWith('.e2e.js') && ![...MAIN, 'restricted', 'sweep'].includes(file.slice(0, -'.e2e.js'.length)));
  if (unlisted.length > 0) throw new Error(`${unlisted.join(', ')}: not in the suite's order (test/e2e/suite/index.ts)`);
  for (const name of files) {
    const file = `${name}.e2e.js`;
    if (!present.has(file)) throw new Error(`the end-to-end suite has no ${file} in ${__dirname}`);
    mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} end-to-end test(s) failed`)) : resolve()));
  });
}
