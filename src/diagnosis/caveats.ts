import type { Context } from './context';
import { median } from './stats';

/**
 * What a log cannot show, given how the tool that wrote it logs: a norm
 * logged every N steps says nothing of the steps between, and a loss
 * averaged over the logging window hides the spikes inside it.
 */
export function loggingCaveats(context: Context): string[] {
  const { view, writer } = context;
  const steps = view.norms.steps.length > 1 ? view.norms.steps : view.loss?.steps;
  if (!steps || steps.length < 2) return [];
  const gaps: number[] = [];
  for (let i = 1; i < steps.length; i++) gaps.push(steps[i] - steps[i - 1]);
  const every = median(gaps) ?? 1;
  const caveats: string[] = [];
  if (writer === 'keras' && view.norms.steps.length === 0) caveats.push("Keras's CSVLogger writes one row per epoch: the loss is the epoch's mean, which hides the spikes inside it; log per batch (a callback's on_train_batch_end) to see them.");
  if (!(every > 1)) return caveats;
  const n = String(Math.round(every));
  if (writer === 'hf-trainer') {
    caveats.push(
      `The Trainer logs every ${n} steps (logging_steps): grad_norm is the norm of the one step it logs, so spikes on the steps between are not in this log, and loss is averaged over the ${n} steps, which hides loss spikes. Set logging_steps=1 to see every step.`,
    );
  } else if (writer === 'lightning') {
    caveats.push(`Lightning logs every ${n} steps (Trainer(log_every_n_steps=...), 50 by default): the norms of the steps between are not in this log. Set log_every_n_steps=1 to see every step.`);
  } else if (writer === 'nanogpt') {
    caveats.push(`nanoGPT prints every ${n} iterations (log_interval): spikes on the iterations between are not in this log.`);
  } else {
    caveats.push(`This log has one line every ${n} steps: spikes on the steps between are not in it (and a loss averaged over the interval would hide the ones inside it).`);
  }
  return caveats;
}
