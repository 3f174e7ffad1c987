/**
 * The Diagnosis as it crosses a boundary (to the sidebar, the dashboard, a
 * report, the language server), declared once from the core's lists.
 */
import { FINDING_KINDS, HINT_IDS, SEVERITIES, SPIKE_VERDICTS, type Diagnosis } from '../diagnosis/types';
import { WRITERS } from '../logs/settings';
import { array, boolean, literal, nullable, number, object, oneOf, optional, record, string, type Infer, type Same } from './schema';

const nullableNumber = nullable(number);

export const hintIdSchema = literal(...HINT_IDS);

export const findingSchema = object({
  kind: literal(...FINDING_KINDS),
  severity: literal(...SEVERITIES),
  step: number,
  endStep: number,
  layers: array(string),
  message: string,
  evidence: record(nullable(oneOf(number, string))),
  hints: array(object({ id: hintIdSchema, text: string })),
});

export const diagnosisSchema = object({
  steps: number,
  firstStep: nullableNumber,
  lastStep: nullableNumber,
  layers: array(string),
  loss: object({ first: nullableNumber, last: nullableNumber, min: nullableNumber, max: nullableNumber }),
  gradNorm: object({ max: nullableNumber, maxStep: nullableNumber, median: nullableNumber, p95: nullableNumber, firstNonFiniteStep: nullableNumber }),
  gradNormSource: literal('logged', 'parameters', 'none'),
  threshold: object({ recommended: nullableNumber, basis: nullable(object({ fromStep: number, toStep: number, steps: number })), mean: nullableNumber, median: nullableNumber, p95: nullableNumber, p99: nullableNumber, max: nullableNumber }),
  clipThreshold: nullableNumber,
  clippedFraction: nullableNumber,
  setup: object({
    writer: literal(...WRITERS),
    clipping: object({ on: boolean, mode: nullable(literal('norm', 'value')), threshold: nullableNumber, source: literal('log', 'config', 'default', 'none') }),
    precision: object({ scaler: boolean, stated: nullable(literal('fp16', 'bf16', 'fp32')) }),
    warmup: nullable(object({ steps: number, source: literal('lr', 'config') })),
    caveats: array(string),
  }),
  parameters: array(
    object({
      name: string,
      maxNorm: nullableNumber,
      maxStep: nullableNumber,
      medianNorm: nullableNumber,
      nanSteps: number,
      infSteps: number,
      firstBadStep: nullableNumber,
      shareAtPeak: nullableNumber,
    }),
  ),
  findings: array(findingSchema),
  ledger: object({
    spikes: array(
      object({
        series: literal('gradNorm', 'loss'),
        step: number,
        value: number,
        baseline: number,
        magnitude: number,
        duration: number,
        recoverySteps: nullableNumber,
        verdict: literal(...SPIKE_VERDICTS),
      }),
    ),
    spikeScore: object({ gradNorm: nullableNumber, loss: nullableNumber }),
    lag: object({ medianSteps: nullableNumber, pairs: number, gradNormSpikes: number, lossSpikes: number }),
    transient: nullable(object({ fromStep: number, toStep: number, peak: number, settled: number })),
  }),
  policies: array(
    object({ name: string, parameters: record(oneOf(number, string)), steps: array(number), stepCount: number, summary: string, clippedShare: optional(number), meanScale: optional(number) }),
  ),
});

const diagnosisInSync: Same<Infer<typeof diagnosisSchema>, Diagnosis> = true;
void diagnosisInSync;
