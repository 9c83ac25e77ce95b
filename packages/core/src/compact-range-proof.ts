import { HASH_SIZE, hashChildren, subtreeRoot } from './merkle-tree.ts';

/** Largest power of two strictly smaller than `n` (n ≥ 2): where RFC 9162 splits a tree. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The leaf ranges `[start, end)` of the subtrees in the compact range of a tree of `size` leaves. */
function rangeSpans(size: number): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(1, size))); bit >= 1; bit /= 2) {
    if (Math.floor(size / bit) % 2 === 1) {
      spans.push([start, start + bit]);
      start += bit;
    }
  }
  return spans;
}

/**
 * RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `rangeSize + leaves.length` leaves,
 * computed from what a checkpoint span holds instead of every earlier leaf: the compact range of the
 * tree at `rangeSize` (its subtree roots, largest first, as {@link CompactMerkleTree} keeps them) and
 * the leaf hashes `[rangeSize, rangeSize + leaves.length)`. `index` must be one of those leaves.
 *
 * Every node of the audit path either lies among the given leaves, is one of the range's subtrees
 * (the left siblings on the path to leaf `rangeSize`), or straddles `rangeSize` and is built from
 * both; so nothing before `rangeSize` is needed. The hashes are hints: the proof only holds if
 * {@link verifyInclusion} then reaches a signed root.
 */
export function inclusionProofFromRange(
  range: readonly Uint8Array[],
  rangeSize: number,
  leaves: readonly Uint8Array[],
  index: number,
): Uint8Array[] {
  const size = rangeSize + leaves.length;
  if (!Number.isSafeInteger(rangeSize) || rangeSize < 0) throw new RangeError('range size out of range');
  if (!Number.isInteger(index) || index < rangeSize || index >= size)
    throw new RangeError('leaf index is not among the given leaves');
  const spans = rangeSpans(rangeSize);
  if (spans.length !== range.length || range.some((hash) => hash.length !== HASH_SIZE))
    throw new RangeError(
      `a compact range of size ${rangeSize} has ${spans.length} hashes, not ${range.length}`,
    );
  const node = (start: number, end: number): Uint8Array => {
    if (start >= rangeSize) return subtreeRoot(leaves, start - rangeSize, end - rangeSize);
    if (end <= rangeSize) {
      const at = spans.findIndex(([from, to]) => from === start && to === end);
      // Unreachable for a well-formed tree (see above); kept as a guard rather than a wrong hash.
      if (at < 0) throw new RangeError(`node [${start}, ${end}) is not in the compact range`);
      return range[at] as Uint8Array;
    }
    const k = splitPoint(end - start);
    return hashChildren(node(start, start + k), node(start + k, end));
  };
  const path: Uint8Array[] = [];
  const walk = (start: number, end: number): void => {
    if (end - start <= 1) return;
    const k = splitPoint(end - start);
    if (index < start + k) {
      walk(start, start + k);
      path.push(node(start + k, end));
    } else {
      walk(start + k, end);
      path.push(node(start, start + k));
    }
  };
  walk(0, size);
  return path;
}
