/**
 * Tag patterns (`lr-*`, `grad_norm/{name}`), matched in time linear in the
 * tag and the pattern. They come from settings a workspace can set, so they
 * are never compiled to a regular expression: `*` as `.*` backtracks
 * catastrophically (13 wildcards took over a minute on one tag).
 *
 * Compared without regard to case; `*` matches any run of characters, and
 * `{name}` (at most once) a non-empty run, which becomes the parameter,
 * split from the rest as a regular expression `^before(.+)after$` splits it.
 */

/** What a matching tag says: the parameter `{name}` matched, when the pattern has one. */
export interface TagMatch {
  param?: string;
}

export type TagMatcher = (tag: string) => TagMatch | undefined;

/** Lower case that keeps every UTF-16 index in place, so a match's indexes hold in the tag as written. */
function fold(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let folded = '';
  for (const char of text) {
    const low = char.toLowerCase();
    folded += low.length === char.length ? low : char;
  }
  return folded;
}

/** A `*` glob as its literal pieces: `a*b*c` → ['a', 'b', 'c']. */
const piecesOf = (glob: string): string[] => fold(glob).split('*');

/**
 * Where the longest match of `pieces` as a prefix of `text[0, limit)` ends,
 * or -1: the first piece at the start, the others as late as they can come,
 * right to left (as a regular expression's greedy `.*` would place them).
 */
function longestPrefixEnd(pieces: readonly string[], text: string, limit: number): number {
  const first = pieces[0];
  if (!text.startsWith(first) || first.length > limit) return -1;
  let at = limit;
  let end = first.length;
  for (let i = pieces.length - 1; i >= 1; i--) {
    const found = at - pieces[i].length < first.length ? -1 : text.lastIndexOf(pieces[i], at - pieces[i].length);
    if (found < first.length) return -1;
    if (i === pieces.length - 1) end = found + pieces[i].length;
    at = found;
  }
  return end;
}

/** Where the shortest match of `pieces` as a suffix of `text[from, end)` starts, or -1: the last piece at the end, the others as late as they can come. */
function suffixStart(pieces: readonly string[], text: string, from: number): number {
  const last = pieces[pieces.length - 1];
  if (!text.endsWith(last) || text.length - last.length < from) return -1;
  let at = text.length - last.length;
  for (let i = pieces.length - 2; i >= 0; i--) {
    if (at - pieces[i].length < from) return -1;
    const found = text.lastIndexOf(pieces[i], at - pieces[i].length);
    if (found < from) return -1;
    at = found;
  }
  return at;
}

export function compileTagPattern(pattern: string): TagMatcher {
  const parts = pattern.split('{name}');
  if (parts.length > 2) throw new Error(`tag pattern "${pattern}" has more than one {name}`);
  const before = piecesOf(parts[0]);
  if (parts.length === 1) {
    // The whole tag: the pattern's last piece at the end, the others before it.
    return (tag) => {
      const text = fold(tag);
      if (before.length === 1) return text === before[0] ? {} : undefined;
      const lastStart = suffixStart(before.slice(-1), text, 0);
      return lastStart >= 0 && longestPrefixEnd(before.slice(0, -1), text, lastStart) >= 0 ? {} : undefined;
    };
  }
  const after = piecesOf(parts[1]);
  // As `^before(.+)after$` would split it: the shortest match of `after`, then the longest of `before` that leaves {name} a character.
  return (tag) => {
    const text = fold(tag);
    const nameEnd = suffixStart(after, text, 1);
    const nameStart = nameEnd < 0 ? -1 : longestPrefixEnd(before, text, nameEnd - 1);
    return nameStart >= 0 ? { param: tag.slice(nameStart, nameEnd) } : undefined;
  };
}
