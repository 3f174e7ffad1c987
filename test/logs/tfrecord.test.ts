import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskedCrc32c } from '../../src/logs/formats/crc';
import { frameScanner, type FrameScanner, type RecordShapes } from '../../src/logs/formats/tfrecord';
import { concatBytes, DataType, encodeEvent, frameRecord, scalarEvent, type EventSpec } from './tfevents-writer';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** The scan's results: data length, checksum holds, shape, for each record passed. */
function scanned(scanner: FrameScanner, start: number, limit: number): number[][] {
  const count = scanner.scan(start, limit);
  return Array.from({ length: count }, (_, k) => [scanner.dataLength(k), scanner.checksumHolds(k) ? 1 : 0, scanner.shape(k)]);
}

/** Where an Event's bytes after wall_time and step start (its shape's key), as pbf reads the step. */
function afterStep(data: Uint8Array): number {
  if (data[9] !== 0x10) return 9;
  let at = 10;
  while (data[at++] & 0x80);
  return at;
}

/** Learns the shape of an encoded scalar event whose value is `width` bytes. */
function learn(shapes: RecordShapes, data: Uint8Array, width: 4 | 8, id: number): number {
  return shapes.learn(data, afterStep(data), data.length - width, width, id);
}

/** A TF2 scalar tensor of one double, its value the last 8 bytes of the record (no metadata after it). */
const doubleScalar = (step: number, tag: string, value: number): EventSpec => ({
  step,
  values: [{ tag, tensor: { dtype: DataType.DOUBLE, shape: [], doubleVal: [value] } }],
});

