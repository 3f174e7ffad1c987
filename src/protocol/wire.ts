/**
 * The one encoding of data that leaves the host: text that survives
 * postMessage, JSON files and an HTML page alike. Float64Arrays travel as
 * base64 of their bytes (exact, NaN and ±Infinity included, a third of the
 * size of a JSON number list), and lone non-finite numbers as tagged strings,
 * since JSON would turn them into null. An array that occurs again in the
 * same message (the step axis most series share) is sent once and referred
 * to by its position among the arrays sent.
 */
type NodeBuffer = { from(data: ArrayBufferLike | string, offsetOrEncoding?: number | string, length?: number): { toString(encoding: string): string; buffer: ArrayBufferLike; byteOffset: number; byteLength: number } };
const NodeBufferClass = (globalThis as { Buffer?: NodeBuffer }).Buffer;

const F64 = '$f64';
const F64_REF = '$f64ref';
const NUM = '$num';

/** Base64 digit values for every UTF-16 code unit; -1 for anything else. */
const BASE64_DIGITS = (() => {
  const digits = new Int8Array(65536).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) digits[alphabet.charCodeAt(i)] = i;
  return digits;
})();

/** Standard padded base64 to bytes, straight from the text (atob would first build a binary string as long). */
function bytesFromBase64(text: string): Uint8Array | undefined {
  const native = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;
  if (native) {
    try {
      return native(text);
    } catch {
      return undefined;
    }
  }
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  const d = BASE64_DIGITS;
  // A -1 digit makes its group negative; OR-ing every group keeps the sign.
  let invalid = 0;
  let o = 0;
  const whole = padding ? text.length - 4 : text.length;
  for (let i = 0; i < whole; i += 4) {
    const group = (d[text.charCodeAt(i)] << 18) | (d[text.charCodeAt(i + 1)] << 12) | (d[text.charCodeAt(i + 2)] << 6) | d[text.charCodeAt(i + 3)];
    invalid |= group;
    bytes[o] = group >> 16;
    bytes[o + 1] = group >> 8;
    bytes[o + 2] = group;
    o += 3;
  }
  if (padding) {
    const third = padding === 1 ? d[text.charCodeAt(whole + 2)] : 0;
    const group = (d[text.charCodeAt(whole)] << 18) | (d[text.charCodeAt(whole + 1)] << 12) | (third << 6);
    invalid |= group;
    bytes[o] = group >> 16;
    if (padding === 1) bytes[o + 1] = group >> 8;
  }
  return invalid < 0 ? undefined : bytes;
}

function toBase64(bytes: Uint8Array): string {
  if (NodeBufferClass) return NodeBufferClass.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function float64FromBase64(text: string): Float64Array | undefined {
  let bytes: Uint8Array;
  if (NodeBufferClass) {
    const b = NodeBufferClass.from(text, 'base64');
    bytes = new Uint8Array(b.byteLength);
    bytes.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  } else {
    const decoded = bytesFromBase64(text);
    if (!decoded) return undefined;
    bytes = decoded;
  }
  return bytes.length % 8 === 0 ? new Float64Array(bytes.buffer, 0, bytes.length / 8) : undefined;
}

export function encodeWire(value: unknown): string {
  const sent = new Map<Float64Array, number>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float64Array) {
      const position = sent.get(v);
      if (position !== undefined) return { [F64_REF]: position };
      sent.set(v, sent.size);
      return { [F64]: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { [NUM]: String(v) };
    return v;
  });
}

/** The decoded value, or undefined when the text is not wire JSON. Shapes are checked by the receiver's schema. */
export function decodeWire(text: string): unknown {
  // In order of appearance; JSON.parse revives an array before anything after it refers to it.
  const arrays: Array<Float64Array | undefined> = [];
  try {
    return JSON.parse(text, (_key, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const tagged = v as Record<string, unknown>;
        if (typeof tagged[F64] === 'string' && Object.keys(tagged).length === 1) {
          const array = float64FromBase64(tagged[F64] as string);
          arrays.push(array);
          return array ?? null;
        }
        if (typeof tagged[F64_REF] === 'number' && Object.keys(tagged).length === 1) return arrays[tagged[F64_REF] as number] ?? null;
        if (typeof tagged[NUM] === 'string' && Object.keys(tagged).length === 1) {
          const n = Number(tagged[NUM]);
          return Number.isNaN(n) && tagged[NUM] !== 'NaN' ? null : n;
        }
      }
      return v;
    });
  } catch {
    return undefined;
  }
}
