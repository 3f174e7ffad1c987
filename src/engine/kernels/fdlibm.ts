/**
 * fdlibm's exp and tanh (and the expm1 that tanh uses) as branch-free f64x2
 * WebAssembly, emitted inline into a FunctionBuilder's body.
 *
 * V8 implements Math.exp and Math.tanh with these fdlibm routines
 * (src/base/ieee754.cc), and WebAssembly's f64 arithmetic is IEEE double with
 * round-to-nearest and no fused multiply-add, so the same constants and the
 * same sequence of operations give each lane the bits of Math.exp and
 * Math.tanh, on every machine. Every branch of fdlibm is computed for both
 * lanes and a lane-wise select keeps the one fdlibm would have taken; a lane
 * that fdlibm would not send down a path may compute garbage there (SIMD
 * arithmetic does not trap), which the select discards.
 *
 * Adapted from fdlibm (http://www.netlib.org/fdlibm), e_exp.c, s_expm1.c and
 * s_tanh.c: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 * Developed at SunSoft, a Sun Microsystems, Inc. business. Permission to use,
 * copy, modify, and distribute this software is freely granted, provided that
 * this notice is preserved.
 */
import { FunctionBuilder, V128 } from '../../shared/wasm';

// e_exp.c
const EXP_OVERFLOW = 7.09782712893383973096e+02; // 0x40862E42, 0xFEFA39EF
const EXP_UNDERFLOW = -7.45133219101941108420e+02; // 0xC0874910, 0xD52D3051
const LN2_HI = 6.93147180369123816490e-01; // 0x3FE62E42, 0xFEE00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3DEA39EF, 0x35793C76
const INV_LN2 = 1.44269504088896338700e+00; // 0x3FF71547, 0x652B82FE
const P = [
  1.66666666666666019037e-01, // 0x3FC55555, 0x5555553E
  -2.77777777770155933842e-03, // 0xBF66C16C, 0x16BEBD93
  6.61375632143793436117e-05, // 0x3F11566A, 0xAF25DE2C
  -1.65339022054652515390e-06, // 0xBEBBBD41, 0xC5D26BF1
  4.13813679705723846039e-08, // 0x3E663769, 0x72BEA4D0
];
const E = 2.718281828459045; // 0x4005BF0A, 0x8B145769
const TWO_M1000 = 9.33263618503218878990e-302; // 2^-1000
const TWO_1023 = 8.988465674311579539e307; // 2^1023
// s_expm1.c's Q1..Q5, scaled by 2^n as there
const Q = [
  -3.33333333333331316428e-02, // BFA11111 111110F4
  1.58730158725481460165e-03, // 3F5A01A0 19FE5585
  -7.93650757867487942473e-05, // BF14CE19 9EAADBB7
  4.00821782732936239552e-06, // 3ED0CFCA 86E65239
  -2.01099218183624371326e-07, // BE8AFDB7 6E09C32D
];

/**
 * fdlibm branches on the high word of |x|; as a 64-bit integer, |x| is below
 * a high word h exactly when its bits are below h·2^32.
 */
const bitsOfHighWord = (high: number): bigint => BigInt(high) << 32n;
const ABS_MASK = 0x7fffffffffffffffn;
const ABOVE_HALF_LN2 = bitsOfHighWord(0x3fd62e43); // high word > 0x3FD62E42: |x| > 0.5·ln2
const TWO_M28 = bitsOfHighWord(0x3e300000);
const LARGE_EXP = bitsOfHighWord(0x40860000); // 704: below it, k ≤ 1016 and 2^k is a normal number
const ONE = bitsOfHighWord(0x3ff00000);
const TWENTY_TWO = bitsOfHighWord(0x40360000);
const NON_FINITE = bitsOfHighWord(0x7ff00000);
const EXPONENT_BIAS = 1023n;
const MANTISSA_BITS = 52n;

/** Emits fdlibm's functions into one function body; its scratch locals are allocated once for all of them. */
export class FdlibmEmitter {
  private readonly absBits: number;
  private readonly negative: number;
  private readonly reduced: number;
  private readonly k: number;
  private readonly kBits: number;
  private readonly r: number;
  private readonly hi: number;
  private readonly lo: number;
  private readonly c: number;
  private readonly t: number;
  private readonly y: number;
  private readonly hfx: number;
  private readonly hxs: number;
  private readonly e: number;
  private readonly argument: number;
  private readonly xAbsBits: number;
  private readonly xNegative: number;
  private readonly large: number;

  constructor(private readonly f: FunctionBuilder) {
    [this.absBits, this.negative, this.reduced, this.k, this.kBits, this.r, this.hi, this.lo, this.c, this.t, this.y,
      this.hfx, this.hxs, this.e, this.argument, this.xAbsBits, this.xNegative, this.large] =
      Array.from({ length: 18 }, () => f.local(V128));
  }

