/**
 * Runtime schemas that are also the static types: every message crossing a
 * boundary (host ↔ webview, host ↔ worker) is declared once as a schema, its
 * TypeScript type is inferred from it, and the receiver parses with it. A
 * value that does not match is dropped, never cast.
 */
export interface Schema<T> {
  /** The value as T, or undefined when it does not match. */
  parse(value: unknown): T | undefined;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/**
 * True exactly when A and B are one type. Where a schema restates a type
 * declared elsewhere, `const inSync: Same<Infer<typeof s>, T> = true` stops
 * the build when the two drift apart.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const schema = <T>(parse: (value: unknown) => T | undefined): Schema<T> => ({ parse });

export const string: Schema<string> = schema((v) => (typeof v === 'string' ? v : undefined));
/** Any number, NaN and ±Infinity included: in training data they are facts. */
export const number: Schema<number> = schema((v) => (typeof v === 'number' ? v : undefined));
export const finite: Schema<number> = schema((v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined));
export const boolean: Schema<boolean> = schema((v) => (typeof v === 'boolean' ? v : undefined));
export const float64Array: Schema<Float64Array> = schema((v) => (v instanceof Float64Array ? v : undefined));
export const uint8Array: Schema<Uint8Array> = schema((v) => (v instanceof Uint8Array ? v : undefined));

export function literal<const L extends string | number | boolean>(...values: L[]): Schema<L> {
  return schema((v) => (values.includes(v as L) ? (v as L) : undefined));
}

/** The first of these schemas that matches: variants told apart by a literal field other than `type` (a clip spec's `mode`). */
export function oneOf<const S extends readonly Schema<unknown>[]>(...schemas: S): Schema<Infer<S[number]>> {
  return schema((v) => {
    for (const item of schemas) {
      const parsed = item.parse(v);
      if (parsed !== undefined) return parsed as Infer<S[number]>;
    }
    return undefined;
  });
}

/** A value of `item` that also passes a check its shape cannot state (two arrays of one length). */
export function refine<T>(item: Schema<T>, holds: (value: T) => boolean): Schema<T> {
  return schema((v) => {
    const parsed = item.parse(v);
    return parsed !== undefined && holds(parsed) ? parsed : undefined;
  });
}

export function nullable<T>(item: Schema<T>): Schema<T | null> {
  return schema((v) => (v === null ? null : item.parse(v)));
}

export function array<T>(item: Schema<T>): Schema<T[]> {
  return schema((v) => {
    if (!Array.isArray(v)) return undefined;
    const out: T[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const parsed = item.parse(v[i]);
      if (parsed === undefined) return undefined;
      out[i] = parsed;
    }
    return out;
  });
}

/** A plain object with string keys and values of one schema. */
export function record<T>(item: Schema<T>): Schema<Record<string, T>> {
  return schema((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const out: Record<string, T> = {};
    for (const [key, value] of Object.entries(v)) {
      const parsed = item.parse(value);
      if (parsed === undefined) return undefined;
      out[key] = parsed;
    }
    return out;
  });
}

/** Marks an object field as optional: absent (or undefined) passes. */
export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export function optional<T>(item: Schema<T>): Optional<T> {
  return { optional: true, parse: (v) => (v === undefined ? undefined : item.parse(v)) };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }>;

/** An object with these fields; other fields are dropped. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const entries = Object.entries(shape);
  return schema((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, field] of entries) {
      const raw = source[key];
      if (raw === undefined) {
        if ('optional' in field) continue;
        return undefined;
      }
      const parsed = field.parse(raw);
      if (parsed === undefined) return undefined;
      out[key] = parsed;
    }
    return out as ObjectOf<S>;
  });
}

/** One of several object schemas told apart by their `type` field. */
export function union<const M extends Record<string, Schema<{ type: string }>>>(byType: M): Schema<Infer<M[keyof M]>> {
  return schema((v) => {
    if (typeof v !== 'object' || v === null) return undefined;
    const type = (v as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(byType, type)) return undefined;
    return byType[type].parse(v) as Infer<M[keyof M]> | undefined;
  });
}

/** A message variant: `{ type, ...fields }`. */
export function message<const T extends string, S extends Shape>(type: T, fields: S): Schema<{ type: T } & ObjectOf<S>> {
  const body = object(fields);
  return schema((v) => {
    if (typeof v !== 'object' || v === null || (v as { type?: unknown }).type !== type) return undefined;
    const parsed = body.parse(v);
    return parsed === undefined ? undefined : { ...parsed, type };
  });
}
