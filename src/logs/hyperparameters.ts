/**
 * The hyperparameters a run states, as a sweep compares them: what its log
 * or run folder's configuration says (settings.ts), else what the log itself
 * records (the logged learning rate's peak, the first logged `max_norm`).
 * A hyperparameter a run does not state is absent, never guessed.
 */
import { seriesWithRole, type Run, type Series } from './run';

/** Keys in the order a table shows them, with the words it heads them with. */
export const HYPERPARAMETER_LABELS = {
  learningRate: 'learning rate',
  batchSize: 'batch size',
  clipNorm: 'clip max_norm',
  clipValue: 'clip value',
  precision: 'precision',
  warmupSteps: 'warm-up steps',
  warmupRatio: 'warm-up ratio',
} as const;
export type HyperparameterKey = keyof typeof HYPERPARAMETER_LABELS;
export type Hyperparameters = Partial<Record<HyperparameterKey, number | string>>;

function finiteValues(series: Series | undefined): number[] {
  return series ? Array.from(series.values).filter(Number.isFinite) : [];
}

export function statedHyperparameters(run: Run): Hyperparameters {
  const settings = run.settings;
  const rates = finiteValues(seriesWithRole(run, 'lr'));
  const loggedClip = finiteValues(seriesWithRole(run, 'maxNorm'))[0];
  const stated: Hyperparameters = {
    // The peak of the logged schedule is the rate a sweep sets (warm-up and decay move around it).
    learningRate: settings?.learningRate ?? (rates.length > 0 ? rates.reduce((a, b) => Math.max(a, b)) : undefined),
    batchSize: settings?.batchSize,
    // 0 is how the tools say clipping is off.
    clipNorm: settings?.clipNorm === 0 ? 'off' : (settings?.clipNorm ?? loggedClip),
    clipValue: settings?.clipValue,
    precision: settings?.precision,
    warmupSteps: settings?.warmupSteps,
    warmupRatio: settings?.warmupRatio,
  };
  return Object.fromEntries(Object.entries(stated).filter(([, value]) => value !== undefined));
}
