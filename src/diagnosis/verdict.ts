import type { Diagnosis } from './types';

/**
 * What to say of a run with training steps and no findings. Only gradient
 * norms show explosions, vanishing and clipping: a log without them says
 * nothing about its gradients, and must not be called healthy.
 */
export function noFindingsText(d: Pick<Diagnosis, 'gradNormSource' | 'loss'>, run = ''): string {
  const none = `No findings${run ? ` for ${run}` : ''}`;
  if (d.gradNormSource !== 'none') return `${none}: the gradients look healthy.`;
  const checked = d.loss.first !== null ? 'the loss was checked for divergence and non-finite values' : 'nothing could be checked';
  return `${none}, but this log has no gradient norms: ${checked}; explosions, vanishing gradients and clipping could not be. Log the gradient norm to check them.`;
}
