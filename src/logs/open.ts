/**
 * From a path on disk to runs: which files make up which run, which reader
 * reads each, and reading them in chunks. The readers themselves never touch
 * the file system; this module and tail.ts are the only ones that do.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DETECT_BYTES, detectFormat } from './detect';
import { readCsv } from './formats/csv';
import { readTrainerState } from './formats/hf-trainer-state';
import { readJsonLines } from './formats/jsonl';
import { mlflowMetaFields, mlflowMetricReader, mlflowMetricTag, mlflowRunName } from './formats/mlflow';
import { readTextLog } from './formats/text';
import { readTfEvents } from './formats/tfevents';
import { parseWandbRunFolder, readWandb, readWandbSummary } from './formats/wandb';
import { TagRoles, type TagRule } from './roles';
import { mergeSettings, settingsFromText, type RunSettings } from './settings';
import { RunBuilder, unreadableFiles, type LogFormat, type Run, type RunSource } from './run';
import type { ReaderFactory } from './sink';

export const READERS: Record<Exclude<LogFormat, 'mlflow'>, ReaderFactory> = {
  jsonl: readJsonLines,
  csv: readCsv,
  'hf-trainer-state': readTrainerState,
  tfevents: readTfEvents,
  text: readTextLog,
  wandb: readWandb,
};

/** Formats whose file is rewritten whole rather than appended to. */
const REWRITTEN_FORMATS: ReadonlySet<string> = new Set(['hf-trainer-state']);

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

export interface OpenOptions {
  /** User rules, tried before the built-in tag table (`gradlens analyze --tag-role`). */
  tagRules?: readonly TagRule[];
}

/** Log files GradLens looks at when it walks a folder; a single file given by name is read whatever its name. */
const LOG_FILE = /(\.jsonl|\.ndjson|\.csv|\.log|\.out|\.err|\.txt|^trainer_state\.json|tfevents.*|\.wandb)$/i;
// Not runs: tool internals (MLflow's .trash and model registry, W&B's artifacts), environments, caches.
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', '.ipynb_checkpoints', 'site-packages', 'artifacts', 'models', '.trash']);
/** How deep a folder walk goes: deep enough for mlruns/<exp>/<run>/metrics/<a>/<b>. */
const MAX_DEPTH = 8;
const CHUNK_BYTES = 1 << 20;
/**
 * Runs read at once. Reading every run of a big folder at once runs out of
 * file descriptors (256 by default on macOS) and loses the runs it could not open.
 */
const RUNS_READ_AT_ONCE = 16;

/** `map` over items with at most `limit` calls in flight, results in the items' order. */
async function mapWithLimit<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const work = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, work));
  return results;
}

/** Up to `length` bytes of a file from `position` (fewer where the file ends). */
export async function readBytesAt(file: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const readHead = (file: string) => readBytesAt(file, 0, DETECT_BYTES);

/** A file taken by name: one run whatever its name; undefined for binary content no reader knows. */
export async function specForFile(file: string, id = path.basename(file)): Promise<RunSpec | undefined> {
  const format = detectFormat(file, await readHead(file));
  if (!format || format === 'mlflow') return undefined;
  return {
    source: { id, path: file, files: [file], format },
    files: [{ path: file, reader: READERS[format], rewritten: REWRITTEN_FORMATS.has(format) }],
  };
}

async function listDir(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory()) dirs.push(entry.name);
    else if (entry.isFile()) files.push(entry.name);
  }
  return { files, dirs };
}

async function walkFiles(dir: string, depth: number): Promise<string[]> {
  const { files, dirs } = await listDir(dir);
  const found = files.map((name) => path.join(dir, name));
  // One folder at a time, so a deep tree does not hold a descriptor per folder.
  if (depth < MAX_DEPTH) for (const name of dirs) found.push(...(await walkFiles(path.join(dir, name), depth + 1)));
  return found;
}

/**
 * `global_step` of a trainer_state.json, to pick the newest of a run's
 * checkpoints: -1 when there is no file, 0 when it does not say yet (the
 * Trainer is writing it), so the run does not vanish while it is rewritten.
 */
