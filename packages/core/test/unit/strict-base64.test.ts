import { describe, expect, it } from 'vitest';
import { strictBase64 } from '@decisiontrail/core/internal';
import { prng } from '../support/prng.ts';

describe('strictBase64', () => {
  it('decodes standard padded base64 of any length', () => {
    const random = prng(7);
    for (let length = 0; length < 70; length++) {
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
      expect(Buffer.from(strictBase64(bytes.toString('base64')) ?? [])).toEqual(bytes);
    }
  });

  it('refuses every text that is not exactly the standard encoding', () => {
    // Starts with "+/+/", the two characters base64url writes otherwise.
    const valid = Buffer.concat([Buffer.from([0xfb, 0xff, 0xbf]), Buffer.from('checkpoint leaves')]).toString(
      'base64',
    );
    expect(valid.startsWith('+/+/')).toBe(true);
    expect(strictBase64(valid)).toBeDefined();
    const refused = [
      valid.slice(0, -1), // unpadded
      `${valid}====`, // padding after padding
      `-_-_${valid.slice(4)}`, // base64url
      `${valid.slice(0, 4)} ${valid.slice(5)}`, // a space where a character was
      `${valid.slice(0, 4)}\n${valid.slice(5)}`,
      `${valid.slice(0, 4)}=${valid.slice(5)}`, // padding inside
      `${valid.slice(0, 4)}é${valid.slice(5)}`, // not ASCII
      'QQ==QQ==', // two encodings concatenated
      'QR==', // non-canonical trailing bits
      'Q===',
    ];
    for (const text of refused) expect(strictBase64(text), JSON.stringify(text)).toBeUndefined();
  });
});