describe('TFRecord frame scanner', () => {
  const wasm = frameScanner('wasm');
  const js = frameScanner('js');

  it("the WebAssembly CRC-32C gives the check value, and the JavaScript one's masked CRC of every range", () => {
    const check = ascii('123456789');
    wasm.load(check);
    assert.equal(wasm.masked(0, check.length), maskedCrc32c(check));
    assert.equal(wasm.masked(3, 3), maskedCrc32c(check, 3, 3));
  });

  it('the WebAssembly CRC-32C agrees with the JavaScript one on any bytes and range, over chunks of any size loaded in turn (property)', () => {
    // Chunks up to 200 KB, so the module's memory has to grow while chunks come and go.
    const chunk = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 200_000 }).map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24)));
    fc.assert(
      fc.property(fc.array(fc.tuple(chunk, fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }), (loads) => {
        for (const [bytes, a, b] of loads) {
          wasm.load(bytes);
          js.load(bytes);
          const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
          assert.equal(wasm.masked(start, end), js.masked(start, end), `bytes [${start}, ${end}) of ${bytes.length}`);
          assert.equal(js.masked(start, end), maskedCrc32c(bytes, start, end));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('frames the same records with both scanners: lengths, checksums, and where a cut, a bad header or a size limit stops them (property)', () => {
    const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }), damage, fc.nat(), fc.nat(50), (payloads, flips, cutAt, limit) => {
        const whole = concatBytes(payloads.map(frameRecord));
        for (const [at, flip] of flips) if (whole.length > 0) whole[at % whole.length] ^= flip;
        const chunk = whole.subarray(0, whole.length === 0 ? 0 : cutAt % (whole.length + 1));
        const start = payloads.length > 0 && chunk.length > 16 + payloads[0].length ? 16 + payloads[0].length : 0;
        wasm.load(chunk);
        js.load(chunk);
        assert.deepEqual(scanned(wasm, start, limit), scanned(js, start, limit));
        // Undamaged, whole and under the limit: every record, with its length, passing its checksum, of no shape.
        wasm.load(concatBytes(payloads.map(frameRecord)));
        assert.deepEqual(scanned(wasm, 0, 40), payloads.map((p) => [p.length, 1, -1]));
      }),
      { numRuns: 300 },
    );
  });

  describe('scalar shapes', () => {
    it("matches a learnt shape in the tag's later records, whatever their step, value and wall time, and no other tag's", () => {
      const shapes = wasm.newShapes();
      assert.ok(shapes);
      const first = encodeEvent(scalarEvent(3, 'grad_norm/lstm.weight_hh_l0', 0.5));
      assert.equal(learn(shapes, first, 4, 0), 0);
      const double = encodeEvent(doubleScalar(3, 'loss', 2.5));
      assert.equal(learn(shapes, double, 8, 1), 1);
      const events: [EventSpec, number][] = [
        [scalarEvent(4, 'grad_norm/lstm.weight_hh_l0', 1e30), 0],
        [{ ...scalarEvent(2 ** 40, 'grad_norm/lstm.weight_hh_l0', NaN), wallTime: 1.5e9 }, 0],
        // proto3 leaves step 0 out: the key still follows wall_time.
        [scalarEvent(0, 'grad_norm/lstm.weight_hh_l0', 7), 0],
        [doubleScalar(9, 'loss', -1), 1],
        [scalarEvent(5, 'grad_norm/lstm.weight_hh_l1', 0.5), -1],
        // The same tag with its value as a double is another shape.
        [doubleScalar(5, 'grad_norm/lstm.weight_hh_l0', 0.5), -1],
        [{ ...scalarEvent(5, 'grad_norm/lstm.weight_hh_l0', 0.5), wallTime: null }, -1],
      ];
      const chunk = concatBytes(events.map(([event]) => frameRecord(encodeEvent(event))));
      const expected = events.map(([event, shape]) => [encodeEvent(event).length, 1, shape]);
      wasm.load(chunk, shapes);
      // Loaded with shapes, a pass ends after the first sound record of none.
      assert.deepEqual(scanned(wasm, 0, 1 << 20), expected.slice(0, 5));
      assert.equal(wasm.stoppedToLearn, true);
      const at = expected.slice(0, 5).reduce((sum, [length]) => sum + length + 16, 0);
      assert.deepEqual(scanned(wasm, at, 1 << 20), expected.slice(5, 6));
      // Without shapes, no record is matched and the pass runs to the end.
      wasm.load(chunk);
      assert.deepEqual(
        scanned(wasm, 0, 1 << 20),
        expected.map(([length]) => [length, 1, -1]),
      );
      assert.equal(wasm.stoppedToLearn, false);
    });

    it('a shape learnt again keeps its first id; a record failing its checksum is passed over unmatched', () => {
      const shapes = wasm.newShapes();
      assert.ok(shapes);
      const data = encodeEvent(scalarEvent(1, 'loss', 1));
      assert.equal(learn(shapes, data, 4, 0), 0);
      assert.equal(learn(shapes, encodeEvent(scalarEvent(8, 'loss', 3)), 4, 1), 0);
      const damaged = frameRecord(encodeEvent(scalarEvent(2, 'loss', 1)));
      damaged[damaged.length - 1] ^= 1;
      wasm.load(concatBytes([damaged, frameRecord(encodeEvent(scalarEvent(3, 'loss', 1)))]), shapes);
      assert.deepEqual(scanned(wasm, 0, 1 << 20), [
        [data.length, 0, -1],
        [data.length, 1, 0],
      ]);
    });

    it("keeps each file's shapes apart on the one shared module, and gives each back when its chunk is loaded again", () => {
      const a = wasm.newShapes();
      const b = wasm.newShapes();
      assert.ok(a && b);
      const loss = encodeEvent(scalarEvent(1, 'loss', 1));
      const norm = encodeEvent(scalarEvent(1, 'grad_norm', 1));
      assert.equal(learn(a, loss, 4, 0), 0);
      assert.equal(learn(b, norm, 4, 0), 0);
      const chunk = concatBytes([scalarEvent(2, 'loss', 2), scalarEvent(2, 'grad_norm', 2)].map((event) => frameRecord(encodeEvent(event))));
      wasm.load(chunk, a);
      assert.deepEqual(scanned(wasm, 0, 1 << 20), [[loss.length, 1, 0], [norm.length, 1, -1]]);
      wasm.load(chunk, b);
      assert.deepEqual(scanned(wasm, 0, 1 << 20), [[loss.length, 1, -1]]);
      assert.deepEqual(scanned(wasm, loss.length + 16, 1 << 20), [[norm.length, 1, 0]]);
      // b learns a second shape while it owns the module; a's come back untouched.
      assert.equal(learn(b, loss, 4, 1), 1);
      wasm.load(chunk, a);
      assert.deepEqual(scanned(wasm, 0, 1 << 20), [[loss.length, 1, 0], [norm.length, 1, -1]]);
      wasm.load(chunk, b);
      assert.deepEqual(scanned(wasm, 0, 1 << 20), [[loss.length, 1, 1], [norm.length, 1, 0]]);
    });

    it('learns at most 256 shapes of a file; those it learnt match, those it had no room for do not', () => {
      const shapes = wasm.newShapes();
      assert.ok(shapes);
      const events = Array.from({ length: 300 }, (_, i) => encodeEvent(scalarEvent(1, `grad_norm/layer_${i}.weight`, 1)));
      const ids = events.map((data, i) => learn(shapes, data, 4, i));
      const learnt = ids.filter((id) => id >= 0);
      assert.ok(learnt.length <= 256 && learnt.length >= 240, `${learnt.length} learnt`);
      assert.ok(ids.every((id, i) => id === i || id === -1));
      // Every one of them, each scanned on its own (a pass ends at the first unmatched).
      const matched = events.map((data) => {
        wasm.load(frameRecord(data), shapes);
        return scanned(wasm, 0, 1 << 20)[0][2];
      });
      assert.deepEqual(matched, ids);
    });

    it('the JavaScript scanner matches no shapes', () => {
      assert.equal(js.newShapes(), null);
      js.load(frameRecord(encodeEvent(scalarEvent(1, 'loss', 1))));
      assert.deepEqual(scanned(js, 0, 1 << 20).map(([, , shape]) => shape), [-1]);
    });
  });
});
