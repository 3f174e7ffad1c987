/**
 * Git LFS pointers: a clone made without `git lfs pull` holds, in place of
 * each large file, a few lines naming it (git-lfs's spec/v1). Read as a log,
 * a pointer is garbage or a text log with nothing in it; it is named instead.
 */
import type { ReaderFactory } from './sink';

const POINTER = new TextEncoder().encode('version https://git-lfs.github.com/spec/');

/** The reader, unless the file turns out to be a Git LFS pointer: then a warning saying so, and nothing else. */
export function refusingLfsPointers(factory: ReaderFactory): ReaderFactory {
  return (sink, file) => {
    const reader = factory(sink, file);
    /** The first bytes, kept until they tell a pointer from a log. */
    let head = new Uint8Array(0);
    let pointer: boolean | undefined;
    const decide = (final: boolean): void => {
      const matching = head.every((byte, i) => i >= POINTER.length || byte === POINTER[i]);
      if (matching && head.length < POINTER.length && !final) return;
      pointer = matching && head.length >= POINTER.length;
      if (pointer) sink.warning({ file, message: 'a Git LFS pointer, not the log itself: run `git lfs pull` in its repository to fetch the file' });
      else if (head.length > 0) reader.push(head);
      head = new Uint8Array(0);
    };
    return {
      push(bytes) {
        if (pointer === false) return reader.push(bytes);
        if (pointer) return;
        const joined = new Uint8Array(head.length + bytes.length);
        joined.set(head);
        joined.set(bytes, head.length);
        head = joined;
        decide(false);
      },
      end() {
        if (pointer === undefined && head.length > 0) decide(true);
        if (!pointer) reader.end();
      },
    };
  };
}
