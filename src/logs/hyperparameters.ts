/**
 * The hyperparameters a run states, as a sweep compares them: what its log
 * or run folder's configuration says (settings.ts), else what the log itself
 * records (the logged learning rate's peak, the first logged `max_norm`).
 * A hyperparameter a run does not state is absent, never guessed.
 */
import { seriesWithRole, tallyOf, type Run } from './run';

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

export function statedHyperparameters(run: Run): Hyperparameters {
  const settings = run.settings;
  const lr = seriesWithRole(run, 'lr');
  // The tally's largest finite value: exact in a summarised run too, and no copy of the series at each summary.
  const peakRate = lr ? tallyOf(lr).max : NaN;
  const loggedClip = seriesWithRole(run, 'maxNorm')?.values.find(Number.isFinite);
  const stated: Hyperparameters = {
    // The peak of the logged schedule is the rate a sweep sets (warm-up and decay move around it).
    learningRate: settings?.learningRate ?? (Number.isNaN(peakRate) ? undefined : peakRate),
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
