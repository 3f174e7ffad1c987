/** What diagnosis says about a run: numbers for the summary table, and findings in words. */
export const FINDING_KINDS = ['nonfinite', 'explosion', 'spike', 'vanishing', 'clipping', 'dominance', 'divergence'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export const SEVERITIES = ['info', 'warning', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Stable ids: the language server maps them to code fixes, the dashboard to links. */
export const HINT_IDS = [
  'add-norm-clipping',
  'prefer-norm-clipping',
  'raise-clip-threshold',
  'lower-clip-threshold',
  'orthogonal-init',
  'spectral-norm',
  'truncated-bptt',
  'lower-lr',
  'lr-warmup',
  'gated-cells',
  'residual-connections',
  'unscale-before-clipping',
  'loss-scaler',
  'check-data',
  'log-gradients',
] as const;
export type HintId = (typeof HINT_IDS)[number];

export interface Hint {
  id: HintId;
  text: string;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** First step concerned. */
  step: number;
  /** Last step concerned (equal to step for a single-step finding). */
  endStep: number;
  /** Parameters involved, most involved first. */
  layers: string[];
  message: string;
  /** The numbers behind the message. */
  evidence: Record<string, number | string | null>;
  hints: Hint[];
}

/** One row of the problematic-parameter table. */
export interface ParameterSummary {
  name: string;
  maxNorm: number | null;
  maxStep: number | null;
  medianNorm: number | null;
  nanSteps: number;
  infSteps: number;
  /** First step whose norm is non-finite or over the explosion threshold. */
  firstBadStep: number | null;
  /** Share of the total squared norm at the run's largest finite total norm. */
  shareAtPeak: number | null;
}

export interface ThresholdAdvice {
  /** p95 of the healthy finite norms below 1e6: a clip threshold that leaves ordinary steps alone. */
  recommended: number | null;
  mean: number | null;
  median: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface Diagnosis {
  steps: number;
  firstStep: number | null;
  lastStep: number | null;
  layers: string[];
  loss: { first: number | null; last: number | null; min: number | null; max: number | null };
  gradNorm: { max: number | null; maxStep: number | null; median: number | null; p95: number | null; firstNonFiniteStep: number | null };
  /** Where the total norm comes from: the log, or the root of the sum of squared per-parameter norms. */
  gradNormSource: 'logged' | 'parameters' | 'none';
  threshold: ThresholdAdvice;
  /** The clip threshold (max_norm) the log says was in force, as the detectors read it. */
  clipThreshold: number | null;
  clippedFraction: number | null;
  parameters: ParameterSummary[];
  findings: Finding[];
}

export interface DiagnoseOptions {
  /** Norm at which a step counts as exploding (warning). */
  warnThreshold: number;
  /** Norm at which an explosion is an error. */
  alertThreshold: number;
  /** Growth factor within `growthWindow` steps that counts as an explosion. */
  growthFactor: number;
  growthWindow: number;
}

export const DEFAULT_DIAGNOSE_OPTIONS: DiagnoseOptions = { warnThreshold: 10, alertThreshold: 100, growthFactor: 100, growthWindow: 10 };
