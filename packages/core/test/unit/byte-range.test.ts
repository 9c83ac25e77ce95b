import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sameRange } from '@decisiontrail/core/internal';

describe('sameRange', () => {
  it('compares short and long ranges of one buffer and of two, Buffer or plain Uint8Array', () => {
    for (const length of [0, 1, 7, 64, 65, 300]) {
      const bytes = randomBytes(length);
      const inOne = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('y'), bytes]);
      const plain = new Uint8Array(Buffer.concat([Buffer.from('z'), bytes]));
      expect(sameRange(inOne, 2, 2 + length, inOne, 3 + length, 3 + 2 * length)).toBe(true);
      expect(sameRange(inOne, 2, 2 + length, plain, 1, 1 + length)).toBe(true);
      expect(sameRange(plain, 1, 1 + length, bytes, 0, length)).toBe(true);
      if (length === 0) continue;
      // One byte changed — first, middle, last — in the Buffer path and in the loop path.
      for (const at of [0, length >> 1, length - 1]) {
        const changed = Buffer.from(bytes);
        changed[at] = changed[at]! ^ 0x01;
        expect(sameRange(inOne, 2, 2 + length, changed, 0, length)).toBe(false);
        expect(sameRange(new Uint8Array(changed), 0, length, plain, 1, 1 + length)).toBe(false);
      }
    }
  });

  it('ranges of different lengths differ, even when one is a prefix of the other', () => {
    const bytes = Buffer.from('audit.integrity.stream');
    expect(sameRange(bytes, 0, bytes.length, bytes, 0, bytes.length - 1)).toBe(false);
    expect(sameRange(bytes, 0, 5, bytes, 0, 6)).toBe(false);
    expect(sameRange(bytes, 0, 0, bytes, 3, 3)).toBe(true);
  });
});
