/**
 * From a path on disk to runs read: a file's run (or one per rank), a
 * folder's runs as discovery.ts finds them, read in chunks, a few at a time.
 */
import { mapWithLimit } from '../shared/concurrency';
import { errorMessage } from '../shared/errors';
import { specsAt, statedSettings, withSettings, type RunSpec } from './discovery';
import { feedFile } from './files';
import { refusingLfsPointers } from './lfs';
import { TagRoles, type TagRule } from './roles';
import { RunBuilder, unreadableFiles, type Run } from './run';

export interface OpenOptions {
  /** User rules, tried before the built-in tag table (`gradlens analyze --tag-role`). */
  tagRules?: readonly TagRule[];
}

/**
 * Runs read at once. Reading every run of a big folder at once runs out of
 * file descriptors (256 by default on macOS) and loses the runs it could not open.
 */
const RUNS_READ_AT_ONCE = 16;

/**
 * Reads one discovered run. A file that cannot be read is an `unreadable`
 * warning on the run, not an exception: what was read is kept.
 */
export async function readRunSpec(spec: RunSpec, options: OpenOptions = {}): Promise<Run[]> {
  const builder = new RunBuilder(spec.source, new TagRoles(options.tagRules));
  for (const file of spec.files) {
    const reader = refusingLfsPointers(file.reader)(builder, file.path);
    try {
      await feedFile(file.path, (bytes) => reader.push(bytes));
    } catch (error) {
      builder.warning({ file: file.path, message: `could not read: ${errorMessage(error)}`, unreadable: true });
    }
    reader.end();
  }
  return withSettings(builder.runs(), await statedSettings(spec));
}

/**
 * The runs at a path: a file is one run (or one per rank), whatever its
 * name; a folder is searched as discoverRuns says, keeping the runs that
 * hold data or could not be read (see unreadableFiles), or, when none does,
 * all of them, whose warnings say why. A path that cannot be read at all
 * throws UnreadablePathError.
 */
export async function openRuns(target: string, options: OpenOptions = {}): Promise<Run[]> {
  const { specs, single } = await specsAt(target);
  const runs = (await mapWithLimit(specs, RUNS_READ_AT_ONCE, (spec) => readRunSpec(spec, options))).flat();
  if (single) return runs;
  const kept = runs.filter((run) => run.series.length > 0 || run.histograms.length > 0 || unreadableFiles(run).length > 0);
  return kept.length > 0 ? kept : runs;
}
