/**
 * How a training command is started with GradLens's Python bootstrap
 * (media/gradlens_instrument.py): shared by `gradlens run` and the VS Code
 * command that runs it in a terminal.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The folder whose sitecustomize.py loads the bootstrap: media/gradlens_site, found from the bundle (dist/) or the sources (src/instrument/). */
export function bootstrapSite(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const site = path.join(dir, 'media', 'gradlens_site');
    if (existsSync(path.join(site, 'sitecustomize.py'))) return site;
    if (path.dirname(dir) === dir) throw new Error(`media/gradlens_site not found above ${from}`);
  }
}

/** What the command is running: the script, the module after -m, or the program. */
export function scriptStem(command: readonly string[]): string {
  const module = command.indexOf('-m');
  if (module >= 0 && command[module + 1]) return command[module + 1].split('.').at(-1)!;
  const script = command.find((arg) => arg.endsWith('.py'));
  return path.basename(script ?? command[0]).replace(/\.py$/, '');
}

/** gradlens-runs/train-20261203-061418.jsonl */
export function defaultLogPath(command: readonly string[], now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return path.join('gradlens-runs', `${scriptStem(command)}-${stamp}.jsonl`);
}

/** The environment that makes every Python process of the command load the bootstrap. */
export function instrumentedEnv(base: NodeJS.ProcessEnv, site: string, out: string, settings: { every?: number; weightsEvery?: number; allRanks?: boolean }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONPATH: base.PYTHONPATH ? `${site}${path.delimiter}${base.PYTHONPATH}` : site, GRADLENS_OUT: out };
  // The VS Code command starts this CLI with Electron as Node: the training must not inherit that.
  delete env.ELECTRON_RUN_AS_NODE;
  if (settings.every !== undefined) env.GRADLENS_EVERY = String(settings.every);
  if (settings.weightsEvery !== undefined) env.GRADLENS_WEIGHTS_EVERY = String(settings.weightsEvery);
  env.GRADLENS_RANKS = settings.allRanks ? 'all' : '0';
  return env;
}

/**
 * A command line's arguments as a POSIX shell splits them: blanks separate,
 * single quotes keep everything, double quotes keep all but \\ \" \$ \`,
 * a backslash outside quotes keeps the next character. Throws on an
 * unclosed quote.
 */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (current !== undefined) args.push(current);
      current = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${text}`);
      current = (current ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && '\\"$`'.includes(text[i + 1] ?? '')) i++;
        value += text[i];
      }
      if (i >= text.length) throw new Error(`unclosed " in: ${text}`);
      current = (current ?? '') + value;
    } else if (c === '\\' && i + 1 < text.length) {
      current = (current ?? '') + text[++i];
    } else {
      current = (current ?? '') + c;
    }
  }
  if (current !== undefined) args.push(current);
  return args;
}

const MAIN_GUARD = /^if\s+(?:__name__\s*==\s*(['"])__main__\1|(['"])__main__\2\s*==\s*__name__)\s*:/;

/** The lines (from 0) of a Python file's top-level `if __name__ == "__main__":`, where the script starts training. */
export function mainGuardLines(text: string): number[] {
  return text.split(/\r?\n/).flatMap((line, index) => (MAIN_GUARD.test(line) ? [index] : []));
}