async function globalStep(file: string): Promise<number> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return -1;
  const match = /"global_step"\s*:\s*(\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * Runs under a folder. A folder is a run when its layout says so (an MLflow
 * run, a W&B offline run, a TensorBoard log dir, a Hugging Face output dir);
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
      const meta = await fs.readFile(path.join(dir, 'meta.yaml'), 'utf8').catch(() => '');
      if (mlflowMetaFields(meta).lifecycle_stage === 'deleted') return;
      const runNameTag = await fs.readFile(path.join(dir, 'tags', 'mlflow.runName'), 'utf8').catch(() => undefined);
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
      const summary = path.join(dir, 'files', 'wandb-summary.json');
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
      ...dirs.filter((name) => /^checkpoint-\d+$/.test(name)).map((name) => path.join(dir, name, 'trainer_state.json')),
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
      if (/tfevents/.test(name) || name === 'trainer_state.json' || !LOG_FILE.test(name)) continue;
      const file = path.join(dir, name);
      // A file that cannot be opened now is still a run: reading it reports why, and the run counts as unread.
      const spec = await specForFile(file, idOf(file)).catch(
        (): RunSpec => ({ source: { id: idOf(file), path: file, files: [file], format: 'text' }, files: [{ path: file, reader: readTextLog, rewritten: false }] }),
      );
      if (spec) specs.push(spec);
    }
    if (depth >= MAX_DEPTH) return;
    for (const name of dirs) {
      if (SKIPPED_DIRS.has(name) || name.startsWith('.') || /^checkpoint-\d+$/.test(name)) continue;
      await visit(path.join(dir, name), depth + 1);
    }
  }

  await visit(root, 0);
  return specs;
}

/** Feeds a whole file to a reader in 1 MiB chunks; returns the bytes read. */
export async function feedFile(file: string, push: (bytes: Uint8Array) => void, from = 0): Promise<number> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = new Uint8Array(CHUNK_BYTES);
    let position = from;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) return position;
      push(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads one discovered run. A file that cannot be read is an `unreadable`
 * warning on the run, not an exception: what was read is kept.
 */
export async function readRunSpec(spec: RunSpec, options: OpenOptions = {}): Promise<Run[]> {
  const builder = new RunBuilder(spec.source, new TagRoles(options.tagRules));
  for (const file of spec.files) {
    const reader = file.reader(builder, file.path);
    try {
      await feedFile(file.path, (bytes) => reader.push(bytes));
    } catch (error) {
      builder.warning({ file: file.path, message: `could not read: ${(error as Error).message}`, unreadable: true });
    }
    reader.end();
  }
  return withSettings(builder.runs(), await statedSettings(spec));
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
    const outputDir = /^checkpoint-\d+$/.test(path.basename(folder)) ? path.dirname(folder) : folder;
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

export class UnreadablePathError extends Error {}

/**
 * The runs at a path: a file is one run (or one per rank), whatever its
 * name; a folder is searched as discoverRuns says, keeping the runs that
 * hold data or could not be read (see unreadableFiles).
 */
export async function openRuns(target: string, options: OpenOptions = {}): Promise<Run[]> {
  const stat = await fs.stat(target).catch((error: Error) => {
    throw new UnreadablePathError(`${target}: ${error.message}`);
  });
  if (stat.isFile()) {
    const id = path.basename(target);
    const spec = await specForFile(target, id).catch((error: Error) => {
      throw new UnreadablePathError(`${target}: ${error.message}`);
    });
    if (!spec) throw new UnreadablePathError(`${target}: binary content in no format GradLens reads`);
    return readRunSpec(spec, options);
  }
  const runs = (await mapWithLimit(await discoverRuns(target), RUNS_READ_AT_ONCE, (spec) => readRunSpec(spec, options))).flat();
  return runs.filter((run) => run.series.length > 0 || run.histograms.length > 0 || unreadableFiles(run).length > 0);
}
