import { fileURLToPath } from 'node:url';

/** The path of a `file:` URI, or undefined for other schemes (untitled, git, ...), which have no file on disk. */
export function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
