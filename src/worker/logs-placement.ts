/**
 * Where the sidebar puts each run the logs worker follows: by its folder in
 * the workspace, or under Opened or Experiments. Which runs there are is
 * src/logs/discovery.ts's.
 */
import * as path from 'node:path';
import { CHECKPOINT_DIR, type RunSpec } from '../logs/discovery';
import type { MatchedFolder, OpenOrigin, RunSummary } from './logs-protocol';

/** Where a run sits in the sidebar, and whether it is listed before it holds data. */
export interface Placement {
  origin: RunSummary['origin'];
  group: string;
  name: string;
  title: string;
  /** List the run even with no steps: a file the user opened by name, an experiment that just started. */
  showEmpty: boolean;
}

/** The file or folder that stands for a run: a Hugging Face output dir rather than its trainer_state.json. */
function runLocation(spec: RunSpec): string {
  const { format, path: source } = spec.source;
  if (format !== 'hf-trainer-state') return source;
  const dir = path.dirname(source);
  return CHECKPOINT_DIR.test(path.basename(dir)) ? path.dirname(dir) : dir;
}

/** An MLflow run goes by its run name; any other by its file or folder name. */
function runName(spec: RunSpec): string {
  return spec.source.format === 'mlflow' ? (spec.source.id.split('/').pop() ?? spec.source.id) : path.basename(runLocation(spec));
}

const posixJoin = (...parts: string[]): string => parts.filter((part) => part !== '').join('/');
const posixRelative = (from: string, to: string): string => path.relative(from, to).split(path.sep).join('/');

/** A workspace run is grouped by its folder relative to the workspace folder. */
export function workspacePlacement(spec: RunSpec, folder: MatchedFolder): Placement {
  const location = runLocation(spec);
  const folderOfRun = location === folder.path ? '' : posixRelative(folder.path, path.dirname(location));
  const name = runName(spec);
  return {
    origin: 'workspace',
    group: folder.qualify ? posixJoin(folder.name, folderOfRun) : folderOfRun || folder.name,
    name,
    title: posixJoin(folder.qualify ? folder.name : '', folderOfRun, name),
    showEmpty: false,
  };
}

/** A run of an opened path is grouped under "Opened" (or "Experiments"), titled from the opened path down. */
export function openedPlacement(spec: RunSpec, opened: string, origin: OpenOrigin, single: boolean): Placement {
  const location = runLocation(spec);
  const name = runName(spec);
  return {
    origin,
    group: origin === 'experiment' ? 'Experiments' : 'Opened',
    name,
    title: single ? name : posixJoin(posixRelative(path.dirname(opened), path.dirname(location)), name),
    showEmpty: single || origin === 'experiment',
  };
}
