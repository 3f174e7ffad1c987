import type { FloatArray } from './kernels/gemm';

export type { FloatArray };
export const DTYPES = ['float32', 'float64'] as const;
export type DType = (typeof DTYPES)[number];

export function allocate(dtype: DType, size: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A dense row-major array with an optional gradient buffer of the same size.
 * Buffers are allocated once, when the graph is built; replaying the graph
 * rewrites them in place, which keeps memory flat over any number of steps.
 */
export class Tensor {
  readonly size: number;

  constructor(
    readonly shape: readonly number[],
    readonly data: FloatArray,
    /** Present when a gradient flows into this tensor. */
    readonly grad: FloatArray | null,
    public name = '',
  ) {
    this.size = sizeOf(shape);
    if (data.length !== this.size) {
      throw new Error(`Tensor ${name || ''}${formatShape(shape)}: data has ${data.length} elements, expected ${this.size}`);
    }
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get requiresGrad(): boolean {
    return this.grad !== null;
  }

  static zeros(dtype: DType, shape: readonly number[], requiresGrad = false, name = ''): Tensor {
    const size = sizeOf(shape);
    return new Tensor(shape, allocate(dtype, size), requiresGrad ? allocate(dtype, size) : null, name);
  }

  static from(dtype: DType, shape: readonly number[], values: ArrayLike<number>, requiresGrad = false, name = ''): Tensor {
    const t = Tensor.zeros(dtype, shape, requiresGrad, name);
    t.data.set(values);
    return t;
  }

  /** Sum of squares of the gradient, accumulated in float64. */
  gradSquaredNorm(): number {
    return this.grad ? squaredNorm(this.grad) : 0;
  }
}

export function squaredNorm(values: FloatArray): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return s;
}

/** Throws an error that names the operation and the shapes involved. */
export function expectShape(op: string, ok: boolean, detail: string, ...tensors: Tensor[]): void {
  if (ok) return;
  const shapes = tensors.map((t) => `${t.name || 'tensor'}${formatShape(t.shape)}`).join(', ');
  throw new Error(`${op}: ${detail} (got ${shapes})`);
}
