/**
 * Follows a run while training writes it. Each poll reads only the bytes
 * appended since the last one and feeds them to the same readers, so the
 * runs grow exactly as a whole read would give. A file that was replaced (a
 * new inode), shrank, or was rewritten in place (Lightning's CSVLogger
 * rewrites metrics.csv with a wider header when a metric appears; a file
 * deleted and recreated may get its old inode back) starts the run over; a
 * file rewritten whole on each save (trainer_state.json) is read again
 * whenever it changes; new files of the run (a new TensorBoard event file)
 * join it.
 */
import { promises as fs } from 'node:fs';
import { refusingLfsPointers } from './lfs';
import { discoverRuns, statedSettings, withSettings, type RunSpec } from './discovery';
import { feedFile, openRegularFile, readAt, SETTLED_MS } from './files';
import type { OpenOptions } from './open';
import { TagRoles } from './roles';
import { RunBuilder, type Run } from './run';
import type { RunSettings } from './settings';
import type { LogReader } from './sink';

interface FileState {
  path: string;
  reader: LogReader;
  offset: number;
  inode: number;
  mtimeMs: number;
  size: number;
  /** The first and the last bytes read, to tell an append from a rewrite of what was read. */
  head: Uint8Array;
  end: Uint8Array;
  /** When the file was last checked (its bytes compared, and what it gained read), -Infinity before that succeeded. */
  checkedAt: number;
}

const hasIncomplete = (run: Run): boolean => run.warnings.some((w) => w.incomplete);

/** How many bytes at each end of what was read are compared: for a file up to twice this, the whole of it. */
const WITNESS_BYTES = 4096;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The bytes a later poll compares with: the first `WITNESS_BYTES` of the file and the last before `offset`, apart from those. */
async function witnesses(file: string, offset: number): Promise<{ head: Uint8Array; end: Uint8Array }> {
  const { handle } = await openRegularFile(file);
  try {
    const head = await readAt(handle, 0, Math.min(WITNESS_BYTES, offset));
    const endStart = Math.max(head.length, offset - WITNESS_BYTES);
    return { head, end: await readAt(handle, endStart, offset - endStart) };
  } finally {
    await handle.close();
  }
}

/**
 * The same witnesses kept up to date from the bytes a read hands its reader,
 * so reading a file does not open it again to take them. Copies: the read
 * reuses its buffer for the next chunk.
 */
class WitnessTaker {
  private head: Uint8Array;
  /** The last bytes read, up to WITNESS_BYTES, ending at the read's position. */
  private last: Uint8Array;

  constructor(state: FileState) {
    this.head = state.head;
    this.last = state.end;
  }

  take(bytes: Uint8Array, position: number): void {
    // The head is short only while the file is: then the read starts where it ends.
    if (this.head.length < WITNESS_BYTES && position === this.head.length) this.head = joined(this.head, bytes.subarray(0, WITNESS_BYTES - this.head.length));
    this.last = bytes.length >= WITNESS_BYTES ? bytes.slice(bytes.length - WITNESS_BYTES) : joined(this.last.subarray(Math.max(0, this.last.length + bytes.length - WITNESS_BYTES)), bytes);
  }

  /** The witnesses once the file is read up to `offset`. */
  witnesses(offset: number): { head: Uint8Array; end: Uint8Array } {
    const endStart = Math.max(this.head.length, offset - WITNESS_BYTES);
    return { head: this.head, end: this.last.subarray(this.last.length - (offset - endStart)) };
  }
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Whether the bytes read so far are still the file's first bytes: false after a truncation or a rewrite in place. */
async function stillPrefix(state: FileState): Promise<boolean> {
  const now = await witnesses(state.path, state.offset);
  return sameBytes(now.head, state.head) && sameBytes(now.end, state.end);
}

export class RunTail {
  private builder!: RunBuilder;
  private files: FileState[] = [];
  private readonly roles: TagRoles;
  /** What the run's files state (clipping, precision, warm-up): read at the first poll after a (re)start. */
  private settings: RunSettings | null | undefined;

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
    this.settings = undefined;
  }

  /** Reads whatever changed since the last poll. Returns true when the runs changed. */
  async poll(): Promise<boolean> {
    let changed = false;
    // Once per (re)start: null says the files state none (`??=` would search again at every poll).
    if (this.settings === undefined) this.settings = (await statedSettings(this.spec)) ?? null;
    for (let index = 0; index < this.spec.files.length; index++) {
      const file = this.spec.files[index];
      const checkedAt = Date.now();
      const stat = await fs.stat(file.path).catch(() => undefined);
      if (!stat) continue;
      let state = this.files[index];
      // Settled when last checked and unchanged since (writing it again would move its mtime): a run that ended costs a stat a poll, not a read.
      if (state && stat.ino === state.inode && stat.size === state.size && stat.mtimeMs === state.mtimeMs && state.checkedAt - stat.mtimeMs > SETTLED_MS) continue;
      // Otherwise the prefix is checked, not only when mtime or size moved: a same-size rewrite can keep both on a coarse clock.
      const replaced =
        state !== undefined &&
        (stat.ino !== state.inode ||
          stat.size < state.offset ||
          (file.rewritten ? stat.mtimeMs !== state.mtimeMs || stat.size !== state.size : !(await stillPrefix(state).catch(() => false))));
      if (replaced) {
        // Earlier files' data lives in the same builder: start the whole run over.
        const kept = { builder: this.builder, files: this.files };
        this.reset();
        await this.poll();
        // A file rewritten whole can be caught mid-write: the last good read stands until a complete one comes.
        if (this.builder.runs().some(hasIncomplete) && !kept.builder.runs().some(hasIncomplete)) {
          this.builder = kept.builder;
          this.files = kept.files;
          return false;
        }
        return true;
      }
      const fresh = !state;
      if (!state) {
        state = { path: file.path, reader: refusingLfsPointers(file.reader)(this.builder, file.path), offset: 0, inode: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, head: new Uint8Array(0), end: new Uint8Array(0), checkedAt: -Infinity };
        this.files[index] = state;
        changed = true;
      }
      state.mtimeMs = stat.mtimeMs;
      state.size = stat.size;
      // A rewritten file is read whole even when empty: an empty trainer_state.json is one being written.
      if (stat.size > state.offset || (file.rewritten && fresh)) {
        const current = state;
        const taker = new WitnessTaker(current);
        let position = current.offset;
        current.offset = await feedFile(
          file.path,
          (bytes) => {
            taker.take(bytes, position);
            position += bytes.length;
            current.reader.push(bytes);
          },
          current.offset,
        );
        Object.assign(current, taker.witnesses(current.offset));
        // A rewritten file is complete each time it is saved; appended files wait for their next line.
        if (file.rewritten) current.reader.end();
        changed = true;
      }
      // Only once its bytes were compared or read: a file whose read failed (a permission fixed later) is tried again.
      state.checkedAt = checkedAt;
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
    return withSettings(this.builder.runs(), this.settings ?? undefined);
  }

  /** Equal between two polls when the runs only grew (no restart, rewrite or re-read): what was read of them still holds. */
  edition(): string {
    return this.builder.edition();
  }
}
