import { finding, toRanges, type Finding } from './findings.ts';
import { CompactMerkleTree } from './merkle-tree.ts';
import {
  isCheckpointRecord,
  leafEntry,
  seqOf,
  streamOf,
  validateCheckpointNote,
  validateCheckpointRecord,
  type LeafEntry,
  type ValidCheckpoint,
} from './record-classifier.ts';
import type { SpanRecord } from './span-record.ts';
import { resolveTrustedKeys, type TrustedKey } from './trusted-keys.ts';
import type { NoteVerifierKey } from './signed-note.ts';

/** Options of {@link verifySpans}. */
export interface VerifySpansOptions {
  /** Keys whose checkpoints are trusted (all keys a stream ever used, including rotated ones). */
  publicKeys: readonly TrustedKey[];
  /** Signed checkpoint notes kept outside the store (e.g. from a witness file). */
  witnessCheckpoints?: readonly string[];
}

/** The verification result of one stream. */
export interface StreamReport {
  stream: string;
  /** Leaf spans seen (duplicates included). */
  spanCount: number;
  /** Checkpoint spans seen. */
  checkpointCount: number;
  /** Largest tree size of any valid checkpoint (store or witness). */
  sealedSize: number;
  /** Leaves `[0, verifiedSize)` are authenticated by a valid signed checkpoint. */
  verifiedSize: number;
  /** Sequence numbers whose stored span matches its committed leaf, as half-open ranges. */
  verifiedRanges: [number, number][];
  findings: Finding[];
}

/** The result of {@link verifySpans}. */
export interface VerificationReport {
  /** True when no stream has a finding other than an unsealed tail. */
  ok: boolean;
  streams: StreamReport[];
  /** Spans without `audit.integrity.stream` (not signed; not verifiable). */
  unattributedSpans: number;
  /** Findings about witness checkpoints that belong to no stream (e.g. invalid notes). */
  witnessFindings: Finding[];
}

/** Per-stream inputs. */
interface StreamInput {
  leaves: LeafEntry[];
  checkpointRecords: SpanRecord[];
  witness: ValidCheckpoint[];
  malformed: Finding[];
}

/** The authenticated prefix of a stream, shared by the verifier and the proof bundle. */
export interface AuthenticatedStream {
  /** Authentic hex leaves `[0, verifiedSize)`. */
  authentic: string[];
  /** Valid checkpoints (store and witness), ascending by size. */
  checkpoints: ValidCheckpoint[];
  /** Valid checkpoints found in the store. */
  storeCheckpoints: ValidCheckpoint[];
  /** Leaf records by sequence number. */
  bySeq: Map<number, LeafEntry[]>;
  sealedSize: number;
  findings: Finding[];
  /** Why authentication stopped before `sealedSize`, if it did. */
  stopped?: 'unknown-leaves' | 'root-mismatch';
}

/**
 * Verifies stored spans (and checkpoint spans) against trusted keys and, optionally, witness
 * checkpoints; reports per stream what is verified and every finding.
 */
export function verifySpans(records: readonly SpanRecord[], options: VerifySpansOptions): VerificationReport {
  const keys = resolveTrustedKeys(options.publicKeys);
  const inputs = new Map<string, StreamInput>();
  const input = (stream: string): StreamInput => {
    let entry = inputs.get(stream);
    if (!entry)
      inputs.set(stream, (entry = { leaves: [], checkpointRecords: [], witness: [], malformed: [] }));
    return entry;
  };
  let unattributedSpans = 0;
  for (const record of records) {
    const stream = streamOf(record);
    if (stream === undefined) {
      unattributedSpans += 1;
      continue;
    }
    if (isCheckpointRecord(record)) {
      input(stream).checkpointRecords.push(record);
      continue;
    }
    const seq = seqOf(record);
    if (seq === undefined) {
      input(stream).malformed.push(
        finding('unexpected', 'span has an integrity stream but no valid sequence number', {
          spanId: record.spanId,
        }),
      );
      continue;
    }
    input(stream).leaves.push(leafEntry(record, stream, seq));
  }
  const witnessFindings: Finding[] = [];
  for (const note of options.witnessCheckpoints ?? []) {
    const result = validateCheckpointNote(note, keys, {});
    if ('code' in result) witnessFindings.push({ ...result, message: `witness: ${result.message}` });
    else input(result.stream).witness.push(result);
  }
  const streams = [...inputs.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stream, streamInput]) => verifyStream(stream, streamInput, keys));
  const ok =
    witnessFindings.length === 0 && streams.every((s) => s.findings.every((f) => f.code === 'unsealed-tail'));
  return { ok, streams, unattributedSpans, witnessFindings };
}

