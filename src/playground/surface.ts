import { gridValue, PLAYGROUND_LIMITS, type ClipMode, type GradientPath, type PlaygroundParams, type SurfaceResult } from '../protocol/playground';
import { clipVector } from './clip';
import { lossAndGradient, type ScalarRnn } from './scalar-rnn';

const GRID = 60;

/**
 * The window over (w, b). With h_0 = ½, σ's symmetry puts the cliff on the
 * line b = −w/2 (where h_0 is the unstable fixed point, for w > 4): it is the
 * window's diagonal, and grid nodes lie on it, so the map shows the wall's own
 * gradient and not only the plateaus either side of it.
 */
const SURFACE_WINDOW = {
  w: { ...PLAYGROUND_LIMITS.start.w, count: GRID },
  b: { ...PLAYGROUND_LIMITS.start.b, count: GRID },
};

/** h_0 and the target, as in the paper. */
export const SURFACE_RNN = { h0: 0.5, target: 0.7 } as const;
/** Enough steps for the clipped path to reach the valley; lr such that from the default start the unclipped one first walks to the wall. */
export const DESCENT = { lr: 1, steps: 60 } as const;

export function computeSurface(p: PlaygroundParams): SurfaceResult {
  const rnn: ScalarRnn = { ...SURFACE_RNN, seqLen: p.seqLen };
  const states = new Float64Array(p.seqLen + 1);
  const out = new Float64Array(3);
  const { w: wAxis, b: bAxis } = SURFACE_WINDOW;
  const loss = new Float64Array(wAxis.count * bAxis.count);
  const gradNorm = new Float64Array(loss.length);
  for (let j = 0; j < bAxis.count; j++) {
    const b = gridValue(bAxis, j);
    for (let i = 0; i < wAxis.count; i++) {
      lossAndGradient(rnn, gridValue(wAxis, i), b, states, out);
      loss[j * wAxis.count + i] = out[0];
      gradNorm[j * wAxis.count + i] = Math.hypot(out[1], out[2]);
    }
  }
  return {
    w: wAxis,
    b: bAxis,
    loss,
    gradNorm,
    ...SURFACE_RNN,
    lr: DESCENT.lr,
    raw: descend(rnn, p.start, 'none', p.threshold),
    clipped: p.mode === 'none' ? null : descend(rnn, p.start, p.mode, p.threshold),
  };
}

/** Plain gradient descent on (w, b), the gradient clipped as training would clip it. */
export function descend(rnn: ScalarRnn, start: { w: number; b: number }, mode: ClipMode, threshold: number): GradientPath {
  const n = DESCENT.steps + 1;
  const path: GradientPath = { w: new Float64Array(n), b: new Float64Array(n), loss: new Float64Array(n), gradNorm: new Float64Array(n), stepLength: new Float64Array(n - 1) };
  const states = new Float64Array(rnn.seqLen + 1);
  const out = new Float64Array(3);
  let { w, b } = start;
  for (let k = 0; k < n; k++) {
    lossAndGradient(rnn, w, b, states, out);
    path.w[k] = w;
    path.b[k] = b;
    path.loss[k] = out[0];
    path.gradNorm[k] = Math.hypot(out[1], out[2]);
    if (k === n - 1) break;
    const [dw, db] = clipVector(out.subarray(1), mode, threshold);
    path.stepLength[k] = DESCENT.lr * Math.hypot(dw, db);
    w -= DESCENT.lr * dw;
    b -= DESCENT.lr * db;
  }
  return path;
}
