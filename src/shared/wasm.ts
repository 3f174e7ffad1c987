/**
 * Hand-written WebAssembly without a toolchain: a minimal binary emitter for
 * the few opcodes GradLens's kernels need (the engine's SIMD matrix product
 * and its sigmoid and tanh, the TensorBoard reader's CRC-32C), and the part of
 * the JS WebAssembly API they use. Modules are assembled at load time, a few
 * hundred bytes to a few KB each.
 */

// The part of the JS WebAssembly API used here: neither lib ES2022 nor
// @types/node 20 declares it. Module scoped, so it cannot clash with a global
// declaration should one be added later.

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}
declare const WebAssembly: WasmApi | undefined;

/** The module's exports, or null when this runtime has no WebAssembly or refuses the module (no SIMD128, say). */
export function instantiate(bytes: Uint8Array): Record<string, unknown> | null {
  if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
  // Synchronous compilation is fine: these modules are far below the 4 KB that browsers allow on the main thread.
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
}

/** Whether this runtime accepts the module. */
export function wasmAccepts(bytes: Uint8Array): boolean {
  return typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes);
}

// ---------------------------------------------------------------------------
// A minimal WebAssembly binary emitter: just the opcodes the kernels need.

/** WebAssembly's page: memories grow by whole pages. */
export const PAGE_BYTES = 65536;

export const I32 = 0x7f;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof V128;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const signBitClear = (byte & 0x40) === 0;
    if ((value === 0 && signBitClear) || (value === -1 && !signBitClear)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

/** The 8 little-endian bytes of a double (a lane of a v128 constant). */
function float64Bytes(value: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([value]).buffer));
}

/** The bytes of one SIMD instruction (0xfd prefix), and of a local.set, for the body and the prologue alike. */
const simdInstruction = (opcode: number, ...immediates: number[]): number[] => [0xfd, ...unsignedLeb(opcode), ...immediates];
const localSet = (index: number): number[] => [0x21, ...unsignedLeb(index)];
const V128_CONST = 0x0c;

