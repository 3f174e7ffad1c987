import type { Clipping2dResult, PlaygroundParams } from '../protocol/playground';
import { clipVector } from './clip';

/** ∠(a, b) in degrees, from atan2 (exact near 0°, where acos of a cosine rounds). */
const angle = (a: ArrayLike<number>, b: ArrayLike<number>): number => (Math.atan2(Math.abs(a[0] * b[1] - a[1] * b[0]), a[0] * b[0] + a[1] * b[1]) * 180) / Math.PI;

/** A 2-D gradient and its two clipped versions: clamping each component turns it, rescaling does not. */
export function computeClipping2d(p: PlaygroundParams): Clipping2dResult {
  const g = [p.vector.x, p.vector.y];
  const [vx, vy] = clipVector(g, 'value', p.threshold);
  const [nx, ny] = clipVector(g, 'norm', p.threshold);
  return {
    vector: p.vector,
    threshold: p.threshold,
    valueClipped: { x: vx, y: vy },
    normClipped: { x: nx, y: ny },
    valueAngle: angle([vx, vy], g),
    normAngle: angle([nx, ny], g),
  };
}
