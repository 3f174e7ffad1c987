import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatNumber, quantile, quantileSorted } from '../../src/diagnosis/stats';

describe('quantile', () => {
  const agrees = (xs: number[], q: number): void => {
    const want = quantileSorted(Float64Array.from(xs.filter(Number.isFinite)).sort(), q);
    const got = quantile(xs, q);
    assert.ok(want === got || (want !== null && got !== null && Math.abs(want - got) <= 1e-12 * Math.max(1, Math.abs(want))), `${want} vs ${got}`);
  };

  it('by selection, equals interpolation between the sorted values (numpy default), NaN and infinities left out', () => {
    fc.assert(fc.property(fc.array(fc.double()), fc.double({ min: 0, max: 1, noNaN: true }), agrees), { numRuns: 2000 });
  });

  it('handles runs of equal values (clipped norms, exact zeros)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }), fc.constantFrom(0, 0.25, 0.5, 0.95, 0.99, 1), agrees), { numRuns: 2000 });
  });

  it('is null when no value is finite', () => {
    assert.equal(quantile([NaN, Infinity], 0.5), null);
  });
});

describe('formatNumber (messages, hovers, reports and chart axes alike)', () => {
  it('writes three significant digits, thousands whole, and exponents without padding', () => {
    const written = [0, 1, 0.5, 12.345, 999.6, 1953, 99999.4, 123456, -0.0001234, 0.00015, 2e-7, NaN, Infinity, -Infinity, null].map(formatNumber);
    assert.deepEqual(written, ['0', '1', '0.5', '12.3', '1000', '1953', '99999', '1.23e5', '-1.23e-4', '1.5e-4', '2e-7', 'NaN', 'Inf', '-Inf', 'n/a']);
  });
});
