/**
 * Reading log files from disk: only regular files, without blocking, in
 * chunks or at a position. The readers never touch the file system; this
 * module is how everything else in src/logs does.
 */
import { constants, promises as fs } from 'node:fs';

const CHUNK_BYTES = 1 << 20;
/**
 * Longer than the coarsest file-time tick in use (FAT's 2 s): a file whose
 * mtime was this old when last looked at gets a new mtime if it is written
 * again, so an unchanged mtime, size and inode mean unchanged bytes.
 */
export const SETTLED_MS = 2000;

/**
 * What reading a path gave (a folder's listing, what a file's first bytes
 * say), kept by path while the path's inode, size and mtime stay the same.
 * Only what was read from a path already settled is kept: one changed in the
 * last seconds may change again within the same mtime tick. `read` may throw,
 * and so does `of` for a path that cannot be stat'ed.
 */
export class KeptWhileUnchanged<T> {
  private readonly kept = new Map<string, { ino: number; size: number; mtimeMs: number; value: T }>();

  constructor(
    private readonly read: (file: string) => Promise<T>,
    /** Paths kept at most, the oldest let go first. */
    private readonly capacity: number,
  ) {}

  async of(file: string): Promise<T> {
    const stat = await fs.stat(file);
    const kept = this.kept.get(file);
    if (kept && kept.ino === stat.ino && kept.size === stat.size && kept.mtimeMs === stat.mtimeMs) return kept.value;
    const value = await this.read(file);
    this.kept.delete(file);
    if (Date.now() - stat.mtimeMs > SETTLED_MS) {
      this.kept.set(file, { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, value });
      if (this.kept.size > this.capacity) this.kept.delete(this.kept.keys().next().value!);
    }
    return value;
  }
}

/** Room beyond a file's size when it is opened, for what a live run writes while it is read. */
const GROWTH_BYTES = 64 * 1024;

/** An open regular file and its size when it was opened. */
export interface RegularFile {
  handle: fs.FileHandle;
  size: number;
}

/**
 * Opens a file for reading, refusing what is not a regular file: opening a
 * FIFO named like a log waits for a writer, and holds one of libuv's four
 * file threads while it does (O_NONBLOCK makes the open return at once).
 */
export async function openRegularFile(file: string): Promise<RegularFile> {
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  const stat = await handle.stat().catch(async (error: Error) => {
    await handle.close();
    throw error;
  });
  if (stat.isFile()) return { handle, size: stat.size };
  await handle.close();
  throw new Error(`${file}: not a regular file (${stat.isDirectory() ? 'a folder' : 'a FIFO, socket or device'}); GradLens reads only regular files`);
}

/** A whole small file as text (a layout's metadata), or undefined when it is missing or not a regular file. */
export async function readSmallText(file: string): Promise<string | undefined> {
  const opened = await openRegularFile(file).catch(() => undefined);
  if (!opened) return undefined;
  const { handle } = opened;
  try {
    return await handle.readFile('utf8').catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Up to `length` bytes of an open file from `position` (fewer where the file ends). */
export async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** Up to `length` bytes of a file from `position` (fewer where the file ended when it was opened). */
export async function readBytesAt(file: string, position: number, length: number): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file);
  try {
    // Sized by the file: a 256 KB settings search of a 40 KB log allocates 40 KB.
    return await readAt(handle, position, Math.min(length, Math.max(0, size - position)));
  } finally {
    await handle.close();
  }
}

/** Feeds a whole file to a reader in 1 MiB chunks; returns the bytes read. */
export async function feedFile(file: string, push: (bytes: Uint8Array) => void, from = 0): Promise<number> {
  const { handle, size } = await openRegularFile(file);
  try {
    // A thousand small runs are read at a listing: a 1 MiB buffer each was most of the memory touched.
    const buffer = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(0, size - from) + GROWTH_BYTES));
    let position = from;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) push(buffer.subarray(0, bytesRead));
      position += bytesRead;
      // Done at the size the file had when opened, once a read comes short (what is written after that is the next poll's): no last read of nothing.
      if (bytesRead === 0 || (bytesRead < buffer.length && position >= size)) return position;
    }
  } finally {
    await handle.close();
  }
}

