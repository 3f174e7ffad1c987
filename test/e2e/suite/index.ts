/**
 * The end-to-end suite's entry, as @vscode/test-electron and the code-server
 * driver both expect: `run()` runs mocha inside the extension host.
 * GRADLENS_E2E_SUITE picks the trusted-workspace suite (`main`, the default)
 * or the restricted-mode one (`restricted`).
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Run in this order: activation first, so its timing is the extension's own. */
const MAIN = ['activation', 'runs-view', 'dashboard', 'live', 'language-server', 'experiment', 'run-script'];

export function run(): Promise<void> {
  const restricted = process.env.GRADLENS_E2E_SUITE === 'restricted';
  // GRADLENS_E2E_GREP runs only the tests whose titles match, as mocha's --grep.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec', grep: process.env.GRADLENS_E2E_GREP });
  const files = restricted ? ['restricted'] : MAIN;
  const present = new Set(readdirSync(__dirname));
  const unlisted = [...present].filter((file) => file.endsWith('.e2e.js') && ![...MAIN, 'restricted'].includes(file.slice(0, -'.e2e.js'.length)));
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
