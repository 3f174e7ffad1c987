import { gemmPlain, type Gemm } from './kernels/gemm';
import { createPlainTranscendentals, type Transcendentals } from './kernels/transcendentals';
import { Tensor, type DType } from './tensor';

/** One recorded operation: its forward recomputes the output from the inputs, its backward adds into their gradients. */
export interface Node {
  readonly op: string;
  forward(): void;
  backward(): void;
}

/**
 * The tape of a computation. Operations run eagerly as the graph is built and
 * are recorded in execution order, which is already a topological order, so
 * backward is a plain reverse loop (no recursion, any sequence length).
 * `forward()` replays the recorded operations on the same buffers: a training
 * step after the first allocates nothing.
 */
export class Graph {
  private readonly nodes: Node[] = [];
  private readonly intermediates: Tensor[] = [];

  constructor(
    readonly dtype: DType,
    readonly gemm: Gemm = gemmPlain,
    readonly transcendentals: Transcendentals = createPlainTranscendentals(),
  ) {}

  /** A new tensor owned by this graph; its gradient is reset before every backward pass. */
  output(shape: readonly number[], requiresGrad: boolean, name = ''): Tensor {
    const t = Tensor.zeros(this.dtype, shape, requiresGrad, name);
    if (requiresGrad) this.intermediates.push(t);
    return t;
  }

  /** Records a node and runs it once. */
  record(node: Node): void {
    node.forward();
    this.nodes.push(node);
  }

  get length(): number {
    return this.nodes.length;
  }

  /** Recomputes every recorded operation on the current contents of the inputs. */
  forward(): void {
    for (const node of this.nodes) node.forward();
  }

  /**
   * Backpropagates from a scalar. Gradients of leaves (parameters) accumulate,
   * as in PyTorch: zero them before each step.
   */
  backward(loss: Tensor): void {
    if (loss.size !== 1 || !loss.grad) {
      throw new Error(`backward: expected a scalar that requires grad (got ${loss.name || 'tensor'}[${loss.shape.join(', ')}])`);
    }
    for (const t of this.intermediates) t.grad!.fill(0);
    loss.grad[0] = 1;
    for (let i = this.nodes.length - 1; i >= 0; i--) this.nodes[i].backward();
  }
}
