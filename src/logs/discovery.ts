/**
 * Which runs are on disk: the layouts of the tools that write them (an
 * MLflow run, a W&B run folder, a TensorBoard log dir, a Hugging Face output
 * dir and its checkpoint-N folders), loose log files, and the run a file
 * belongs to. Reading them is open.ts's.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { mapWithLimit } from '../shared/concurrency';
import { errorMessage } from '../shared/errors';
import { isInside } from '../shared/paths';
import { DETECT_BYTES, detectFormat } from './detect';
import { KeptWhileUnchanged, readBytesAt, readSmallText } from './files';
import { readTrainerState } from './formats/hf-trainer-state';
import { mlflowMetaFields, mlflowMetricReader, mlflowMetricTag, mlflowRunName } from './formats/mlflow';
import { readTextLog } from './formats/text';
import { readTfEvents } from './formats/tfevents';
import { parseWandbRunFolder, readWandb, readWandbSummary } from './formats/wandb';
import { isLogFileName } from './log-files';
import { READERS, REWRITTEN_FORMATS } from './readers';
import type { Run, RunSource } from './run';
import { mergeSettings, settingsFromText, type RunSettings } from './settings';
import type { ReaderFactory } from './sink';

export interface RunFile {
  path: string;
  reader: ReaderFactory;
  /** The file is rewritten whole on each save (trainer_state.json): re-read it rather than tail it. */
  rewritten: boolean;
}

/** A run found on disk, before reading: its identity and its files in reading order. */
export interface RunSpec {
  source: RunSource;
  files: RunFile[];
}

// Not runs: tool internals (MLflow's .trash and model registry, W&B's artifacts), environments, caches.
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', '.ipynb_checkpoints', 'site-packages', 'artifacts', 'models', '.trash']);
/** How deep a folder walk goes: deep enough for mlruns/<exp>/<run>/metrics/<a>/<b>. */
const MAX_DEPTH = 8;
/** A Hugging Face Trainer checkpoint folder: its run is its parent's. */
export const CHECKPOINT_DIR = /^checkpoint-\d+$/;
const WANDB_SUMMARY = 'wandb-summary.json';
/** Files whose run the folder layout decides: one the walk left out was left out on purpose (an older checkpoint). */
const LAYOUT_FILE = /^trainer_state\.json$|tfevents|\.wandb$/;
/**
 * What a file's first bytes say (its format, a trainer_state.json's step):
 * an opened folder is searched again every few seconds, and reading the
 * first bytes of each of a sweep's thousand logs again was most of that.
 */
const formats = new KeptWhileUnchanged(async (file) => detectFormat(file, await readBytesAt(file, 0, DETECT_BYTES)), 4096);

/** A file taken by name: one run whatever its name; undefined for binary content no reader knows. */
export async function specForFile(file: string, id = path.basename(file)): Promise<RunSpec | undefined> {
  const format = await formats.of(file);
  if (!format || format === 'mlflow') return undefined;
  // A W&B run's summary, taken out of its folder: the last value of each key, rewritten whole.
  const summary = format === 'wandb' && path.basename(file) === WANDB_SUMMARY;
  return {
    source: { id, path: file, files: [file], format },
    files: [{ path: file, reader: summary ? readWandbSummary : READERS[format], rewritten: summary || REWRITTEN_FORMATS.has(format) }],
  };
}

interface Listing {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/**
 * Folder listings: each of a sweep's 1,000 runs looks for settings in their
 * common parent, which would otherwise be listed 1,000 times.
 */
const listings = new KeptWhileUnchanged<Listing>(async (dir) => {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory()) dirs.push(entry.name);
    else if (entry.isFile()) files.push(entry.name);
  }
  return { files, dirs };
}, 256);

/** A folder's files and subfolders by name, sorted; none for a path that is missing or not a folder. */
const listDir = (dir: string): Promise<Listing> => listings.of(dir).catch(() => ({ files: [], dirs: [] }));

