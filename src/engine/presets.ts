import { DEFAULT_CONFIG, type TrainConfig } from './trainer';

/** A named experiment: one run or several runs meant to be compared. */
export interface Preset {
  name: string;
  description: string;
  runs: Array<{ id: string; config: TrainConfig }>;
}

const rnnExploding: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: 'rnn', inputSize: 4, hiddenSize: 64, layers: 1, seqLen: 50, batch: 16, task: 'memory',
  init: 'orthogonal', radius: 1.5, optimizer: 'sgd', lr: 0.05, clip: { mode: 'none' }, steps: 200, instrumentEvery: 10,
};

const single = (name: string, description: string, config: TrainConfig): Preset => ({ name, description, runs: [{ id: name, config }] });

export const PRESETS: Preset[] = [
  single('rnn-exploding', 'Vanilla RNN, recurrent spectral radius 1.5, T=50, SGD, no clipping: the gradient explodes.', rnnExploding),
  single('rnn-clipped', 'The same RNN with norm clipping at 1.0: same explosion in the raw norm, but training goes on.', {
    ...rnnExploding,
    clip: { mode: 'norm', maxNorm: 1 },
  }),
  single('lstm-long', 'LSTM on the long-memory task with T=100 and norm clipping at 1.0.', {
    ...DEFAULT_CONFIG,
    model: 'lstm', inputSize: 4, hiddenSize: 32, seqLen: 100, batch: 16, task: 'memory', init: 'orthogonal',
    optimizer: 'adam', lr: 0.003, clip: { mode: 'norm', maxNorm: 1 }, steps: 200,
  }),
  single('deep-mlp', 'MLP with 24 layers, no residual connections and a large init (gain 2.5): gradients explode through depth.', {
    ...DEFAULT_CONFIG,
    model: 'mlp', inputSize: 4, hiddenSize: 64, layers: 24, seqLen: 4, batch: 32, task: 'memory', init: 'normal', radius: 2.5,
    nonlinearity: 'relu', optimizer: 'sgd', lr: 0.01, steps: 100,
  }),
  {
    name: 'regimes',
    description:
      'Linear RNNs (no activation, so the backward profile is exactly ρ^(T−t)) with orthogonal recurrent weights of spectral radius 0.9, 1.0 and 1.1 over T=100: vanishing, stable, exploding.',
    runs: [0.9, 1.0, 1.1].map((radius) => ({
      id: `radius-${radius.toFixed(1)}`,
      config: { ...rnnExploding, hiddenSize: 32, nonlinearity: 'linear' as const, radius, seqLen: 100, lr: 0.0005, steps: 100 },
    })),
  },
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