/** Authenticates the longest prefix of a stream that its valid checkpoints allow. */
export function authenticateStream(
  stream: string,
  leaves: readonly LeafEntry[],
  checkpointRecords: readonly SpanRecord[],
  witness: readonly ValidCheckpoint[],
  keys: readonly NoteVerifierKey[],
): AuthenticatedStream {
  const findings: Finding[] = [];
  const storeCheckpoints: ValidCheckpoint[] = [];
  for (const record of checkpointRecords) {
    const result = validateCheckpointRecord(record, stream, keys);
    if ('code' in result) findings.push(result);
    else storeCheckpoints.push(result);
  }
  const checkpoints = [...storeCheckpoints, ...witness].sort((a, b) => a.size - b.size);
  const rootsBySize = new Map<number, Set<string>>();
  for (const checkpoint of checkpoints) {
    const roots = rootsBySize.get(checkpoint.size) ?? new Set<string>();
    roots.add(checkpoint.rootHex);
    rootsBySize.set(checkpoint.size, roots);
  }
  for (const [size, roots] of rootsBySize) {
    if (roots.size > 1) {
      findings.push(
        finding('checkpoint-inconsistent', `${roots.size} different signed roots for tree size ${size}`, {
          size,
        }),
      );
    }
  }
  const claimed = new Map<number, string>();
  for (const checkpoint of storeCheckpoints) {
    const list = checkpoint.leaves ?? [];
    list.forEach((leaf, i) => {
      const seq = checkpoint.size - list.length + i;
      if (!claimed.has(seq)) claimed.set(seq, leaf);
    });
  }
  const bySeq = new Map<number, LeafEntry[]>();
  for (const entry of leaves) {
    const list = bySeq.get(entry.seq) ?? [];
    list.push(entry);
    bySeq.set(entry.seq, list);
  }
  const recordLeaf = (seq: number): string | undefined => {
    const distinct = new Set((bySeq.get(seq) ?? []).map((entry) => entry.leaf));
    return distinct.size === 1 ? (distinct.values().next().value as string) : undefined;
  };

  const authentic: string[] = [];
  let tree = new CompactMerkleTree();
  const sizes = [...rootsBySize.keys()].filter((size) => size > 0).sort((a, b) => a - b);
  const sealedSize = sizes[sizes.length - 1] ?? 0;
  let stopped: AuthenticatedStream['stopped'];
  for (const size of sizes) {
    const from = authentic.length;
    const preferClaimed: (string | undefined)[] = [];
    const fromRecords: (string | undefined)[] = [];
    for (let seq = from; seq < size; seq++) {
      fromRecords.push(recordLeaf(seq));
      preferClaimed.push(claimed.get(seq) ?? recordLeaf(seq));
    }
    const roots = rootsBySize.get(size) as Set<string>;
    const attempt = (candidate: (string | undefined)[]): CompactMerkleTree | undefined => {
      if (candidate.some((leaf) => leaf === undefined)) return undefined;
      const trial = new CompactMerkleTree(tree.toJSON());
      for (const leaf of candidate) trial.append(Buffer.from(leaf as string, 'hex'));
      return roots.has(Buffer.from(trial.root()).toString('hex')) ? trial : undefined;
    };
    let accepted = attempt(preferClaimed);
    let leavesUsed = preferClaimed;
    if (!accepted && fromRecords.some((leaf, i) => leaf !== preferClaimed[i])) {
      accepted = attempt(fromRecords);
      leavesUsed = fromRecords;
      if (accepted) {
        findings.push(
          finding(
            'checkpoint-invalid',
            `a checkpoint's leaf list for [${from}, ${size}) does not match its signed root`,
            {
              size,
            },
          ),
        );
      }
    }
    if (!accepted) {
      if (preferClaimed.some((leaf) => leaf === undefined)) {
        stopped = 'unknown-leaves';
      } else {
        stopped = 'root-mismatch';
        findings.push(
          finding(
            'checkpoint-root-mismatch',
            `stored leaves [${from}, ${size}) do not reproduce the signed root of tree size ${size}`,
            { ranges: [[from, size]], size },
          ),
        );
      }
      break;
    }
    tree = accepted;
    for (const leaf of leavesUsed) authentic.push(leaf as string);
  }
  return {
    authentic,
    checkpoints,
    storeCheckpoints,
    bySeq,
    sealedSize,
    findings,
    ...(stopped !== undefined && { stopped }),
  };
}