async function walkFiles(dir: string, depth: number): Promise<string[]> {
  const { files, dirs } = await listDir(dir);
  const found = files.map((name) => path.join(dir, name));
  // One folder at a time, so a deep tree does not hold a descriptor per folder.
  if (depth < MAX_DEPTH) for (const name of dirs) found.push(...(await walkFiles(path.join(dir, name), depth + 1)));
  return found;
}

/** The Trainer writes its keys sorted: `global_step` comes before `log_history`, in the first bytes of however big a file. */
const GLOBAL_STEP_BYTES = 1 << 20;

/**
 * `global_step` of a trainer_state.json, to pick the newest of a run's
 * checkpoints: -1 when there is no file, 0 when it does not say yet (the
 * Trainer is writing it), so the run does not vanish while it is rewritten.
 */
const globalSteps = new KeptWhileUnchanged(async (file) => {
  const match = /"global_step"\s*:\s*(\d+)/.exec(new TextDecoder().decode(await readBytesAt(file, 0, GLOBAL_STEP_BYTES)));
  return match ? Number(match[1]) : 0;
}, 4096);
const globalStep = (file: string): Promise<number> => globalSteps.of(file).catch(() => -1);

/** Folder walks in flight at once when the matched files lie in many run roots: each holds one descriptor at a time. */
const SEARCHES_AT_ONCE = 8;

/** The log LLaMA-Factory writes beside the Hugging Face Trainer's output (its LogCallback). */
const LLAMA_FACTORY_LOG = 'trainer_log.jsonl';

/**
 * Runs under a folder. A folder is a run when its layout says so (an MLflow
 * run, a W&B run (offline or not), a TensorBoard log dir, a Hugging Face output dir);
 * otherwise each log file in it is a run of its own, and subfolders are
 * searched the same way.
 */
export async function discoverRuns(root: string): Promise<RunSpec[]> {
  const specs: RunSpec[] = [];
  const idOf = (p: string) => path.relative(path.dirname(root), p).split(path.sep).join('/') || path.basename(p);

  async function visit(dir: string, depth: number): Promise<void> {
    const { files, dirs } = await listDir(dir);
    const id = idOf(dir);

    // MLflow: <run>/meta.yaml and <run>/metrics/<key> (keys with '/' nest); deleted runs stay hidden, as in MLflow's UI.
    if (files.includes('meta.yaml') && dirs.includes('metrics')) {
      const meta = (await readSmallText(path.join(dir, 'meta.yaml'))) ?? '';
      if (mlflowMetaFields(meta).lifecycle_stage === 'deleted') return;
      const runNameTag = await readSmallText(path.join(dir, 'tags', 'mlflow.runName'));
      const name = mlflowRunName(meta, runNameTag);
      const metricsDir = path.join(dir, 'metrics');
      const metricFiles = await walkFiles(metricsDir, depth);
      specs.push({
        source: { id: name ? `${idOf(path.dirname(dir))}/${name}` : id, path: dir, files: metricFiles, format: 'mlflow' },
        files: metricFiles.map((file) => ({
          path: file,
          reader: mlflowMetricReader(mlflowMetricTag(path.relative(metricsDir, file).split(path.sep).join('/'))),
          rewritten: false,
        })),
      });
      return;
    }

    // W&B run folder (offline-run-<time>-<id> or run-<time>-<id>): run-<id>.wandb holds the history; the
    // summary, rewritten whole, only stands in when that log is missing.
    const wandbRun = parseWandbRunFolder(path.basename(dir));
    if (wandbRun) {
      const log = files.find((name) => name.endsWith('.wandb'));
      const summary = path.join(dir, 'files', WANDB_SUMMARY);
      const file = log ? path.join(dir, log) : (await fs.stat(summary).then((s) => s.isFile(), () => false)) ? summary : undefined;
      if (file) {
        specs.push({
          source: { id, path: dir, files: [file], format: 'wandb' },
          files: [{ path: file, reader: log ? readWandb : readWandbSummary, rewritten: !log }],
        });
      }
      return;
    }

    // Hugging Face output dir: the newest trainer_state.json, top level or checkpoint-*/.
    const states = [
      ...(files.includes('trainer_state.json') ? [path.join(dir, 'trainer_state.json')] : []),
      ...dirs.filter((name) => CHECKPOINT_DIR.test(name)).map((name) => path.join(dir, name, 'trainer_state.json')),
    ];
    const existing = (await Promise.all(states.map(async (file) => ({ file, step: await globalStep(file) })))).filter((s) => s.step >= 0);
    if (existing.length > 0) {
      const newest = existing.reduce((best, next) => (next.step > best.step ? next : best));
      specs.push({
        source: { id, path: newest.file, files: [newest.file], format: 'hf-trainer-state' },
        files: [{ path: newest.file, reader: readTrainerState, rewritten: true }],
      });
    }

    // TensorBoard log dir: all event files of the folder are one run, read in name order.
    const events = files.filter((name) => /tfevents/.test(name));
    if (events.length > 0) {
      const eventFiles = events.map((name) => path.join(dir, name));
      specs.push({
        source: { id, path: dir, files: eventFiles, format: 'tfevents' },
        files: eventFiles.map((file) => ({ path: file, reader: readTfEvents, rewritten: false })),
      });
    }

    for (const name of files) {
      if (/tfevents/.test(name) || name === 'trainer_state.json' || !isLogFileName(name)) continue;
      // LLaMA-Factory writes the Trainer's log entries to trainer_log.jsonl too, without grad_norm: the same run, read from trainer_state.json once there is one.
      if (name === LLAMA_FACTORY_LOG && existing.length > 0) continue;
      const file = path.join(dir, name);
      // A file that cannot be opened now is still a run: reading it reports why, and the run counts as unread.
      const spec = await specForFile(file, idOf(file)).catch(
        (): RunSpec => ({ source: { id: idOf(file), path: file, files: [file], format: 'text' }, files: [{ path: file, reader: readTextLog, rewritten: false }] }),
      );
      if (spec) specs.push(spec);
    }
    if (depth >= MAX_DEPTH) return;
    for (const name of dirs) {
      if (SKIPPED_DIRS.has(name) || name.startsWith('.') || CHECKPOINT_DIR.test(name)) continue;
      await visit(path.join(dir, name), depth + 1);
    }
  }

  await visit(root, 0);
  return specs;
}


