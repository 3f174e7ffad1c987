import type { RecurrentWeightView } from './models';
import { powerIteration } from './ops/spectral';
import { Random } from './random';

export interface SpectralReading {
  /** Largest singular value of the whole recurrent weight. */
  norm: number;
  /** Spectral radius of each square gate block (one for a vanilla RNN; i,f,g,o or r,z,n otherwise). */
  radius: number[];
}

const NORM_ITERATIONS = 100;
const RADIUS_ITERATIONS = 200;

/**
 * Spectral norm and radius of a recurrent weight as the cell uses it. The
 * radius comes from Gelfand's formula ρ = lim ‖Wᵏx‖^(1/k): unlike plain power
 * iteration it converges when the dominant eigenvalues are a complex pair.
 */
export function spectralReading(w: RecurrentWeightView): SpectralReading {
  const H = w.hidden;
  const m = w.gates * H;
  let scale = 1;
  if (w.spectral) {
    const u = Float64Array.from(w.spectral.u);
    const v = Float64Array.from(w.spectral.v);
    scale = 1 / powerIteration(w.data, m, H, u, v, 0);
  }
  const rng = new Random(1);
  const u = Float64Array.from({ length: m }, () => rng.normal());
  const v = new Float64Array(H);
  const norm = Math.abs(powerIteration(w.data, m, H, u, v, NORM_ITERATIONS)) * scale;
  const radius: number[] = [];
  for (let gate = 0; gate < w.gates; gate++) radius.push(blockRadius(w.data, gate * H, H, rng) * scale);
  return { norm, radius };
}

function blockRadius(data: ArrayLike<number>, rowOffset: number, H: number, rng: Random): number {
  let x = Float64Array.from({ length: H }, () => rng.normal());
  let y = new Float64Array(H);
  let logGrowth = 0;
  let counted = 0;
  for (let k = 0; k < RADIUS_ITERATIONS; k++) {
    let norm = 0;
    for (let i = 0; i < H; i++) {
      let s = 0;
      const row = (rowOffset + i) * H;
      for (let j = 0; j < H; j++) s += data[row + j] * x[j];
      y[i] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm);
    if (!(norm > 0 && Number.isFinite(norm))) return norm === 0 ? 0 : NaN;
    for (let i = 0; i < H; i++) y[i] /= norm;
    // The first iterations are dominated by the random start; average the rest.
    if (k >= RADIUS_ITERATIONS / 4) {
      logGrowth += Math.log(norm);
      counted++;
    }
    [x, y] = [y, x];
  }
  return Math.exp(logGrowth / counted);
}
