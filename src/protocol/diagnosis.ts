/**
 * The Diagnosis as it crosses a boundary (to the sidebar, the dashboard, a
 * report, the language server), declared once from the core's lists.
 */
import { FINDING_KINDS, HINT_IDS, SEVERITIES, type Diagnosis } from '../diagnosis/types';
import { array, literal, nullable, number, object, oneOf, record, string, type Infer, type Same } from './schema';

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
  threshold: object({ recommended: nullableNumber, mean: nullableNumber, median: nullableNumber, p95: nullableNumber, p99: nullableNumber, max: nullableNumber }),
  clipThreshold: nullableNumber,
  clippedFraction: nullableNumber,
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
});

const diagnosisInSync: Same<Infer<typeof diagnosisSchema>, Diagnosis> = true;
void diagnosisInSync;