/** A path that cannot be read as runs: missing, not a file or folder, binary content no reader knows. */
export class UnreadablePathError extends Error {}

/**
 * The runs at a path, before reading: a file is one run whatever its name
 * (`single`); a folder holds the runs discoverRuns finds. The CLI and the
 * logs worker both start here.
 */
export async function specsAt(target: string): Promise<{ specs: RunSpec[]; single: boolean }> {
  const stat = await fs.stat(target).catch((error: unknown) => {
    throw new UnreadablePathError(`${target}: ${errorMessage(error)}`);
  });
  if (stat.isDirectory()) return { specs: await discoverRuns(target), single: false };
  if (!stat.isFile()) throw new UnreadablePathError(`${target}: not a regular file or a folder`);
  const spec = await specForFile(target).catch((error: unknown) => {
    throw new UnreadablePathError(`${target}: ${errorMessage(error)}`);
  });
  if (!spec) throw new UnreadablePathError(`${target}: binary content in no format GradLens reads`);
  return { specs: [spec], single: true };
}

/** One identity per run source, whoever found it. */
export function specId(spec: RunSpec): string {
  return `${spec.source.format}:${spec.source.path}`;
}

const exists = (file: string): Promise<boolean> => fs.stat(file).then(() => true, () => false);

/**
 * The folder whose discovery finds a file's run: the run folder when the
 * file sits in a tool's layout (a W&B run, an MLflow run's metrics, a
 * Hugging Face checkpoint), else the file's own folder. Not above `top`.
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
  /** Walks the roots a few at a time (a sweep's thousand run folders are small walks, each waiting on its reads), adding in their order. */
  const search = async (roots: readonly string[]): Promise<void> => {
    for (const root of roots) searched.add(root);
    for (const found of await mapWithLimit(roots, SEARCHES_AT_ONCE, discoverRuns)) for (const spec of found) if (spec.files.some((file) => matched.has(file.path))) add(spec);
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
  await search([...roots].filter((root) => !hasOuterRoot(root)));
  // The walk skips hidden and tool folders and stops at a depth: a matched file there is searched from its own root.
  for (const { file, root } of placed) if (!covered.has(file) && !searched.has(root)) await search([root]);
  // A loose file whose name no walk looks at: the user's glob says it is a log.
  for (const { file, layout } of placed) {
    if (covered.has(file) || layout || LAYOUT_FILE.test(path.basename(file))) continue;
    const spec = await specForFile(file).catch(() => undefined);
    if (spec) add(spec);
  }
  return [...specs.values()];
}

