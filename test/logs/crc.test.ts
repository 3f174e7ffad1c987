import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunkCrc, crc32, crc32c, maskedCrc32c } from '../../src/logs/formats/crc';
import { concatBytes, frameRecord } from './tfevents-writer';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

describe('CRC-32C and CRC-32', () => {
  it('give the published check values of "123456789"', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  });

  it('the WebAssembly CRC-32C gives the check value, and the JavaScript one\'s masked CRC of every range', () => {
    const wasm = chunkCrc('wasm');
    const check = ascii('123456789');
    wasm.load(check);
    assert.equal(wasm.masked(0, check.length), maskedCrc32c(check));
    assert.equal(wasm.masked(3, 3), maskedCrc32c(check, 3, 3));
  });

  it('the WebAssembly CRC-32C agrees with the JavaScript one on any bytes and range, over chunks of any size loaded in turn (property)', () => {
    const wasm = chunkCrc('wasm');
    const js = chunkCrc('js');
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

  it('frames the same records with both CRCs: lengths, checksums, and where a cut, a bad header or a size limit stops them (property)', () => {
    const wasm = chunkCrc('wasm');
    const js = chunkCrc('js');
    const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }), damage, fc.nat(), fc.nat(50), (payloads, flips, cutAt, limit) => {
        const whole = concatBytes(payloads.map(frameRecord));
        for (const [at, flip] of flips) if (whole.length > 0) whole[at % whole.length] ^= flip;
        const chunk = whole.subarray(0, whole.length === 0 ? 0 : cutAt % (whole.length + 1));
        const start = payloads.length > 0 && chunk.length > 16 + payloads[0].length ? 16 + payloads[0].length : 0;
        wasm.load(chunk);
        js.load(chunk);
        const a = wasm.scanFrames(start, limit);
        const b = js.scanFrames(start, limit);
        assert.equal(a.count, b.count);
        assert.deepEqual([...a.frames.subarray(0, 2 * a.count)], [...b.frames.subarray(0, 2 * b.count)]);
        // Undamaged, whole and under the limit: every record, with its length, passing its checksum.
        const clean = concatBytes(payloads.map(frameRecord));
        wasm.load(clean);
        const all = wasm.scanFrames(0, 40);
        assert.deepEqual([...all.frames.subarray(0, 2 * all.count)], payloads.flatMap((p) => [p.length, 1]));
      }),
      { numRuns: 300 },
    );
  });
});