function verifyStream(stream: string, input: StreamInput, keys: readonly NoteVerifierKey[]): StreamReport {
  const auth = authenticateStream(stream, input.leaves, input.checkpointRecords, input.witness, keys);
  const findings: Finding[] = [...input.malformed, ...auth.findings];
  const { authentic, bySeq, sealedSize } = auth;
  const verifiedSize = authentic.length;
  const committedAt = new Map<string, number>();
  authentic.forEach((leaf, seq) => committedAt.set(leaf, seq));

  const matched = new Set<number>();
  const accounted = new Set<number>();
  for (const [seq, entries] of bySeq) {
    if (seq < verifiedSize && entries.some((entry) => entry.leaf === authentic[seq])) matched.add(seq);
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  for (const seq of seqs) {
    if (seq >= verifiedSize) continue;
    const mismatched: LeafEntry[] = [];
    for (const entry of bySeq.get(seq) as LeafEntry[]) {
      if (entry.leaf === authentic[seq]) continue;
      const committedSeq = committedAt.get(entry.leaf);
      if (committedSeq !== undefined) {
        accounted.add(committedSeq);
        findings.push(
          finding(
            'reordered',
            `span ${entry.spanId} claims seq ${seq} but is committed at seq ${committedSeq}`,
            {
              spanId: entry.spanId,
              seq,
              committedSeq,
            },
          ),
        );
      } else {
        mismatched.push(entry);
      }
    }
    if (mismatched.length === 1 && !matched.has(seq)) {
      const [entry] = mismatched as [LeafEntry];
      accounted.add(seq);
      findings.push(
        finding(
          'modified',
          `span ${entry.spanId} at seq ${seq} differs from its committed leaf${why(entry)}`,
          {
            spanId: entry.spanId,
            seq,
          },
        ),
      );
    } else {
      for (const entry of mismatched) {
        findings.push(
          finding(
            'unexpected',
            `span ${entry.spanId} at seq ${seq} is not in the committed log${why(entry)}`,
            {
              spanId: entry.spanId,
              seq,
            },
          ),
        );
      }
    }
  }
  const missing: number[] = [];
  for (let seq = 0; seq < sealedSize; seq++) {
    if (seq < verifiedSize ? !matched.has(seq) && !accounted.has(seq) : !bySeq.has(seq)) missing.push(seq);
  }
  if (missing.length > 0) {
    findings.push(
      finding('missing', `${missing.length} committed span(s) are not in the store`, {
        ranges: toRanges(missing),
      }),
    );
  }
  const unverified = seqs.filter((seq) => seq >= verifiedSize && seq < sealedSize);
  if (unverified.length > 0) {
    findings.push(
      finding('unverifiable', `${unverified.length} span(s) could not be checked against a signed root`, {
        ranges: toRanges(unverified),
      }),
    );
  }
  const tail = seqs.filter((seq) => seq >= sealedSize);
  if (tail.length > 0) {
    findings.push(
      finding(
        'unsealed-tail',
        `${tail.length} span(s) after the last checkpoint (size ${sealedSize}) are not sealed yet`,
        {
          ranges: toRanges(tail),
        },
      ),
    );
  }
  const storeSize = Math.max(0, ...auth.storeCheckpoints.map((checkpoint) => checkpoint.size));
  const witnessSize = Math.max(0, ...input.witness.map((checkpoint) => checkpoint.size));
  if (witnessSize > storeSize) {
    findings.push(
      finding(
        'truncated',
        `the witness holds tree size ${witnessSize}, the store's checkpoints only ${storeSize}`,
        {
          size: witnessSize,
        },
      ),
    );
  }
  return {
    stream,
    spanCount: input.leaves.length,
    checkpointCount: input.checkpointRecords.length,
    sealedSize,
    verifiedSize,
    verifiedRanges: toRanges([...matched].sort((a, b) => a - b)),
    findings,
  };
}

/** The reason a leaf entry has no canonical span, as a message suffix. */
function why(entry: LeafEntry): string {
  return entry.problem === undefined ? '' : ` (${entry.problem})`;
}