/** The runs with the settings their files state, when they state any. */
export function withSettings(runs: Run[], settings: RunSettings | undefined): Run[] {
  return settings ? runs.map((run) => ({ ...run, settings })) : runs;
}

/** How much of a file is searched for settings: training scripts print their arguments first. */
const SETTINGS_BYTES = 256 * 1024;
/** Configuration files beside a run that state its settings (Lightning, LightningCLI, exported TrainingArguments). */
const SETTINGS_FILES = ['hparams.yaml', 'config.yaml', 'training_args.json'];

/** Files searched for settings at most: an event-file folder can hold hundreds. */
const SETTINGS_FILES_READ = 16;

/**
 * The settings a run's own files and its folder state: the head of each log
 * file (Megatron's and nanoGPT's printed arguments, the TrainingArguments the
 * Hugging Face Trainer writes to TensorBoard), configuration files beside it
 * (W&B's files/config.yaml among them), an MLflow run's params, and for a
 * trainer_state.json, the TensorBoard runs of its output dir.
 */
export async function statedSettings(spec: RunSpec): Promise<RunSettings | undefined> {
  // MLflow keeps one small file per metric and trainer_state.json no arguments: their settings are elsewhere.
  const files = spec.source.format === 'hf-trainer-state' || spec.source.format === 'mlflow' ? [] : spec.files.map((f) => f.path);
  const folder = (await fs.stat(spec.source.path).then((s) => s.isDirectory(), () => false)) ? spec.source.path : path.dirname(spec.source.path);
  for (const base of [folder, path.dirname(folder), path.join(folder, 'files')]) {
    const { files: names } = await listDir(base);
    files.push(...SETTINGS_FILES.filter((name) => names.includes(name)).map((name) => path.join(base, name)));
  }
  if (spec.source.format === 'hf-trainer-state') {
    const outputDir = CHECKPOINT_DIR.test(path.basename(folder)) ? path.dirname(folder) : folder;
    const runs = (await listDir(path.join(outputDir, 'runs'))).dirs.map((name) => path.join(outputDir, 'runs', name));
    for (const run of [path.join(outputDir, 'runs'), ...runs]) files.push(...(await listDir(run)).files.filter((name) => /tfevents/.test(name)).map((name) => path.join(run, name)));
  }
  const found = await Promise.all(
    [...new Set(files)]
      .slice(0, SETTINGS_FILES_READ)
      .map(async (file) => {
        const found = settingsFromText(Buffer.from(await readBytesAt(file, 0, SETTINGS_BYTES).catch(() => new Uint8Array(0))).toString('latin1'), path.basename(file));
        // A configuration file says which tool wrote the run even when it states no setting (Lightning's hparams.yaml is often `{}`).
        return SETTINGS_FILES.includes(path.basename(file)) && found.sources.length === 0 ? { ...found, sources: [path.basename(file)] } : found;
      }),
  );
  if (spec.source.format === 'mlflow') {
    // One file per parameter, named by it (the Trainer's MLflow callback logs every TrainingArguments field).
    const params = path.join(spec.source.path, 'params');
    const names = (await listDir(params)).files.slice(0, 1000);
    const lines = await Promise.all(names.map(async (name) => `${name}: ${(await readBytesAt(path.join(params, name), 0, 256).then((b) => Buffer.from(b).toString('utf8'), () => '')).trim()}`));
    found.unshift(settingsFromText(lines.join('\n'), 'params'));
  }
  return mergeSettings(found);
}
