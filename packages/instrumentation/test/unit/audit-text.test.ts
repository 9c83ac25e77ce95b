import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditText, auditTextBytes, HmacHasher } from '@decisiontrail/instrumentation/internal';

/** xorshift32 from a fixed seed: the same values on every run. */
function randomSource(seed: number) {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return { next, int: (below: number) => Math.floor(next() * below) };
}

// Characters JSON escapes or encodes in more than one byte, next to plain ASCII.
const ALPHABET = [
  'a',
  'Z',
  ' ',
  '0',
  '~',
  '\u007f',
  '"',
  '\\',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  'é',
  'ß',
  '€',
  '中',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\u2028',
];

function randomString(random: ReturnType<typeof randomSource>): string {
  const length = random.next() < 0.3 ? 40 + random.int(300) : random.int(12);
  const plain = random.next() < 0.5;
  let text = '';
  for (let index = 0; index < length; index++) {
    text += plain && random.next() < 0.97 ? 'abc xyz.'[random.int(8)] : ALPHABET[random.int(ALPHABET.length)];
  }
  return text;
}

class Message {
  readonly role: string;
  constructor(role: string) {
    this.role = role;
  }
}

function randomValue(random: ReturnType<typeof randomSource>, depth: number): unknown {
  const kind = random.int(depth > 3 ? 8 : 16);
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return randomString(random);
    case 3:
      return [0, -0, 1.5, -2e-7, 1e21, 123456789, Number.NaN, Number.POSITIVE_INFINITY][random.int(8)];
    case 4:
      return random.next() < 0.5;
    case 5:
      return null;
    case 6:
      return [undefined, () => 1, Symbol('s')][random.int(3)];
    case 7:
      return [new Date(0), new Message('user'), { toJSON: () => 'replaced' }, Object.create(null)][
        random.int(4)
      ];
    case 8:
    case 9:
    case 10: {
      const items: unknown[] = [];
      const count = random.int(5);
      for (let index = 0; index < count; index++) items.push(randomValue(random, depth + 1));
      if (random.next() < 0.05) items.length += 2; // holes
      return items;
    }
    default: {
      const object: Record<string, unknown> = {};
      const count = random.int(5);
      for (let index = 0; index < count; index++) {
        const key = random.next() < 0.2 ? String(random.int(20)) : randomString(random);
        object[key] = randomValue(random, depth + 1);
      }
      return object;
    }
  }
}

const same = (value: unknown) =>
  expect(Buffer.from(auditTextBytes(value)).equals(Buffer.from(auditText(value), 'utf8'))).toBe(true);

describe('auditTextBytes', () => {
  it('is the UTF-8 of auditText over 5,000 random values', () => {
    const random = randomSource(0xa11ce5);
    for (let index = 0; index < 5_000; index++) {
      const value = randomValue(random, 0);
      same(value);
      // Chat messages, the shape it writes itself.
      same([
        { role: 'user', content: randomString(random) },
        { role: 'assistant', content: randomString(random) },
      ]);
    }
  });

  it('agrees on deep nesting, large values and what JSON leaves out', () => {
    let deep: unknown = 'leaf';
    for (let depth = 0; depth < 60; depth++) deep = [{ content: deep }];
    same(deep);
    same([{ role: 'user', content: 'x'.repeat(3_000_000) }]);
    same('plain text, hashed as it is');
    same(undefined);
    same(() => 1);
    same({ a: undefined, b: () => 1, c: 'kept' });
    same([1, , 3]); // eslint-disable-line no-sparse-arrays
    same({ 2: 'two', 1: 'one', b: 'b', a: 'a' });
    same([
      { role: 'user', content: 'lone \ud800 surrogate, and a long enough string to take the encoder path' },
    ]);
  });

  it('finds every character JSON escapes at every offset of a long ASCII string', () => {
    for (const special of ['"', '\\', '\u0000', '\n', '\u001f', '\u007f', 'é', '\ud800']) {
      for (let at = 0; at < 70; at++) {
        same([{ content: `${'a'.repeat(at)}${special}${'b'.repeat(70 - at)}` }]);
        same({ [`k${'x'.repeat(at % 7)}`]: `${'a'.repeat(at)}${special}${'b'.repeat(70 - at)}` });
      }
    }
  });

  it('throws what JSON.stringify throws', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = [cycle];
    expect(() => auditTextBytes([cycle])).toThrow(TypeError);
    expect(() => auditTextBytes({ amount: 10n })).toThrow(TypeError);
  });

  it('hashes to the digest of the text', () => {
    const hasher = new HmacHasher(Buffer.from('unit-key'));
    const messages = [{ role: 'user', content: 'Is this claim covered? "yes" \\ no — €' }];
    const expected = createHmac('sha256', 'unit-key').update(JSON.stringify(messages), 'utf8').digest('hex');
    expect(hasher.digest(auditTextBytes(messages))).toBe(expected);
    expect(hasher.digest(JSON.stringify(messages))).toBe(expected);
  });
});
