import type { PlaygroundParams, PlaygroundResult } from '../protocol/playground';
import { computeClipping2d } from './clipping2d';
import { computeProfile } from './profile';
import { computeSurface } from './surface';

/** Everything the playground draws for one setting of its sliders. */
export function computePlayground(params: PlaygroundParams): PlaygroundResult {
  const started = performance.now();
  const profile = computeProfile(params);
  const surface = computeSurface(params);
  const clipping2d = computeClipping2d(params);
  return { params, profile, surface, clipping2d, elapsedMs: performance.now() - started };
}
