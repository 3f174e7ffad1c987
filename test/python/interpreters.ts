import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Debian's Python with its PyTorch (the python3 on PATH may be a pyenv shim without torch). */
export const PYTHON = '/usr/bin/python3';

/** A Python without torch: a virtual environment that does not see the system's packages. */
export function pythonWithoutTorch(dir: string): string {
  const venv = path.join(dir, 'venv-without-torch');
  const made = spawnSync(PYTHON, ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return path.join(venv, 'bin', 'python');
}
