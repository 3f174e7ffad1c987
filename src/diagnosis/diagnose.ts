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
import { RunView } from './view';

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
      let maxNorm: number | null = null;
      let maxStep: number | null = null;
      let nanSteps = 0;
      let infSteps = 0;
      let firstBadStep: number | null = null;
      for (let i = 0; i < series.values.length; i++) {
        const value = series.values[i];
        if (Number.isNaN(value)) nanSteps++;
        else if (!Number.isFinite(value)) infSteps++;
        else if (maxNorm === null || value > maxNorm) {
          maxNorm = value;
          maxStep = series.steps[i];
        }
        if (firstBadStep === null && !(value < options.warnThreshold)) firstBadStep = series.steps[i];
      }
      return { name, maxNorm, maxStep, medianNorm: median(series.values), nanSteps, infSteps, firstBadStep, shareAtPeak: shares.get(name) ?? null };
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

  let maxIndex = -1;
  let firstNonFinite: number | null = null;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      if (maxIndex < 0 || values[i] > values[maxIndex]) maxIndex = i;
    } else if (firstNonFinite === null) firstNonFinite = steps[i];
  }
  const peakStep = maxIndex >= 0 ? steps[maxIndex] : null;
  const loss = view.loss;
  let lossMin: number | null = null;
  let lossMax: number | null = null;
  if (loss) {
    for (const value of loss.values) {
      if (!Number.isFinite(value)) continue;
      if (lossMin === null || value < lossMin) lossMin = value;
      if (lossMax === null || value > lossMax) lossMax = value;
    }
  }
  // The steps of the gradient norms, else of the loss, else of the loss scaler's skip count (DeepSpeed's step lines).
  const stepAxis = steps.length > 0 ? steps : (loss ?? view.skippedTotal ?? view.skipped)?.steps ?? new Float64Array(0);
  // Without a step of any of them there is nothing to judge: the run's warnings say what was looked for.
  const found = stepAxis.length === 0 ? [] : DETECTORS.flatMap((detect) => detect(context));
  // A loss that diverged is also getting worse: the divergence finding says it louder.
  const diverged = found.some((f) => f.kind === 'divergence' && f.evidence.startLoss !== undefined);
  const findings = found.filter((f) => !(diverged && f.kind === 'loss-trend')).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.step - b.step);
  const { clipping, precision, warmup } = context;

  return {
    steps: stepAxis.length,
    firstStep: stepAxis.length > 0 ? stepAxis[0] : null,
    lastStep: stepAxis.length > 0 ? stepAxis[stepAxis.length - 1] : null,
    layers: view.parameters.map((p) => p.name),
    loss: {
      first: loss && loss.values.length > 0 ? loss.values[0] : null,
      last: loss && loss.values.length > 0 ? loss.values[loss.values.length - 1] : null,
      min: lossMin,
      max: lossMax,
    },
    gradNorm: { max: maxIndex >= 0 ? values[maxIndex] : null, maxStep: peakStep, median: median(values), p95: quantile(values, 0.95), firstNonFiniteStep: firstNonFinite },
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
    policies: stepAxis.length === 0 ? [] : policyReplays(context),
  };
}
