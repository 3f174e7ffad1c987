import type { Context } from './context';
import { median } from './stats';
import { extentOf } from '../logs/run';

/**
 * What a log cannot show, given how the tool that wrote it logs: a norm
 * logged every N steps says nothing of the steps between, and a loss
 * averaged over the logging window hides the spikes inside it.
 */
export function loggingCaveats(context: Context): string[] {
  const { view, writer } = context;
  const series = view.norms.steps.length > 1 ? view.norms : view.loss;
  if (!series || series.steps.length < 2) return [];
  const extent = series === view.norms ? view.normsExtent() : extentOf(series);
  const every = view.run.buckets ? (extent.lastStep - extent.firstStep) / (extent.count - 1) : medianGap(series.steps);
  const caveats: string[] = [];
  const { buckets } = view.run;
  if (buckets) {
    caveats.push(
      `This run is long (${extent.count.toLocaleString('en-US')} logged steps): GradLens keeps one point per ${buckets.stride} steps of each series, the largest value of those steps or their first NaN or infinity, so memory stays bounded. ` +
        `Peaks, the first non-finite step, step counts and each parameter's maximum are exact; a finding's step is its bucket's largest value, within ${buckets.stride - 1} steps of where it began, and medians, percentiles and the counts inside findings are of the points kept.`,
    );
  }
  if (writer === 'keras' && view.run.format === 'text') {
    caveats.push("Keras's progress bar shows the loss as the mean over the epoch's batches so far: a spike on one batch is diluted by the batches before it, and one NaN batch keeps the loss NaN for the rest of the epoch.");
  } else if (writer === 'keras' && view.norms.steps.length === 0) {
    caveats.push("Keras's CSVLogger writes one row per epoch: the loss is the epoch's mean, which hides the spikes inside it; log per batch (a callback's on_train_batch_end) to see them.");
  }
  // MMEngine's LogProcessor averages every scalar whose name matches loss, time or grad_norm over its window, whatever the logging interval.
  if (writer === 'mmengine') {
    caveats.push(
      "MMEngine prints grad_norm and the losses as means over the log processor's window (log_processor = dict(window_size=10) by default): a spike on one iteration shows at about a tenth of its size. " +
        "Set log_processor = dict(window_size=1) and default_hooks = dict(logger=dict(type='LoggerHook', interval=1)) to see each iteration's norm.",
    );
  }
  if (!(every > 1)) return caveats;
  const n = String(Math.round(every));
  if (writer === 'hf-trainer') {
    caveats.push(
      `The Trainer logs every ${n} steps (logging_steps): grad_norm is the norm of the one step it logs, so spikes on the steps between are not in this log, and loss is averaged over the ${n} steps, which hides loss spikes. Set logging_steps=1 to see every step.`,
    );
  } else if (writer === 'lightning') {
    caveats.push(`Lightning logs every ${n} steps (Trainer(log_every_n_steps=...), 50 by default): the norms of the steps between are not in this log. Set log_every_n_steps=1 to see every step.`);
  } else if (writer === 'fairseq') {
    caveats.push(
      `fairseq's train_inner lines are means over each --log-interval (here ${n} updates; 100 by default): a gnorm there can be one update far larger among normal ones, and no single update is in this log. Set --log-interval 1 to see each update's norm.`,
    );
  } else if (writer === 'mmengine') {
    caveats.push(`MMEngine logs every ${n} iterations (the LoggerHook's interval): the iterations between are not in this log.`);
  } else if (writer === 'torchtitan') {
    caveats.push(`torchtitan logs every ${n} steps ([metrics] log_freq, 10 by default): the steps between are not in this log. Set --metrics.log_freq 1 to see every step.`);
  } else if (writer === 'nanogpt') {
    caveats.push(`nanoGPT prints every ${n} iterations (log_interval): spikes on the iterations between are not in this log.`);
  } else {
    caveats.push(`This log has one line every ${n} steps: spikes on the steps between are not in it (and a loss averaged over the interval would hide the ones inside it).`);
  }
  return caveats;
}

/** The steps between two logged lines, most often. */
function medianGap(steps: Float64Array): number {
  const gaps: number[] = [];
  for (let i = 1; i < steps.length; i++) gaps.push(steps[i] - steps[i - 1]);
  return median(gaps) ?? 1;
}
