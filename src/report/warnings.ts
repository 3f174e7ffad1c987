import type { Run } from '../logs/run';

/** Each read warning as `file:line: message` or `file (byte N): message`. */
export function warningLines(run: Pick<Run, 'warnings'>): string[] {
  return run.warnings.map((w) => `${w.file}${w.line !== undefined ? `:${w.line}` : ''}${w.offset !== undefined ? ` (byte ${w.offset})` : ''}: ${w.message}`);
}
