/**
 * Follows a run while training writes it. Each poll reads only the bytes
 * appended since the last one and feeds them to the same readers, so the
 * runs grow exactly as a whole read would give. A file that shrank or was
 * replaced (a new inode, as when Lightning rewrites metrics.csv) starts the
 * run over; a file rewritten whole on each save (trainer_state.json) is read
 * again whenever it changes; new files of the run (a new TensorBoard event
 * file) join it.
 */
import { promises as fs } from 'node:fs';
import { refusingLfsPointers } from './lfs';
import { discoverRuns, feedFile, type OpenOptions, type RunSpec } from './open';
import { TagRoles } from './roles';
import { RunBuilder, type Run } from './run';
import type { LogReader } from './sink';

interface FileState {
  path: string;
  reader: LogReader;
  offset: number;
  inode: number;
  mtimeMs: number;
  size: number;
}

export class RunTail {
  private builder!: RunBuilder;
  private files: FileState[] = [];
  private readonly roles: TagRoles;

  constructor(
    private spec: RunSpec,
    options: OpenOptions = {},
  ) {
    this.roles = new TagRoles(options.tagRules);
    this.reset();
  }

  private reset(): void {
    this.builder = new RunBuilder(this.spec.source, this.roles);
    this.files = [];
  }

  /** Reads whatever changed since the last poll. Returns true when the runs changed. */
  async poll(): Promise<boolean> {
    let changed = false;
    for (let index = 0; index < this.spec.files.length; index++) {
      const file = this.spec.files[index];
      const stat = await fs.stat(file.path).catch(() => undefined);
      if (!stat) continue;
      let state = this.files[index];
      const replaced = state !== undefined && (stat.ino !== state.inode || stat.size < state.offset || (file.rewritten && (stat.mtimeMs !== state.mtimeMs || stat.size !== state.size)));
      if (replaced) {
        // Earlier files' data lives in the same builder: start the whole run over.
        this.reset();
        return (await this.poll()) || true;
      }
      if (!state) {
        state = { path: file.path, reader: refusingLfsPointers(file.reader)(this.builder, file.path), offset: 0, inode: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size };
        this.files[index] = state;
        changed = true;
      }
      if (stat.size > state.offset) {
        const current = state;
        current.offset = await feedFile(file.path, (bytes) => current.reader.push(bytes), current.offset);
        current.mtimeMs = stat.mtimeMs;
        current.size = stat.size;
        // A rewritten file is complete each time it is saved; appended files wait for their next line.
        if (file.rewritten) current.reader.end();
        changed = true;
      }
    }
    return changed;
  }

  /** Looks for files that joined the run (new event files in a TensorBoard dir). */
  async rediscover(): Promise<void> {
    const specs = await discoverRuns(this.spec.source.path).catch(() => []);
    const same = specs.find((s) => s.source.format === this.spec.source.format);
    if (!same) return;
    const known = this.spec.files.map((f) => f.path);
    const next = same.files.map((f) => f.path);
    if (next.length === known.length && next.every((p, i) => p === known[i])) return;
    const appended = known.every((p, i) => next[i] === p);
    this.spec = same;
    if (!appended) this.reset();
  }

  runs(): Run[] {
    return this.builder.runs();
  }
}
