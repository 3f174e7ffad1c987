import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunkCrc, crc32, crc32c, maskedCrc32c } from '../../src/logs/formats/crc';

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
});
