/** What diagnosis says about a run: numbers for the summary table, and findings in words. */
import type { Writer } from '../logs/settings';

export const FINDING_KINDS = ['nonfinite', 'explosion', 'spike', 'vanishing', 'clipping', 'dominance', 'divergence', 'loss-trend'] as const;
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
  /** p95 of the norms of the run's longest stable stretch: a clip threshold that leaves ordinary steps alone; null when no stretch is stable. */
  recommended: number | null;
  /** The stable stretch the recommendation comes from: no explosion, no non-finite value, past the early transient. */
  basis: { fromStep: number; toStep: number; steps: number } | null;
  mean: number | null;
  median: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** What the run had in place, as its log, its folder or its writing tool's defaults say. */
export interface RunSetup {
  writer: Writer;
  clipping: { on: boolean; mode: 'norm' | 'value' | null; threshold: number | null; source: 'log' | 'config' | 'default' | 'none' };
  /** An fp16 loss scaler at work, and the precision the configuration states. */
  precision: { scaler: boolean; stated: 'fp16' | 'bf16' | 'fp32' | null };
  warmup: { steps: number; source: 'lr' | 'config' } | null;
  /** What this log cannot show, given how its tool logs (one step per logging interval, losses averaged over it). */
  caveats: string[];
}

export const SPIKE_VERDICTS = ['recovered', 'damaging', 'overflow'] as const;
export type SpikeVerdict = (typeof SPIKE_VERDICTS)[number];

/** One gradient-norm or loss spike of the ledger. */
export interface SpikeEntry {
  series: 'gradNorm' | 'loss';
  step: number;
  value: number;
  /** The rolling median the spike stood out from. */
  baseline: number;
  /** value / baseline. */
  magnitude: number;
  /** Steps in a row outside the normal band, from the spike on. */
  duration: number;
  /** Steps from the spike until the value is back within the normal band; null when it never came back. */
  recoverySteps: number | null;
  verdict: SpikeVerdict;
}

export interface SpikeLedger {
  spikes: SpikeEntry[];
  /** OLMo 2's spike score: the share of values at least 7σ from the rolling mean of the previous 1,000. */
  spikeScore: { gradNorm: number | null; loss: number | null };
  /** Loss spike step minus gradient-norm spike step, over the pairs found within a few steps of each other (negative: the loss moved first). */
  lag: { medianSteps: number | null; pairs: number; gradNormSpikes: number; lossSpikes: number };
  /** The early-training transient: norms that start high and settle, not an explosion. */
  transient: { fromStep: number; toStep: number; peak: number; settled: number } | null;
}

/** What a spike policy people run would have done on this log. */
export interface PolicyReplay {
  name: string;
  parameters: Record<string, number | string>;
  /** The first steps it would have acted on (skipped, flagged or clipped), at most MAX_POLICY_STEPS of them. */
  steps: number[];
  /** How many steps it would have acted on. */
  stepCount: number;
  summary: string;
  /** Norm clipping: the share of steps clipped and the mean scale factor min(1, τ/‖g‖). */
  clippedShare?: number;
  meanScale?: number;
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
  setup: RunSetup;
  parameters: ParameterSummary[];
  findings: Finding[];
  ledger: SpikeLedger;
  policies: PolicyReplay[];
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
