import assert from 'node:assert/strict';
import { crc32, crc32c } from '../../src/logs/formats/crc';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

describe('CRC-32C and CRC-32', () => {
  it('give the published check values of "123456789"', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  });
});
