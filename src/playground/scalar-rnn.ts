/**
 * The one-unit recurrent network of Pascanu, Mikolov & Bengio (2013, Fig. 6):
 * h_t = σ(w·h_{t−1} + b) for t = 1..T, no input, loss (h_T − target)².
 * A loss surface is thousands of these; written out as scalar loops it costs
 * microseconds per point, where the engine's graph costs tens (the tests check
 * it against the engine's autograd and against finite differences).
 */
export interface ScalarRnn {
  h0: number;
  target: number;
  seqLen: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Writes [loss, ∂L/∂w, ∂L/∂b] into `out`. `states` (length ≥ T+1) holds the
 * forward pass for backpropagation through time; passing it in keeps a grid
 * of evaluations free of allocation.
 */
export function lossAndGradient(rnn: ScalarRnn, w: number, b: number, states: Float64Array, out: Float64Array): void {
  const T = rnn.seqLen;
  states[0] = rnn.h0;
  for (let t = 1; t <= T; t++) {
    states[t] = sigmoid(w * states[t - 1] + b);
    if (states[t] === states[t - 1]) {
      // A fixed point to the last bit: every later state is this one, so skip the exponentials (the result is the same).
      states.fill(states[t], t + 1, T + 1);
      break;
    }
  }
  const error = states[T] - rnn.target;
  let dh = 2 * error;
  let dw = 0;
  let db = 0;
  for (let t = T; t >= 1; t--) {
    const dz = dh * states[t] * (1 - states[t]);
    dw += dz * states[t - 1];
    db += dz;
    dh = dz * w;
  }
  out[0] = error * error;
  out[1] = dw;
  out[2] = db;
}
