import { HASH_SIZE, hashChildren, subtreeRoot } from './merkle-tree.ts';
import { strictBase64 } from './signed-note.ts';

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
 * The hash of node `[start, end)` of the tree of `rangeSize + leaves.length` leaves, from the compact range at
 * `rangeSize` and the leaves after it: a node before `rangeSize` must be one of the range's subtrees.
 */
function rangeNodes(
  range: readonly Uint8Array[],
  rangeSize: number,
  leaves: readonly Uint8Array[],
): (start: number, end: number) => Uint8Array {
  const spans = rangeSpans(rangeSize);
  if (spans.length !== range.length || range.some((hash) => hash.length !== HASH_SIZE))
    throw new RangeError(
      `a compact range of size ${rangeSize} has ${spans.length} hashes, not ${range.length}`,
    );
  const node = (start: number, end: number): Uint8Array => {
    if (start >= rangeSize) return subtreeRoot(leaves, start - rangeSize, end - rangeSize);
    if (end <= rangeSize) {
      const at = spans.findIndex(([from, to]) => from === start && to === end);
      // Unreachable for a well-formed tree (see the callers); kept as a guard rather than a wrong hash.
      if (at < 0) throw new RangeError(`node [${start}, ${end}) is not in the compact range`);
      return range[at] as Uint8Array;
    }
    const k = splitPoint(end - start);
    return hashChildren(node(start, start + k), node(start + k, end));
  };
  return node;
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
  const node = rangeNodes(range, rangeSize, leaves);
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

/**
 * RFC 9162 §2.1.4.1 consistency proof from the tree of `rangeSize` leaves to the tree of
 * `rangeSize + leaves.length`, from what a witness submitter holds instead of every earlier leaf: the compact
 * range at `rangeSize` and the leaves after it. Every node of such a proof lies either wholly after
 * `rangeSize` (built from the leaves) or is one of the range's subtrees (the left siblings on the path to
 * leaf `rangeSize`), so nothing before `rangeSize` is needed. As with inclusion, the hashes are hints: the
 * proof holds only if `verifyConsistency` reaches both signed roots.
 */
export function consistencyProofFromRange(
  range: readonly Uint8Array[],
  rangeSize: number,
  leaves: readonly Uint8Array[],
): Uint8Array[] {
  if (!Number.isSafeInteger(rangeSize) || rangeSize < 0) throw new RangeError('range size out of range');
  const node = rangeNodes(range, rangeSize, leaves);
  const size = rangeSize + leaves.length;
  if (rangeSize === 0 || leaves.length === 0) return [];
  const proof: Uint8Array[] = [];
  // RFC 9162 SUBPROOF(m, D[start:end], complete), with m relative to `start`.
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    if (m === end - start) {
      if (!complete) proof.push(node(start, end));
      return;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      sub(m, start, start + k, complete);
      proof.push(node(start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(node(start, start + k));
    }
  };
  sub(rangeSize, 0, size, true);
  return proof;
}

/** Base64 of concatenated 32-byte hashes (a checkpoint span's leaves or compact range) as hashes; undefined if malformed. */
export function parseHashList(text: string): Uint8Array[] | undefined {
  const bytes = strictBase64(text);
  if (bytes === undefined || bytes.length % HASH_SIZE !== 0) return undefined;
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += HASH_SIZE)
    out.push(bytes.subarray(offset, offset + HASH_SIZE));
  return out;
}

/** What a stored checkpoint span holds for proofs: its size, the leaves it adds and the compact range before them. */
export interface CheckpointLeaves {
  treeSize: number;
  /** Base64 of the leaf hashes this checkpoint adds (`audit.checkpoint.leaves`). */
  leaves: string;
  /** Base64 of the compact range at `treeSize` minus those leaves (`audit.checkpoint.range`; '' at size 0). */
  range: string;
}

/**
 * The RFC 9162 consistency proof from `oldSize` to `newSize` out of a stream's stored checkpoint spans with sizes in
 * `(oldSize, newSize]`, smallest first: the first must begin exactly at `oldSize` (its range is the compact range
 * there) and each must add the leaves up to its size from where the previous one ended. Undefined when the chain
 * has a gap, a malformed list or no range: then these checkpoints cannot prove that step. Like every proof built
 * here it is a hint, holding only if `verifyConsistency` reaches both signed roots.
 */
export function consistencyProofFromCheckpoints(
  links: readonly CheckpointLeaves[],
  oldSize: number,
  newSize: number,
): Uint8Array[] | undefined {
  if (oldSize === 0 || oldSize === newSize) return [];
  const first = links[0];
  const range = first === undefined || first.range === '' ? undefined : parseHashList(first.range);
  if (range === undefined) return undefined;
  const leaves: Uint8Array[] = [];
  let size = oldSize;
  for (const link of links) {
    const added = parseHashList(link.leaves);
    if (added === undefined || link.treeSize - added.length !== size) return undefined;
    leaves.push(...added);
    size = link.treeSize;
  }
  if (size !== newSize) return undefined;
  try {
    return consistencyProofFromRange(range, oldSize, leaves);
  } catch {
    return undefined;
  }
}
