import { randomUUID } from 'node:crypto';

// Decisions come many to a millisecond under load: the time part of the id is formatted once per millisecond.
let prefixTime = -1;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so decision ids sort by creation time.
 * Built from `randomUUID()` (which draws from a cached entropy pool) by overwriting the time and version fields:
 * cheaper than a fresh `randomBytes` call on every decision.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now !== prefixTime) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixTime = now;
  }
  // randomUUID() already carries the RFC 4122 variant bits in position 19; only the version nibble changes.
  return prefix + randomUUID().slice(15);
}
