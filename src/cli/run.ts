import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapSite, defaultLogPath, instrumentedEnv } from '../instrument/launch';
import { type CommandSpec, type Parsed, UsageError } from './args';

export const runSpec: CommandSpec = {
  name: 'run',
  summary:
    'Runs your training command unchanged, with GradLens’s Python bootstrap loaded (PYTHONPATH), and logs every torch.optim step: per-parameter gradient norms before clipping, loss, lr, clipping, AMP loss scale, weight norms. ' +
    'Prints where the log goes and exits with the command’s own exit code (127 when it cannot be started).',
  usage: 'gradlens run [--out FILE] [--every N] [--weights-every N] [--all-ranks] -- COMMAND [ARGS...]',
  positionals: [1, Infinity],
  options: [
    { name: 'out', type: { kind: 'string', placeholder: 'a file path' }, help: 'the JSON-lines log, overwritten (default gradlens-runs/SCRIPT-YYYYMMDD-HHMMSS.jsonl)' },
    { name: 'every', type: { kind: 'int', min: 1 }, help: 'log every N-th optimizer step (default 1)' },
    { name: 'weights-every', type: { kind: 'int', min: 0 }, help: 'weight norms and update ratios every N-th step (default 100; 0 = never)' },
    { name: 'all-ranks', type: { kind: 'flag' }, help: 'under torch.distributed, every rank writes FILE with .rank<r> before the extension (default: rank 0 only)' },
    { name: 'keep-open', type: { kind: 'flag' }, help: 'when the command ends, wait for a key before exiting (the VS Code command uses it, so its terminal stays open)' },
  ],
};

const say = (line: string) => process.stderr.write(`gradlens run: ${line}\n`);

export async function runCommand(parsed: Parsed): Promise<number> {
  const command = parsed.positionals;
  if (command[0].startsWith('-')) throw new UsageError(`gradlens run: the command comes after "--", e.g. gradlens run -- python3 train.py (usage: ${runSpec.usage})`);
  const out = path.resolve((parsed.options.get('out') as string | undefined) ?? defaultLogPath(command));
  // A new run, a new log: the bootstrap creates the file at the first step.
  rmSync(out, { force: true });
  const env = instrumentedEnv(process.env, bootstrapSite(), out, {
    every: parsed.options.get('every') as number | undefined,
    weightsEvery: parsed.options.get('weights-every') as number | undefined,
    allRanks: parsed.options.get('all-ranks') === true,
  });
  say(`logging gradients to ${out}`);
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
  // Ctrl+C reaches the command through the terminal; stopping this process (kill, a job scheduler) stops it too.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => [signal, signal === 'SIGINT' ? () => {} : forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      const missing = error.code === 'ENOENT';
      say(`cannot start "${command[0]}": ${missing ? 'no such program (is the interpreter installed, and on PATH?)' : error.message}`);
      resolve(missing ? 127 : 126);
    });
    child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
  for (const [signal, handler] of handlers) process.off(signal, handler);
  if (existsSync(out)) {
    say(`the log is ${out}; diagnose it with: gradlens analyze ${JSON.stringify(out)}`);
  } else if (code !== 127 && code !== 126 && lacksTorch(command[0])) {
    say(`nothing was logged: ${command[0]} cannot import torch. Install PyTorch for this interpreter, or run with the one that has it.`);
  } else if (code !== 127 && code !== 126) {
    say(
      `nothing was logged (${out} was not written): the command ${code === 0 ? 'finished' : `exited with code ${code}`} before any torch.optim optimizer stepped in a Python process that loaded GradLens. ` +
        'Check that this interpreter has torch, and that Python is not started with -S or -I (which skip PYTHONPATH).',
    );
  }
  if (parsed.options.get('keep-open') === true && process.stdin.isTTY) await keyPress();
  return code;
}

function keyPress(): Promise<void> {
  process.stderr.write('\nPress any key to close.\n');
  process.stdin.setRawMode(true);
  return new Promise((resolve) =>
    process.stdin.once('data', () => {
      process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve();
    }),
  );
}

/** Whether a Python interpreter fails to import torch (asked only once nothing was logged). */
function lacksTorch(program: string): boolean {
  if (!/^python[\d.]*(\.exe)?$/i.test(path.basename(program))) return false;
  return spawnSync(program, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status !== 0;
}
