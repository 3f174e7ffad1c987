/**
 * Checks of setting values, apart from VS Code so they can be tested: the
 * settings editor validates against package.json's schema, but settings.json
 * can hold anything. A bad value falls back, and the problem is named.
 */
import { isRole, ROLES, type TagRule } from '../../logs/roles';

export interface Checked<T> {
  value: T;
  problems: string[];
}

/** `{ "pattern": "role" }` as tag rules; an entry that cannot work is left out and named. */
export function tagRulesFromSetting(raw: unknown): Checked<TagRule[]> {
  if (raw === undefined || raw === null) return { value: [], problems: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { value: [], problems: ['must be an object of "tag pattern": "role" pairs'] };
  const value: TagRule[] = [];
  const problems: string[] = [];
  for (const [pattern, role] of Object.entries(raw)) {
    if (!isRole(role)) problems.push(`"${pattern}": ${JSON.stringify(role)} is not a role (${ROLES.join(', ')}); rule ignored`);
    else if (pattern.trim() === '') problems.push(`an empty pattern matches no tag; rule for ${role} ignored`);
    else if (pattern.split('{name}').length > 2) problems.push(`"${pattern}": a pattern holds {name} at most once; rule ignored`);
    else value.push({ pattern, role });
  }
  return { value, problems };
}

/**
 * The log globs as few file searches as VS Code's glob syntax allows: every
 * glob without braces or commas in one `{a,b,…}` group, each other glob on its
 * own. Each search starts a file walker from the extension host's thread
 * (a child process in a remote or web host), so thirteen searches blocked it
 * thirteen times.
 */
export function globSearches(globs: readonly string[]): string[] {
  const groupable = globs.filter((glob) => !/[{},]/.test(glob));
  const alone = globs.filter((glob) => /[{},]/.test(glob));
  const grouped = groupable.length > 1 ? [`{${groupable.join(',')}}`] : groupable;
  return [...grouped, ...alone];
}

/** A number at or above `min` (strictly above when `exclusive`), else the fallback. */
export function numberFromSetting(raw: unknown, fallback: number, min: number, exclusive = false): Checked<number> {
  const fits = typeof raw === 'number' && Number.isFinite(raw) && (exclusive ? raw > min : raw >= min);
  if (fits) return { value: raw, problems: [] };
  return { value: fallback, problems: [`${JSON.stringify(raw)} is not a number ${exclusive ? 'above' : 'of at least'} ${min}; using ${fallback}`] };
}

/** A list of non-empty strings; other entries are left out and named. */
export function stringsFromSetting(raw: unknown, fallback: string[]): Checked<string[]> {
  if (!Array.isArray(raw)) return { value: fallback, problems: [`${JSON.stringify(raw)} is not a list of globs; using the default`] };
  const value = raw.filter((item): item is string => typeof item === 'string' && item.trim() !== '');
  return { value, problems: value.length === raw.length ? [] : ['entries that are not globs were ignored'] };
}

export function stringFromSetting(raw: unknown, fallback: string): Checked<string> {
  return typeof raw === 'string' ? { value: raw, problems: [] } : { value: fallback, problems: [`${JSON.stringify(raw)} is not a glob; using the default`] };
}
