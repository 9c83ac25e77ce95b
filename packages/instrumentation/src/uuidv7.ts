import { randomFillSync } from 'node:crypto';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
// Random bytes drawn from the CSPRNG in blocks (as randomUUID() does), ten per id.
const POOL = Buffer.allocUnsafe(10 * 400);
let poolOffset = POOL.length;
// The id is written as ASCII into one buffer and read out as a single string: no intermediate strings per id.
const TEXT = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1');
let prefixTime = -1;
// The text read out per id: character codes, made a string by String.fromCharCode (no call into Node's binding,
// which between SDK calls costs more than the copy).
const CODES: number[] = new Array<number>(36).fill(0);

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, 74 random bits and the RFC variant, so decision ids
 * sort by creation time. Decisions come many to a millisecond under load: the time part is written once per
 * millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now !== prefixTime) {
    // 48 bits: the top 16 from a division, the low 32 exactly (Date.now() stays below 2^53).
    const high = Math.floor(now / 0x1_0000_0000);
    const low = now - high * 0x1_0000_0000;
    writeHex(high, 4, 0);
    writeHex(low >>> 16, 4, 4);
    writeHex(low & 0xffff, 4, 9);
    prefixTime = now;
  }
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  // rand_a: 12 bits after the version digit.
  TEXT[15] = HEX[POOL[r]! & 15]!;
  TEXT[16] = HEX[POOL[r + 1]! >> 4]!;
  TEXT[17] = HEX[POOL[r + 1]! & 15]!;
  // rand_b: 62 bits, the variant (binary 10) in the top two bits of digit 19.
  TEXT[19] = HEX[8 | (POOL[r + 2]! & 3)]!;
  TEXT[20] = HEX[POOL[r + 2]! >> 4]!;
  TEXT[21] = HEX[POOL[r + 3]! >> 4]!;
  TEXT[22] = HEX[POOL[r + 3]! & 15]!;
  for (let i = 0; i < 6; i++) {
    const byte = POOL[r + 4 + i]!;
    TEXT[24 + 2 * i] = HEX[byte >> 4]!;
    TEXT[25 + 2 * i] = HEX[byte & 15]!;
  }
  for (let i = 0; i < 36; i++) CODES[i] = TEXT[i]!;
  return String.fromCharCode.apply(null, CODES);
}

/** Writes `digits` lowercase hex digits of `value` into TEXT from `at`. */
function writeHex(value: number, digits: number, at: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    TEXT[at + i] = HEX[value & 15]!;
    value >>>= 4;
  }
}
