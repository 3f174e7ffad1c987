import assert from 'node:assert/strict';
import { computeProfile } from '../../src/playground/profile';
import { DEFAULT_PLAYGROUND_PARAMS, type PlaygroundParams } from '../../src/protocol/playground';

const params = (overrides: Partial<PlaygroundParams>): PlaygroundParams => ({ ...DEFAULT_PLAYGROUND_PARAMS, ...overrides });
const close = (actual: number, expected: number, relative: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

describe('playground: backward profile ‖∂L/∂h_t‖ of the engine’s RNN', () => {
  for (const radius of [0.9, 1.0, 1.1]) {
    it(`a linear RNN with radius γ = ${radius} multiplies the gradient by exactly γ per step back`, () => {
      const T = 60;
      const { hiddenGradNorms: p, envelope, measuredRadius } = computeProfile(params({ radius, seqLen: T, nonlinearity: 'linear' }));
      assert.equal(p.length, T);
      close(measuredRadius, radius, 1e-9, 'spectral radius of W_hh');
      for (let t = 0; t < T - 1; t++) close(p[t] / p[t + 1], radius, 1e-12, `‖∂L/∂h_${t}‖ / ‖∂L/∂h_${t + 1}‖`);
      close(p[0] / p[T - 1], radius ** (T - 1), 1e-10, 'h_0 against h_{T−1}');
      for (let t = 0; t < T; t++) close(envelope[t], p[t], 1e-10, `envelope at t=${t}`);
    });
  }

  it('with tanh, saturation keeps the profile under the γ^(T−1−t) envelope', () => {
    const { hiddenGradNorms: p, envelope } = computeProfile(params({ radius: 1.5, seqLen: 80, nonlinearity: 'tanh' }));
    for (let t = 0; t < p.length; t++) assert.ok(p[t] <= envelope[t] * (1 + 1e-12), `t=${t}: ${p[t]} above ${envelope[t]}`);
    assert.ok(p[0] < 1e-3 * envelope[0], `the envelope overstates the saturated profile: ${p[0]} vs ${envelope[0]}`);
  });

  it('norm clipping rescales the exploding parameter gradient to τ and keeps its direction', () => {
    const { clip, parameters } = computeProfile(params({ radius: 1.3, seqLen: 50, mode: 'norm', threshold: 2 }));
    assert.ok(clip.normBefore > 1e4, `the gradient should explode at γ = 1.3: ${clip.normBefore}`);
    close(clip.normAfter, 2, 1e-6, 'norm after clipping');
    close(clip.cosine, 1, 1e-12, 'cosine');
    close(Math.hypot(...parameters.map((p) => p.before)), clip.normBefore, 1e-12, 'per-parameter norms make up the total');
    assert.ok(parameters.every((p) => Math.abs(p.after / p.before - clip.normAfter / clip.normBefore) < 1e-9), 'every parameter is scaled alike');
  });

  it('value clipping shrinks the parameters unevenly, which turns the gradient', () => {
    const { clip, parameters } = computeProfile(params({ radius: 1.3, seqLen: 50, mode: 'value', threshold: 0.1 }));
    assert.ok(clip.cosine < 0.95, `cosine ${clip.cosine}`);
    assert.ok(clip.normAfter < clip.normBefore);
    const shrink = parameters.map((p) => p.after / p.before);
    assert.ok(Math.max(...shrink) > 10 * Math.min(...shrink), `shrink factors per parameter: ${shrink.join(', ')}`);
  });

  it('without clipping the gradient is left as it is', () => {
    const { clip } = computeProfile(params({ mode: 'none' }));
    assert.equal(clip.normAfter, clip.normBefore);
    close(clip.cosine, 1, 1e-12, 'cosine');
  });
});