  private f64(value: number): number {
    return this.f.f64x2Constant(value);
  }

  private i64(value: bigint): number {
    return this.f.i64x2Constant(value);
  }

  /** Sets absBits to the bits of |x| and negative to x's sign, as lane masks. */
  private classify(x: number, absBits = this.absBits, negative = this.negative): void {
    this.f.get(x).get(this.i64(ABS_MASK)).v128And().set(absBits);
    this.f.get(x).get(this.i64(0n)).i64x2LtS().set(negative);
  }

  /** Pushes a lane mask: |x| (as classified) is below the threshold's bits. */
  private absBelow(absBits: number, threshold: bigint): void {
    this.f.get(absBits).get(this.i64(threshold)).i64x2LtS();
  }

  /** Pushes a lane mask: |x| (as classified) is at or above the threshold's bits. */
  private absAtLeast(absBits: number, threshold: bigint): void {
    this.f.get(absBits).get(this.i64(threshold)).i64x2GeS();
  }

  /** out = mask ? value : out, lane-wise; `value` and `mask` push one v128 each. */
  private override(out: number, value: () => void, mask: () => void): void {
    value();
    this.f.get(out);
    mask();
    this.f.v128Bitselect().set(out);
  }

  /** Pushes c0 + v·(c1 + v·(c2 + v·(c3 + v·c4))), evaluated innermost first as fdlibm writes it. */
  private polynomial(v: number, coefficients: readonly number[]): void {
    coefficients.forEach((coefficient, n) => {
      if (n > 0) this.f.get(v);
      this.f.get(this.f64(coefficient));
    });
    for (let n = 1; n < coefficients.length; n++) this.f.f64x2Mul().f64x2Add();
  }

  /** Pushes 2^n, n being the i64 lanes on the stack (a normal exponent). */
  private powerOfTwo(): void {
    this.f.get(this.i64(EXPONENT_BIAS)).i64x2Add().i32Const(Number(MANTISSA_BITS)).i64x2Shl();
  }

  /**
   * The argument reduction of exp and expm1, x = k·ln2 + (hi - lo) with
   * |hi - lo| ≤ 0.5·ln2, for the lanes where |x| > 0.5·ln2 (`reduced`); r is
   * hi - lo there and x elsewhere, where k is 0. fdlibm takes a shortcut for
   * |x| < 1.5·ln2 (k = ±1, hi = x ∓ ln2_hi, lo = ±ln2_lo); the general path
   * gives the same bits there: k = trunc(x/ln2 ± 0.5) is ±1, and ±1·ln2_hi,
   * ±1·ln2_lo are exact. Expects classify(x).
   */
  private reduce(x: number): void {
    const f = this.f;
    f.get(this.f64(INV_LN2)).get(x).f64x2Mul().get(this.f64(-0.5)).get(this.f64(0.5)).get(this.negative).v128Bitselect().f64x2Add();
    f.f64x2Trunc().set(this.k);
    f.get(x).get(this.k).get(this.f64(LN2_HI)).f64x2Mul().f64x2Sub().set(this.hi); // k·ln2_hi is exact
    f.get(this.k).get(this.f64(LN2_LO)).f64x2Mul().set(this.lo);
    f.get(this.absBits).get(this.i64(ABOVE_HALF_LN2 - 1n)).i64x2GtS().set(this.reduced);
    f.get(this.hi).get(this.lo).f64x2Sub().get(x).get(this.reduced).v128Bitselect().set(this.r);
    // k as i64 lanes; the float k fits an i32 wherever it is used.
    f.get(this.k).i32x4TruncSatF64x2SZero().i64x2ExtendLowI32x4S().set(this.kBits);
  }

