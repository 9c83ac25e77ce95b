/**
 * Whether two byte ranges (of one buffer or two) hold the same bytes: `a[a0, a1)` against `b[b0, b1)`. The one
 * byte comparison of the readers that work on undecoded rows (the leaf writer's "same map as the row before", the
 * verify reader's attribute keys and stream names) and of the Merkle proofs' roots.
 */
export function sameRange(
  a: Uint8Array,
  a0: number,
  a1: number,
  b: Uint8Array,
  b0: number,
  b1: number,
): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  // A long range (a map's keys together) in one native compare; short ones in the loop, cheaper than a call.
  if (a1 - a0 > 64 && Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.compare(b, b0, b1, a0, a1) === 0;
  for (let i = 0; i < a1 - a0; i++) if (a[a0 + i] !== b[b0 + i]) return false;
  return true;
}

/** Whether two byte arrays are equal, length and content. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return sameRange(a, 0, a.length, b, 0, b.length);
}
