import assert from 'node:assert/strict';
import { computeClipping2d } from '../../src/playground/clipping2d';
import { DEFAULT_PLAYGROUND_PARAMS } from '../../src/protocol/playground';

const example = (x: number, y: number, threshold: number) => computeClipping2d({ ...DEFAULT_PLAYGROUND_PARAMS, vector: { x, y }, threshold });
const degrees = (radians: number): number => (radians * 180) / Math.PI;

describe('playground: clipping a 2-D gradient', () => {
  it('value clipping of a vector with unequal components turns it; norm clipping only shortens it', () => {
    const r = example(3, 1, 1);
    assert.deepEqual(r.valueClipped, { x: 1, y: 1 });
    assert.ok(Math.abs(r.valueAngle - degrees(Math.atan2(1, 1) - Math.atan2(1, 3))) < 1e-9, `value angle ${r.valueAngle}`);
    assert.ok(r.normAngle < 1e-9, `norm angle ${r.normAngle}`);
    assert.ok(Math.abs(Math.hypot(r.normClipped.x, r.normClipped.y) - 1) < 1e-6);
  });

  it('turns the direction by more when the components differ more', () => {
    assert.ok(example(4, 0.5, 0.5).valueAngle > example(4, 2, 0.5).valueAngle);
    assert.ok(example(-3, 1, 1).valueAngle > 20, 'in any quadrant');
  });

  it('leaves the direction of a vector with equal components, and any vector inside the threshold, unchanged', () => {
    assert.equal(example(2, 2, 1).valueAngle, 0);
    const inside = example(0.5, -0.25, 1);
    assert.deepEqual([inside.valueClipped, inside.normClipped], [{ x: 0.5, y: -0.25 }, { x: 0.5, y: -0.25 }]);
    assert.equal(inside.valueAngle, 0);
  });
});