  /** Emits out = exp(x) (e_exp.c) for two lanes. x and out are v128 locals. */
  exp(x: number, out: number): void {
    const f = this.f;
    this.classify(x);
    this.reduce(x);
    // c = r - r²·(P1 + r²·(P2 + …)), kept in c; r² in t
    f.get(this.r).get(this.r).f64x2Mul().set(this.t);
    f.get(this.r).get(this.t);
    this.polynomial(this.t, P);
    f.f64x2Mul().f64x2Sub().set(this.c);
    // k = 0: 1 - ((r·c)/(c - 2) - r); else y = 1 - ((lo - (r·c)/(2 - c)) - hi), scaled by 2^k. Shares r·c/(±(2 - c)), kept in t.
    f.get(this.r).get(this.c).f64x2Mul();
    f.get(this.f64(2)).get(this.c).f64x2Sub().get(this.c).get(this.f64(2)).f64x2Sub().get(this.reduced).v128Bitselect();
    f.f64x2Div().set(this.t);
    f.get(this.f64(1)).get(this.lo).get(this.t).f64x2Sub().get(this.hi).f64x2Sub().f64x2Sub().set(this.y);
    // Lanes fdlibm treats apart: |x| < 2^-28, x = 1, and |x| ≥ 704, where 2^k may leave the normal range
    // (and overflow, underflow, ±∞ and NaN are). A branch taken only when a lane needs them keeps them
    // out of the common path.
    this.absBelow(this.absBits, TWO_M28);
    f.get(this.absBits).get(this.i64(LARGE_EXP - 1n)).i64x2GtS().v128Or();
    f.get(x).get(this.f64(1)).f64x2Eq().v128Or().v128AnyTrue().if();
    this.scaleExp(this.kBits);
    f.get(this.f64(1)).get(this.t).get(this.r).f64x2Sub().f64x2Sub();
    f.get(this.reduced).v128Bitselect().set(out);
    this.override(out, () => f.get(this.f64(1)).get(x).f64x2Add(), () => this.absBelow(this.absBits, TWO_M28));
    // V8 returns E for exp(1): the general path gets its last bit wrong.
    this.override(out, () => f.get(this.f64(E)), () => f.get(x).get(this.f64(1)).f64x2Eq());
    // Overflow and underflow, ±∞ included; NaN gives x + x.
    this.override(out, () => f.get(this.f64(Infinity)), () => f.get(x).get(this.f64(EXP_OVERFLOW)).f64x2Gt());
    this.override(out, () => f.get(this.f64(0)), () => f.get(x).get(this.f64(EXP_UNDERFLOW)).f64x2Lt());
    this.override(out, () => f.get(x).get(x).f64x2Add(), () => f.get(x).get(x).f64x2Ne());
    f.else();
    f.get(this.y).get(this.kBits);
    this.powerOfTwo();
    f.f64x2Mul();
    f.get(this.f64(1)).get(this.t).get(this.r).f64x2Sub().f64x2Sub();
    f.get(this.reduced).v128Bitselect().set(out);
    f.end();
  }

  /**
   * Pushes y scaled as fdlibm scales it: by 2^k, by 2·2^1023 when k = 1024,
   * and by 2^(k+1000)·2^-1000 when k < -1021; times 1 (the second factor
   * elsewhere) is exact.
   */
  private scaleExp(kBits: number): void {
    const f = this.f;
    const below = this.hi; // hi and lo are spent: reuse them as masks
    const top = this.lo;
    f.get(kBits).get(this.i64(-1021n)).i64x2LtS().set(below);
    f.get(kBits).get(this.i64(1024n)).i64x2Eq().set(top);
    f.get(this.y);
    f.get(kBits).get(this.i64(1000n)).i64x2Add().get(this.i64(1n)).get(kBits).get(top).v128Bitselect().get(below).v128Bitselect();
    this.powerOfTwo();
    f.f64x2Mul();
    f.get(this.f64(TWO_M1000)).get(this.f64(TWO_1023)).get(this.f64(1)).get(top).v128Bitselect().get(below).v128Bitselect();
    f.f64x2Mul();
  }

  /** Emits out = 1 / (1 + exp(-x)), the engine's sigmoid. */
  sigmoid(x: number, out: number): void {
    this.f.get(x).f64x2Neg().set(this.argument);
    this.exp(this.argument, out);
    this.f.get(this.f64(1)).get(this.f64(1)).get(out).f64x2Add().f64x2Div().set(out);
  }

