import type { Context } from './context';
import { sharesAt } from './episodes';
import { lossAfter } from './explosion';
import { hints } from './hints';
import { formatNumber } from './stats';
import type { Finding } from './types';
import { indexOfStep } from './view';

/** Findings listed at most; the largest are kept (the ledger lists them all). */
const MAX_SPIKES = 10;

/**
 * The ledger's gradient-norm spikes below the explosion threshold, as
 * findings. A spike followed within three steps by a loss spike reached the
 * weights; one without is usually a bad batch; one back in its band within
 * a few steps did no lasting harm.
 */
export function spikeFindings(context: Context): Finding[] {
  const { view, exploding, skips, ledger } = context;
  const { steps } = view.norms;
  return ledger.spikes
    .filter((s) => s.series === 'gradNorm' && !exploding.steps.has(s.step) && !skips.has(s.step))
    .sort((a, b) => b.magnitude - a.magnitude)
    .slice(0, MAX_SPIKES)
    .sort((a, b) => a.step - b.step)
    .map((spike): Finding => {
      const index = indexOfStep(steps, spike.step);
      const loss = lossAfter(context, index);
      const back =
        spike.recoverySteps === null
          ? ' It did not come back within its normal band.'
          : spike.verdict === 'recovered'
            ? ` It was back within its normal band after ${spike.recoverySteps} step${spike.recoverySteps === 1 ? '' : 's'}.`
            : ` It took ${spike.recoverySteps} steps to come back within its normal band.`;
      const message =
        `The gradient norm spiked at step ${spike.step}: ${formatNumber(spike.value)}, ${formatNumber(spike.magnitude)}× the rolling median of ${formatNumber(spike.baseline)}.${back}` +
        (loss
          ? ` The loss jumped to ${formatNumber(loss.loss)} at step ${loss.step} (median before: ${formatNumber(loss.baseline)}): a gradient spike followed by a loss spike is how an explosion begins.`
          : ' The loss did not react; an isolated spike like this is usually one unusual batch.');
      return {
        kind: 'spike',
        severity: loss && spike.verdict === 'damaging' ? 'warning' : 'info',
        step: spike.step,
        endStep: spike.step + Math.max(0, spike.duration - 1),
        layers: sharesAt(view, index)
          .filter((p, i) => i === 0 || p.share >= 0.1)
          .map((p) => p.name),
        message,
        evidence: { norm: spike.value, rollingMedian: spike.baseline, ratio: spike.magnitude, lossAfter: loss?.loss ?? null, recoverySteps: spike.recoverySteps },
        hints: loss ? [...(context.clipping.on ? [hints.lowerLr(context, undefined)] : hints.clipping(context)), hints.checkData(spike.step)] : [hints.checkData(spike.step)],
      };
    });
}
