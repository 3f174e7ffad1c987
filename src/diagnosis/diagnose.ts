import type { Run } from '../logs/run';
import { clippingFindings } from './clipping';
import { buildContext, type Context } from './context';
import { divergenceFindings } from './divergence';
import { dominanceFindings } from './dominance';
import { sharesAt } from './episodes';
import { explosionFindings } from './explosion';
import { loggingCaveats } from './caveats';
import { nonFiniteFindings } from './nonfinite';
import { policyReplays } from './policies';
import { spikeFindings } from './spikes';
import { median, quantile } from './stats';
import { DEFAULT_DIAGNOSE_OPTIONS, SEVERITY_RANK, type DiagnoseOptions, type Diagnosis, type Finding, type ParameterSummary } from './types';
import { lossTrendFindings } from './trend';
import { vanishingFindings } from './vanishing';
import { indexOfStep, RunView } from './view';
import { extentOf, tallyOf } from '../logs/run';

/** A tally's NaN (nothing of the kind was logged) as the diagnosis's null. */
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

const DETECTORS: ((context: Context) => Finding[])[] = [
  nonFiniteFindings,
  explosionFindings,
  spikeFindings,
  vanishingFindings,
  clippingFindings,
  dominanceFindings,
  divergenceFindings,
  lossTrendFindings,
];

/** The problematic-parameter table: non-finite parameters first, then by largest norm. */
function parameterTable(context: Context, peakIndex: number): ParameterSummary[] {
  const { view, options } = context;
  const shares = new Map(peakIndex >= 0 ? sharesAt(view, peakIndex).map((p) => [p.name, p.share]) : []);
  return view.parameters
    .map(({ name, series }): ParameterSummary => {
      const tally = tallyOf(series);
      const bad = series.values.findIndex((value) => !(value < options.warnThreshold));
      return {
        name,
        maxNorm: orNull(tally.max),
        maxStep: orNull(tally.maxStep),
        medianNorm: median(series.values),
        nanSteps: tally.nan,
        infSteps: tally.inf,
        firstBadStep: bad < 0 ? null : series.steps[bad],
        shareAtPeak: shares.get(name) ?? null,
      };
    })
    .sort((a, b) => {
      const badA = a.nanSteps + a.infSteps > 0 ? 1 : 0;
      const badB = b.nanSteps + b.infSteps > 0 ? 1 : 0;
      if (badA !== badB) return badB - badA;
      return (b.maxNorm ?? -1) - (a.maxNorm ?? -1);
    });
}

/** Everything GradLens concludes about one run. */
export function diagnose(run: Run, options: Partial<DiagnoseOptions> = {}): Diagnosis {
  const context = buildContext(new RunView(run), { ...DEFAULT_DIAGNOSE_OPTIONS, ...options });
  const { view } = context;
  const { steps, values } = view.norms;
  const norms = tallyOf(view.norms);
  const peakStep = orNull(norms.maxStep);
  const maxIndex = peakStep === null ? -1 : indexOfStep(steps, peakStep, view.run.buckets);
  const loss = view.loss && view.loss.values.length > 0 ? tallyOf(view.loss) : undefined;
  // The steps of the gradient norms, else of the loss, else of the loss scaler's skip count (DeepSpeed's step lines).
  const axisSeries = steps.length > 0 ? undefined : (view.loss ?? view.skippedTotal ?? view.skipped);
  const stepAxis = axisSeries ? extentOf(axisSeries) : steps.length > 0 ? view.normsExtent() : { count: 0, firstStep: NaN, lastStep: NaN };
  // Without a step of any of them there is nothing to judge: the run's warnings say what was looked for.
  const found = stepAxis.count === 0 ? [] : DETECTORS.flatMap((detect) => detect(context));
  // A loss that diverged is also getting worse: the divergence finding says it louder.
  const diverged = found.some((f) => f.kind === 'divergence' && f.evidence.startLoss !== undefined);
  const findings = found.filter((f) => !(diverged && f.kind === 'loss-trend')).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.step - b.step);
  const { clipping, precision, warmup } = context;

  return {
    steps: stepAxis.count,
    firstStep: stepAxis.count > 0 ? stepAxis.firstStep : null,
    lastStep: stepAxis.count > 0 ? stepAxis.lastStep : null,
    layers: view.parameters.map((p) => p.name),
    loss: { first: loss ? loss.first : null, last: loss ? loss.last : null, min: loss ? orNull(loss.min) : null, max: loss ? orNull(loss.max) : null },
    gradNorm: { max: orNull(norms.max), maxStep: peakStep, median: median(values), p95: quantile(values, 0.95), firstNonFiniteStep: orNull(norms.firstNonFiniteStep) },
    gradNormSource: view.normSource,
    threshold: context.advice,
    clipThreshold: context.clipping.threshold ?? null,
    clippedFraction: context.clipping.clippedFraction,
    setup: {
      writer: context.writer,
      clipping: { on: clipping.on, mode: clipping.mode ?? null, threshold: clipping.threshold ?? null, source: clipping.source },
      precision: { scaler: precision.scaler, stated: precision.stated ?? null },
      warmup: warmup ?? null,
      caveats: loggingCaveats(context),
    },
    parameters: parameterTable(context, maxIndex),
    findings,
    ledger: context.ledger,
    policies: stepAxis.count === 0 ? [] : policyReplays(context),
  };
}
