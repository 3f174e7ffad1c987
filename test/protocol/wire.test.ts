import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dashboardToHostSchema, hostToDashboardSchema, runPayloadSchema } from '../../src/protocol/dashboard';
import { decodeWire, encodeWire } from '../../src/protocol/wire';
import { diagnose } from '../../src/diagnosis/diagnose';
import { openRuns } from '../../src/logs/open';
import { toRunPayload } from '../../src/report/payload';

const sameBits = (a: Float64Array, b: Float64Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('wire format', () => {
  it('carries any Float64Array bit for bit, NaN and infinities included', () => {
    fc.assert(
      fc.property(fc.float64Array({ maxLength: 200 }), (values) => {
        const decoded = decodeWire(encodeWire({ values })) as { values: Float64Array };
        return decoded.values instanceof Float64Array && sameBits(decoded.values, values);
      }),
    );
  });

  it('keeps lone non-finite numbers, which JSON would turn into null', () => {
    assert.deepEqual(decodeWire(encodeWire({ a: NaN, b: [Infinity, -Infinity, 1.5], c: null })), { a: NaN, b: [Infinity, -Infinity, 1.5], c: null });
  });

  it('sends an array that occurs twice in a message once, and decodes both places', () => {
    const steps = Float64Array.from([0, 1, 2]);
    const text = encodeWire({ a: { steps, values: Float64Array.from([1, NaN, 3]) }, b: { steps, values: Float64Array.from([4, 5, Infinity]) } });
    assert.equal(text.match(/\$f64"/g)?.length, 3, 'three distinct arrays sent');
    const decoded = decodeWire(text) as { a: { steps: Float64Array }; b: { steps: Float64Array; values: Float64Array } };
    assert.deepEqual(Array.from(decoded.b.steps), [0, 1, 2]);
    assert.ok(sameBits(decoded.a.steps, decoded.b.steps));
    assert.deepEqual(Array.from(decoded.b.values), [4, 5, Infinity]);
    assert.deepEqual(decodeWire('{"x":{"$f64ref":7}}'), { x: null }, 'a reference to nothing is null');
  });

  it('returns undefined for text that is not JSON, and null for a damaged array', () => {
    assert.equal(decodeWire('{"type":'), undefined);
    assert.deepEqual(decodeWire('{"v":{"$f64":"AAAA"}}'), { v: null }); // 3 bytes: not whole doubles
  });

  it('round-trips a real run: the payload parses back to the same series and diagnosis', async () => {
    const [run] = await openRuns('test/fixtures/real/torch_lstm_sgd_noclip/grads.jsonl');
    const payload = toRunPayload(run, diagnose(run));
    const parsed = runPayloadSchema.parse(decodeWire(encodeWire(payload)));
    assert.ok(parsed, 'the payload parses');
    assert.equal(parsed.status, 'exploding');
    assert.deepEqual(parsed.diagnosis, payload.diagnosis);
    assert.equal(parsed.series.length, run.series.length);
    parsed.series.forEach((s, i) => assert.ok(sameBits(s.values, run.series[i].values) && sameBits(s.steps, run.series[i].steps), s.tag));
  });
});

describe('message schemas', () => {
  it('drop unknown message types and malformed fields', () => {
    assert.equal(dashboardToHostSchema.parse({ type: 'rm -rf' }), undefined);
    assert.equal(dashboardToHostSchema.parse({ type: 'openHint', key: 'k', hintId: 'lower-lr' }), undefined, 'step missing');
    assert.equal(dashboardToHostSchema.parse({ type: 'openHint', key: 'k', hintId: 'lower-lr', step: NaN }), undefined, 'a step must be finite');
    assert.equal(hostToDashboardSchema.parse({ type: 'show', runs: [{ key: 'k' }] }), undefined);
    assert.equal(hostToDashboardSchema.parse(null), undefined);
    assert.equal(hostToDashboardSchema.parse('show'), undefined);
  });

  it('keep the declared fields and drop extra ones', () => {
    assert.deepEqual(dashboardToHostSchema.parse({ type: 'openLog', key: 'a.jsonl', step: 3, extra: '<script>' }), { type: 'openLog', key: 'a.jsonl', step: 3 });
    assert.deepEqual(dashboardToHostSchema.parse({ type: 'ready' }), { type: 'ready' });
  });

  it('never throw, whatever arrives', () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true, withNullPrototype: true }), (value) => {
        hostToDashboardSchema.parse(value);
        dashboardToHostSchema.parse(value);
        return true;
      }),
    );
  });
});
