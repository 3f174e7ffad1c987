import assert from 'node:assert/strict';
import { Trainer, validateConfig } from '../../src/engine/trainer';
import { checkNumber, CUSTOM_INITS, CUSTOM_MODELS, customExperiment, defaultRadius, RADIUS_RULE, STEPS_RULE, THRESHOLD_RULE } from '../../src/extension/experiment-config';

/** Run Experiment → Custom…: what the input boxes say, and that every choice trains. */
describe('custom experiment', () => {
  it('names what is wrong with a typed number', () => {
    assert.equal(checkNumber('1.5', RADIUS_RULE), undefined);
    assert.equal(checkNumber(' 200 ', STEPS_RULE), undefined);
    assert.equal(checkNumber('', RADIUS_RULE), 'The spectral radius must be a number, like 1.5.');
    assert.equal(checkNumber('abc', STEPS_RULE), 'The number of steps must be a number (a whole one), like 200.');
    assert.equal(checkNumber('0', THRESHOLD_RULE), 'The clipping threshold must be above 0 and at most 1,000,000.');
    assert.equal(checkNumber('12.5', STEPS_RULE), 'The number of steps must be a whole number.');
    assert.equal(checkNumber('200000', STEPS_RULE), 'The number of steps must be at least 1 and at most 100,000.');
    assert.match(checkNumber('Infinity', RADIUS_RULE)!, /must be a number/);
  });

  it('trains every model with every initialisation and clipping mode', () => {
    for (const { model } of CUSTOM_MODELS) {
      for (const { init } of CUSTOM_INITS) {
        for (const clip of [{ mode: 'none' }, { mode: 'norm', maxNorm: 1 }, { mode: 'value', value: 0.5 }] as const) {
          const { id, config } = customExperiment({ model, init, radius: defaultRadius(model), clip, steps: 1 });
          assert.doesNotThrow(() => validateConfig(config), id);
          assert.deepEqual([config.model, config.init, config.clip, config.steps], [model, init, clip, 1]);
          // Smaller than the real thing, so the whole grid trains in a moment.
          const record = new Trainer({ ...config, hiddenSize: 8, seqLen: Math.min(config.seqLen, 10) }).step();
          assert.equal(typeof record.grad_norm, 'number', id);
          if (clip.mode === 'none') assert.equal(record.clipped, false, id);
        }
      }
    }
  });

  it('names the run after its choices', () => {
    assert.equal(customExperiment({ model: 'rnn', init: 'orthogonal', radius: 1.2, clip: { mode: 'norm', maxNorm: 0.5 }, steps: 50 }).id, 'custom-rnn-orthogonal-r1.2-norm0.5');
    assert.equal(customExperiment({ model: 'gru', init: 'normal', radius: 0.9, clip: { mode: 'none' }, steps: 50 }).id, 'custom-gru-normal-r0.9-noclip');
  });
});
