/**
 * The one encoding of data that leaves the host: text that survives
 * postMessage, JSON files and an HTML page alike. Float64Arrays travel as
 * base64 of their bytes (exact, NaN and ±Infinity included, a third of the
 * size of a JSON number list), and lone non-finite numbers as tagged strings,
 * since JSON would turn them into null.
 */
type NodeBuffer = { from(data: ArrayBufferLike | string, offsetOrEncoding?: number | string, length?: number): { toString(encoding: string): string; buffer: ArrayBufferLike; byteOffset: number; byteLength: number } };
const NodeBufferClass = (globalThis as { Buffer?: NodeBuffer }).Buffer;

const F64 = '$f64';
const NUM = '$num';

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
    let binary: string;
    try {
      binary = atob(text);
    } catch {
      return undefined;
    }
    bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  }
  return bytes.length % 8 === 0 ? new Float64Array(bytes.buffer, 0, bytes.length / 8) : undefined;
}

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float64Array) return { [F64]: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    if (typeof v === 'number' && !Number.isFinite(v)) return { [NUM]: String(v) };
    return v;
  });
}

/** The decoded value, or undefined when the text is not wire JSON. Shapes are checked by the receiver's schema. */
export function decodeWire(text: string): unknown {
  try {
    return JSON.parse(text, (_key, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const tagged = v as Record<string, unknown>;
        if (typeof tagged[F64] === 'string' && Object.keys(tagged).length === 1) return float64FromBase64(tagged[F64] as string) ?? null;
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