  /**
   * Emits out = expm1(x) (s_expm1.c) for the arguments tanh gives it,
   * 2^-27 ≤ |x| < 44, where k is 0, -1, -2, -3 or 3..64: fdlibm's branches
   * for huge, tiny and non-finite x and for k = 1 are left out.
   */
  private expm1(x: number, out: number): void {
    const f = this.f;
    this.classify(x);
    this.reduce(x);
    f.get(this.hi).get(this.r).f64x2Sub().get(this.lo).f64x2Sub().set(this.c);
    f.get(this.f64(0.5)).get(this.r).f64x2Mul().set(this.hfx);
    f.get(this.r).get(this.hfx).f64x2Mul().set(this.hxs);
    // r1 = 1 + hxs·(Q1 + hxs·(Q2 + …)), kept in y; t = 3 - r1·hfx
    f.get(this.f64(1)).get(this.hxs);
    this.polynomial(this.hxs, Q);
    f.f64x2Mul().f64x2Add().set(this.y);
    f.get(this.f64(3)).get(this.y).get(this.hfx).f64x2Mul().f64x2Sub().set(this.t);
    // e = hxs·((r1 - t)/(6 - r·t))
    f.get(this.hxs).get(this.y).get(this.t).f64x2Sub().get(this.f64(6)).get(this.r).get(this.t).f64x2Mul().f64x2Sub().f64x2Div().f64x2Mul().set(this.e);
    // k = 0: r - (r·e - hxs), kept in y
    f.get(this.r).get(this.r).get(this.e).f64x2Mul().get(this.hxs).f64x2Sub().f64x2Sub().set(this.y);
    // e = (r·(e - c) - c) - hxs
    f.get(this.r).get(this.e).get(this.c).f64x2Sub().f64x2Mul().get(this.c).f64x2Sub().get(this.hxs).f64x2Sub().set(this.e);
    const twoToK = this.hi; // hi and lo are spent: reuse them
    const twoToMinusK = this.lo;
    const extreme = this.c;
    f.get(this.kBits);
    this.powerOfTwo();
    f.set(twoToK);
    f.get(this.i64(0n)).get(this.kBits).i64x2Sub();
    this.powerOfTwo();
    f.set(twoToMinusK);
    f.get(this.kBits).get(this.i64(-2n)).i64x2LeS().get(this.kBits).get(this.i64(56n)).i64x2GtS().v128Or().set(extreme);
    // k ≤ -2 or k > 56: (1 - (e - r))·2^k - 1; 2 ≤ k < 20: ((1 - 2^-k) - (e - r))·2^k, 1 - 2^-k being exact. Kept in t.
    f.get(this.f64(1)).get(this.f64(1)).get(twoToMinusK).f64x2Sub().get(extreme).v128Bitselect();
    f.get(this.e).get(this.r).f64x2Sub().f64x2Sub().get(twoToK).f64x2Mul().set(this.t);
    // 20 ≤ k ≤ 56: ((r - (e + 2^-k)) + 1)·2^k
    f.get(this.r).get(this.e).get(twoToMinusK).f64x2Add().f64x2Sub().get(this.f64(1)).f64x2Add().get(twoToK).f64x2Mul();
    f.get(this.t).get(this.kBits).get(this.i64(20n)).i64x2GeS().v128Bitselect().set(out);
    this.override(out, () => f.get(this.t).get(this.f64(1)).f64x2Sub(), () => f.get(extreme));
    // k = -1: 0.5·(r - e) - 0.5
    this.override(
      out,
      () => f.get(this.f64(0.5)).get(this.r).get(this.e).f64x2Sub().f64x2Mul().get(this.f64(0.5)).f64x2Sub(),
      () => f.get(this.kBits).get(this.i64(-1n)).i64x2Eq(),
    );
    f.get(out).get(this.y).get(this.reduced).v128Bitselect().set(out);
  }

  /** Emits out = tanh(x) (s_tanh.c, as in V8) for two lanes. x and out are v128 locals. */
  tanh(x: number, out: number): void {
    const f = this.f;
    this.classify(x, this.xAbsBits, this.xNegative);
    this.absAtLeast(this.xAbsBits, ONE);
    f.set(this.large);
    // |x| ≥ 1: 1 - 2/(expm1(2|x|) + 2); else -t/(t + 2) with t = expm1(-2|x|)
    f.get(this.f64(2)).get(x).f64x2Abs().f64x2Mul().get(this.f64(-2)).get(x).f64x2Abs().f64x2Mul().get(this.large).v128Bitselect().set(this.argument);
    this.expm1(this.argument, out);
    f.get(this.f64(2)).get(out).f64x2Neg().get(this.large).v128Bitselect().get(out).get(this.f64(2)).f64x2Add().f64x2Div().set(out);
    f.get(this.f64(1)).get(out).f64x2Sub().get(out).get(this.large).v128Bitselect().set(out);
    this.override(out, () => f.get(out).f64x2Neg(), () => f.get(this.xNegative));
    // Lanes fdlibm treats apart, in a branch taken only when a lane needs it: |x| < 2^-28, |x| ≥ 22, ±∞, NaN.
    this.absBelow(this.xAbsBits, TWO_M28);
    this.absAtLeast(this.xAbsBits, TWENTY_TWO);
    f.v128Or().v128AnyTrue().if();
    // ±(1 - tiny)
    this.override(out, () => f.get(this.f64(-1)).get(this.f64(1)).get(this.xNegative).v128Bitselect(), () => this.absAtLeast(this.xAbsBits, TWENTY_TWO));
    this.override(out, () => f.get(x), () => this.absBelow(this.xAbsBits, TWO_M28));
    // tanh(±∞) = 1/x ± 1, tanh(NaN) = NaN
    this.override(
      out,
      () => f.get(this.f64(1)).get(x).f64x2Div().get(this.f64(-1)).get(this.f64(1)).get(this.xNegative).v128Bitselect().f64x2Add(),
      () => this.absAtLeast(this.xAbsBits, NON_FINITE),
    );
    f.end();
  }
}
