/**
 * What a command was given, whoever called it: the Runs tree passes its run
 * entry (and, with several selected, all of them), the Findings tree a Focus
 * `{ key, step, param? }`, the dashboard an array of keys. No vscode import.
 */
import { focusSchema, type Focus } from '../protocol/dashboard';
import { runOriginSchema } from '../worker/logs-protocol';
import type { SweepScope } from './runs/present';

export interface RunsArgument {
  keys: string[];
  /** A place to look at, when the argument named a step or a parameter. */
  focus?: Focus;
}

const keyOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : focusSchema.parse(value)?.key);

/** The runs an argument names, or undefined when it names none (the palette passes nothing). */
export function runsArgument(arg: unknown): RunsArgument | undefined {
  if (Array.isArray(arg)) {
    const keys = arg.map(keyOf);
    return keys.length > 0 && keys.every((k): k is string => k !== undefined) ? { keys: [...new Set(keys)] } : undefined;
  }
  const focus = focusSchema.parse(arg);
  if (!focus) return undefined;
  return focus.step !== undefined || focus.param !== undefined ? { keys: [focus.key], focus } : { keys: [focus.key] };
}

/** A Runs view folder row (the tree passes its RunGroup): the runs it and the folders under it hold; else undefined. */
export function sweepScopeArgument(arg: unknown): SweepScope | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const { origin, name, runs } = arg as { origin?: unknown; name?: unknown; runs?: unknown };
  const parsedOrigin = runOriginSchema.parse(origin);
  return parsedOrigin !== undefined && typeof name === 'string' && Array.isArray(runs) ? { origin: parsedOrigin, folder: name } : undefined;
}

/** Run Experiment's argument `{ preset: name }` (from a keybinding, or a test): the preset's name, else undefined and the person picks. */
export function presetArgument(arg: unknown): string | undefined {
  const preset = typeof arg === 'object' && arg !== null ? (arg as { preset?: unknown }).preset : undefined;
  return typeof preset === 'string' ? preset : undefined;
}

/** Run Training Script's argument `{ script, args? }` (a keybinding, a test): the script's path and, when given, its arguments as typed in a shell (then nothing is asked). */
export function scriptArgument(arg: unknown): { script: string; args?: string } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const { script, args } = arg as { script?: unknown; args?: unknown };
  if (typeof script !== 'string' || script === '') return undefined;
  return typeof args === 'string' ? { script, args } : { script };
}
