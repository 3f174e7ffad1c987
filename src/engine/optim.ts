import type { NamedParameters } from './nn/module';
import { allocate, type FloatArray, type Tensor } from './tensor';

export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}

/** torch.optim's update rules, step for step (the single-tensor code path). */
export interface Optimizer {
  readonly name: OptimizerName;
  lr: number;
  step(): void;
  zeroGrad(): void;
}

export function createOptimizer(name: OptimizerName, params: NamedParameters, options: OptimizerOptions): Optimizer {
  const tensors = params.map(([, t]) => t);
  return name === 'sgd' ? new Sgd(tensors, options) : new Adam(tensors, options, name === 'adamw');
}

function zeroGrads(params: readonly Tensor[]): void {
  for (const p of params) p.grad?.fill(0);
}

class Sgd implements Optimizer {
  readonly name = 'sgd';
  lr: number;
  private readonly momentumBuffers: Array<FloatArray | null>;

  constructor(private readonly params: readonly Tensor[], private readonly o: OptimizerOptions) {
    this.lr = o.lr;
    this.momentumBuffers = params.map(() => null);
  }

  step(): void {
    const { momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = this.o;
    this.params.forEach((p, k) => {
      const grad = p.grad;
      if (!grad) return;
      let buf = this.momentumBuffers[k];
      const first = buf === null;
      if (momentum !== 0 && !buf) buf = this.momentumBuffers[k] = allocate(p.dtype, p.size);
      for (let i = 0; i < p.size; i++) {
        let d = grad[i];
        if (weightDecay !== 0) d += weightDecay * p.data[i];
        if (buf) {
          buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
          d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        p.data[i] -= this.lr * d;
      }
    });
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }
}

class Adam implements Optimizer {
  readonly name: OptimizerName;
  lr: number;
  private readonly expAvg: FloatArray[];
  private readonly expAvgSq: FloatArray[];
  private steps = 0;

  constructor(private readonly params: readonly Tensor[], private readonly o: OptimizerOptions, private readonly decoupled: boolean) {
    this.name = decoupled ? 'adamw' : 'adam';
    this.lr = o.lr;
    this.expAvg = params.map((p) => allocate(p.dtype, p.size));
    this.expAvgSq = params.map((p) => allocate(p.dtype, p.size));
  }

  step(): void {
    const [beta1, beta2] = this.o.betas ?? [0.9, 0.999];
    const eps = this.o.eps ?? 1e-8;
    // AdamW's default weight decay is 0.01; Adam's is 0.
    const weightDecay = this.o.weightDecay ?? (this.decoupled ? 0.01 : 0);
    this.steps++;
    const biasCorrection1 = 1 - beta1 ** this.steps;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.steps);
    const stepSize = this.lr / biasCorrection1;
    this.params.forEach((p, k) => {
      const grad = p.grad;
      if (!grad) return;
      const m = this.expAvg[k];
      const v = this.expAvgSq[k];
      for (let i = 0; i < p.size; i++) {
        let gi = grad[i];
        if (this.decoupled) p.data[i] *= 1 - this.lr * weightDecay;
        else if (weightDecay !== 0) gi += weightDecay * p.data[i];
        m[i] += (gi - m[i]) * (1 - beta1);
        v[i] = v[i] * beta2 + (1 - beta2) * gi * gi;
        p.data[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / biasCorrection2Sqrt + eps);
      }
    });
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }
}
