/**
 * Which runs the logs worker follows, and where the sidebar puts each: from
 * the files the workspace's log globs matched, from a file or folder a user
 * opened.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseWandbRunFolder } from '../logs/formats/wandb';
import { discoverRuns, specForFile, type RunSpec } from '../logs/open';
import { isInside } from '../shared/paths';
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

const CHECKPOINT_DIR = /^checkpoint-\d+$/;
/** Files whose run the folder layout decides: one the walk left out was left out on purpose (an older checkpoint). */
const LAYOUT_FILE = /^trainer_state\.json$|tfevents|\.wandb$/;

/** One identity per followed run source, whoever asked for it. */
export function specId(spec: RunSpec): string {
  return `${spec.source.format}:${spec.source.path}`;
}

const exists = (file: string): Promise<boolean> => fs.stat(file).then(() => true, () => false);

/**
 * The folder whose discovery finds a matched file's run: the run folder when
 * the file sits in a tool's layout (a W&B run, an MLflow run's metrics, a
 * Hugging Face checkpoint), else the file's own folder.
 */
async function runRoot(file: string, top: string): Promise<{ root: string; layout: boolean }> {
  for (let dir = path.dirname(file); isInside(dir, top); dir = path.dirname(dir)) {
    const name = path.basename(dir);
    if (parseWandbRunFolder(name)) return { root: dir, layout: true };
    if (CHECKPOINT_DIR.test(name)) return { root: path.dirname(dir), layout: true };
    if (name === 'metrics' && (await exists(path.join(path.dirname(dir), 'meta.yaml')))) return { root: path.dirname(dir), layout: true };
    if (dir === top || path.dirname(dir) === dir) break;
  }
  return { root: path.dirname(file), layout: false };
}

/**
 * The runs holding the matched files of one folder: a TensorBoard dir, an
 * MLflow run, a W&B run or a Hugging Face output dir is one run; a loose
 * file is a run of its own. Runs none of whose files matched are left out,
 * so the globs and the exclude setting decide what is listed.
 */
export async function discoverMatched(top: string, files: readonly string[]): Promise<RunSpec[]> {
  const matched = new Set(files);
  const placed = await Promise.all(files.map(async (file) => ({ file, ...(await runRoot(file, top)) })));
  const specs = new Map<string, RunSpec>();
  const covered = new Set<string>();
  const searched = new Set<string>();
  const add = (spec: RunSpec): void => {
    specs.set(specId(spec), spec);
    for (const file of spec.files) covered.add(file.path);
  };
  const search = async (root: string): Promise<void> => {
    searched.add(root);
    for (const spec of await discoverRuns(root)) if (spec.files.some((file) => matched.has(file.path))) add(spec);
  };

  // A root inside another is reached by the outer one's walk: search the outermost only.
  const roots = new Set(placed.map((p) => p.root));
  const hasOuterRoot = (root: string): boolean => {
    for (let dir = root; dir !== top && path.dirname(dir) !== dir; ) {
      dir = path.dirname(dir);
      if (roots.has(dir)) return true;
    }
    return false;
  };
  for (const root of roots) if (!hasOuterRoot(root)) await search(root);
  // The walk skips hidden and tool folders and stops at a depth: a matched file there is searched from its own root.
  for (const { file, root } of placed) if (!covered.has(file) && !searched.has(root)) await search(root);
  // A loose file whose name no walk looks at: the user's glob says it is a log.
  for (const { file, layout } of placed) {
    if (covered.has(file) || layout || LAYOUT_FILE.test(path.basename(file))) continue;
    const spec = await specForFile(file).catch(() => undefined);
    if (spec) add(spec);
  }
  return [...specs.values()];
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