/** A length-prefixed vector of already encoded items. */
function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function asciiName(name: string): number[] {
  return [...unsignedLeb(name.length), ...Array.from(name, (ch) => ch.charCodeAt(0))];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

/** One function: i32 parameters, no result or one i32 (the value the code leaves), locals allocated as the code needs them. */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly prologue: number[] = [];
  private readonly constants = new Map<string, number>();
  private readonly localTypes: ValueType[] = [];
  /** Local indices of the parameters. */
  readonly params: number[];

  constructor(readonly name: string, paramCount: number, readonly returnsI32 = false) {
    this.params = Array.from({ length: paramCount }, (_, index) => index);
  }

  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /**
   * One local per distinct v128 constant, set once before the function's
   * code: V8 rebuilds a v128.const at every use, which inside a loop costs
   * more than reading a local.
   */
  private constantLocal(bytes: number[]): number {
    const key = bytes.join(',');
    let index = this.constants.get(key);
    if (index === undefined) {
      index = this.local(V128);
      this.constants.set(key, index);
      this.prologue.push(...simdInstruction(V128_CONST, ...bytes), ...localSet(index));
    }
    return index;
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.emit(...simdInstruction(opcode, ...immediates));
  }

  get(index: number): this { return this.emit(0x20, ...unsignedLeb(index)); }
  set(index: number): this { return this.emit(...localSet(index)); }
  tee(index: number): this { return this.emit(0x22, ...unsignedLeb(index)); }
  i32Const(value: number): this { return this.emit(0x41, ...signedLeb(value)); }
  i32Add(): this { return this.emit(0x6a); }
  i32Sub(): this { return this.emit(0x6b); }
  i32Mul(): this { return this.emit(0x6c); }
  i32ShrU(): this { return this.emit(0x76); }
  i32Or(): this { return this.emit(0x72); }
  i32And(): this { return this.emit(0x71); }
  i32Xor(): this { return this.emit(0x73); }
  i32Shl(): this { return this.emit(0x74); }
  i32Ne(): this { return this.emit(0x47); }
  i32Eq(): this { return this.emit(0x46); }
  i32Eqz(): this { return this.emit(0x45); }
  i32Rotr(): this { return this.emit(0x78); }
  i32LtU(): this { return this.emit(0x49); }
  i32GtU(): this { return this.emit(0x4b); }
  /** Pops condition, b, a; pushes condition ? a : b. */
  select(): this { return this.emit(0x1b); }
  loop(): this { return this.emit(0x03, 0x40); }
  block(): this { return this.emit(0x02, 0x40); }
  br(depth: number): this { return this.emit(0x0c, ...unsignedLeb(depth)); }
  /** Calls the module's function number `index` (its place in encodeModule's list). */
  call(index: number): this { return this.emit(0x10, ...unsignedLeb(index)); }
  if(): this { return this.emit(0x04, 0x40); }
  else(): this { return this.emit(0x05); }
  end(): this { return this.emit(0x0b); }
  brIf(depth: number): this { return this.emit(0x0d, ...unsignedLeb(depth)); }
  /** Returns what is on the stack (the function's i32, if it has one). */
  return(): this { return this.emit(0x0f); }

  // Memory immediates: log2 of the alignment hint, then a static byte offset.
  i32Load(offset: number): this { return this.emit(0x28, 2, ...unsignedLeb(offset)); }
  i32Load8U(offset: number): this { return this.emit(0x2d, 0, ...unsignedLeb(offset)); }
  i32Store(offset: number): this { return this.emit(0x36, 2, ...unsignedLeb(offset)); }
  i32Store8(offset: number): this { return this.emit(0x3a, 0, ...unsignedLeb(offset)); }
  v128Load(offset: number): this { return this.simd(0x00, 4, ...unsignedLeb(offset)); }
  v128Store(offset: number): this { return this.simd(0x0b, 4, ...unsignedLeb(offset)); }
  v128Load32Splat(offset: number): this { return this.simd(0x09, 2, ...unsignedLeb(offset)); }
  v128Zero(): this { return this.simd(V128_CONST, ...new Array<number>(16).fill(0)); }
  /** Picks four f32 lanes out of (a, b): lanes 0..3 are a's, 4..7 are b's. */
  f32x4Shuffle(lanes: [number, number, number, number]): this {
    return this.simd(0x0d, ...lanes.flatMap((lane) => [0, 1, 2, 3].map((byte) => lane * 4 + byte)));
  }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /** A v128 local holding two equal f64 lanes, set at the function's start (see constantLocal). */
  f64x2Constant(value: number): number {
    return this.constantLocal([...float64Bytes(value), ...float64Bytes(value)]);
  }
  /** A v128 local holding two equal i64 lanes, set at the function's start (see constantLocal). */
  i64x2Constant(value: bigint): number {
    return this.constantLocal(Array.from(new Uint8Array(new BigInt64Array([value, value]).buffer)));
  }
  v128And(): this { return this.simd(0x4e); }
  v128Or(): this { return this.simd(0x50); }
  /** Pushes 1 if any bit of the v128 is set, else 0. */
  v128AnyTrue(): this { return this.simd(0x53); }
  /** Pops mask, b, a; pushes the bits of a where mask is set and of b elsewhere (a lane-wise select when mask lanes are all ones or zeros). */
  v128Bitselect(): this { return this.simd(0x52); }
  i32x4TruncSatF64x2SZero(): this { return this.simd(0xfc); }
  i64x2ExtendLowI32x4S(): this { return this.simd(0xc7); }
  i64x2Shl(): this { return this.simd(0xcb); }
  i64x2Add(): this { return this.simd(0xce); }
  i64x2Sub(): this { return this.simd(0xd1); }
  i64x2Eq(): this { return this.simd(0xd6); }
  i64x2LtS(): this { return this.simd(0xd8); }
  i64x2GtS(): this { return this.simd(0xd9); }
  i64x2LeS(): this { return this.simd(0xda); }
  i64x2GeS(): this { return this.simd(0xdb); }
  f64x2Eq(): this { return this.simd(0x47); }
  f64x2Ne(): this { return this.simd(0x48); }
  f64x2Lt(): this { return this.simd(0x49); }
  f64x2Gt(): this { return this.simd(0x4a); }
  f64x2Trunc(): this { return this.simd(0x7a); }
  f64x2Abs(): this { return this.simd(0xec); }
  f64x2Neg(): this { return this.simd(0xed); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Sub(): this { return this.simd(0xf1); }
  f64x2Mul(): this { return this.simd(0xf2); }
  f64x2Div(): this { return this.simd(0xf3); }

  increment(index: number, step: number): this {
    return this.get(index).i32Const(step).i32Add().set(index);
  }

  /** Ends a do-while loop: decrements the counter and loops while it is not zero. */
  countDown(counter: number): this {
    return this.get(counter).i32Const(1).i32Sub().tee(counter).brIf(0).end();
  }

  /** Ends a do-while loop: increments the counter and loops until it reaches limit. */
  countUpTo(counter: number, limit: number): this {
    return this.get(counter).i32Const(1).i32Add().tee(counter).get(limit).i32Ne().brIf(0).end();
  }

  encode(): number[] {
    const body = [...vector(this.localTypes.map((type) => [1, type])), ...this.prologue, ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }
}

/** A module exporting its functions and its memory. */
export function encodeModule(functions: FunctionBuilder[], initialPages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map(() => [I32])), ...(f.returnsI32 ? [0x01, I32] : [0x00])]);
  const exports = [
    ...functions.map((f, index) => [...asciiName(f.name), 0x00, ...unsignedLeb(index)]),
    [...asciiName('memory'), 0x02, 0x00],
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(5, vector([[0x00, ...unsignedLeb(initialPages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(functions.map((f) => f.encode()))),
  ]);
}
