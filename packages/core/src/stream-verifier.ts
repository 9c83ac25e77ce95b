import { finding, type Finding } from './findings.ts';
import { CompactMerkleTree, type CompactMerkleTreeState } from './merkle-tree.ts';
import {
  isCheckpointRecord,
  seqOf,
  streamOf,
  validateCheckpointRecord,
  verifierLeafHex,
} from './record-classifier.ts';
import type { NoteVerifierKey } from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';
import { resolveTrustedKeys, type TrustedKey } from './trusted-keys.ts';

/** A valid checkpoint waiting for the spans it covers, as kept in {@link StreamVerifierState}. */
interface PendingCheckpoint {
  size: number;
  rootHex: string;
  /** Hex leaves `[size - n, size)` from the checkpoint span. */
  leaves?: string[];
}

/** JSON state of a {@link StreamVerifier}, for the processor to persist durably. */
export interface StreamVerifierState {
  version: 1;
  stream: string;
  /** The verified prefix of the stream. */
  tree: CompactMerkleTreeState;
  /** The newest verified leaves as `[seq, hex leaf]`, to check late duplicates and stragglers. */
  recent: [number, string][];
  /** Spans beyond the verified prefix as `[seq, span id, hex leaf]`. */
  pending: [number, string, string][];
  /** Valid checkpoints beyond the verified prefix, ascending by size. */
  checkpoints: PendingCheckpoint[];
  /** Roots of the newest verified checkpoints as `[size, hex root]`. */
  roots: [number, string][];
  /** Set when a signed root did not match: verification of this stream stopped at this size. */
  stoppedAt?: number;
}

/** Options of {@link StreamVerifier}. */
export interface StreamVerifierOptions {
  /** Trusted checkpoint keys (all the stream ever used). */
  publicKeys: readonly TrustedKey[];
  /**
   * How many verified leaves to remember for late duplicates and stragglers.
   * @default 1024
   */
  recentLeafWindow?: number;
}

const ROOT_HISTORY = 64;

/**
 * Incremental verifier of one stream for the ingest path. Spans and checkpoints may arrive in any
 * order; a range is verified as soon as a valid checkpoint and every leaf it covers are known
 * (from the checkpoint's leaf list or the spans themselves). Each call returns the new findings.
 * `missing` and `truncated` are not decided here, since a span may still be on its way: the
 * authoritative check is {@link verifySpans} over stored rows.
 */
export class StreamVerifier {
  readonly stream: string;
  readonly #keys: NoteVerifierKey[];
  readonly #window: number;
  #tree: CompactMerkleTree;
  readonly #recent: Map<number, string>;
  readonly #pending: Map<number, { spanId: string; leaf: string }[]>;
  #checkpoints: PendingCheckpoint[];
  /**
   * The leaves the waiting checkpoints list, by seq (the smallest checkpoint's first), built when needed and
   * dropped when a checkpoint is added. An accepted checkpoint only claimed seqs under the new verified size,
   * which are never looked up again, so accepting one leaves the map valid.
   */
  #claimed: Map<number, string> | undefined;
  readonly #roots: Map<number, string>;
  #stoppedAt: number | undefined;

  constructor(stream: string, options: StreamVerifierOptions, state?: StreamVerifierState) {
    if (state && (state.version !== 1 || state.stream !== stream))
      throw new TypeError('state of another stream');
    this.stream = stream;
    this.#keys = resolveTrustedKeys(options.publicKeys);
    this.#window = options.recentLeafWindow ?? 1024;
    this.#tree = new CompactMerkleTree(state?.tree);
    this.#recent = new Map(state?.recent ?? []);
    this.#pending = new Map();
    for (const [seq, spanId, leaf] of state?.pending ?? []) this.#addPending(seq, spanId, leaf);
    this.#checkpoints = [...(state?.checkpoints ?? [])];
    this.#roots = new Map(state?.roots ?? []);
    this.#stoppedAt = state?.stoppedAt;
  }

  /** Restores a verifier from {@link toJSON} state. */
  static fromJSON(state: StreamVerifierState, options: StreamVerifierOptions): StreamVerifier {
    return new StreamVerifier(state.stream, options, state);
  }

  /** Leaves `[0, verifiedSize)` are verified. */
  get verifiedSize(): number {
    return this.#tree.size;
  }

  /** Spans received beyond the verified prefix. */
  get pendingSpans(): number {
    let count = 0;
    for (const list of this.#pending.values()) count += list.length;
    return count;
  }

  /** Valid checkpoints still waiting for spans. */
  get pendingCheckpoints(): number {
    return this.#checkpoints.length;
  }

  /**
   * Adds a leaf span of this stream; returns new findings. `arrivedLeaf` (hex, see `verifierLeafHex`) stands in
   * for the record's own leaf when the caller changed the record after it arrived — the processor's privacy
   * policy redacts before anything reaches its disk — so the span is checked as it was received.
   */
  addSpan(record: SpanRecord, arrivedLeaf?: string): Finding[] {
    if (streamOf(record) !== this.stream || isCheckpointRecord(record)) {
      throw new TypeError(`not a leaf span of stream ${this.stream}`);
    }
    const seq = seqOf(record);
    if (seq === undefined) {
      return [finding('unexpected', 'span has no valid sequence number', { spanId: record.spanId })];
    }
    const { spanId } = record;
    const leaf = arrivedLeaf ?? verifierLeafHex(record);
    if (seq < this.#tree.size) {
      const committed = this.#recent.get(seq);
      if (committed === leaf) return [];
      if (committed === undefined) {
        return [
          finding('unverifiable', `span at seq ${seq} is older than the verifier's window`, { spanId, seq }),
        ];
      }
      return [this.#classifyMismatch(spanId, seq, leaf, true)];
    }
    if (this.#stoppedAt !== undefined) {
      return [finding('unverifiable', `stream verification stopped at ${this.#stoppedAt}`, { spanId, seq })];
    }
    this.#addPending(seq, spanId, leaf);
    // Only a leaf the first waiting checkpoint covers can complete it: a leaf past it (spans arriving while an
    // earlier range is still missing) leaves nothing to do, without going over everything that waits.
    const first = this.#checkpoints[0];
    if (first === undefined || seq >= first.size) return [];
    return this.#advance();
  }

  /** Adds an `audit.checkpoint` span of this stream; returns new findings. */
  addCheckpoint(record: SpanRecord): Finding[] {
    if (streamOf(record) !== this.stream || !isCheckpointRecord(record)) {
      throw new TypeError(`not a checkpoint span of stream ${this.stream}`);
    }
    const result = validateCheckpointRecord(record, this.stream, this.#keys);
    if ('code' in result) return [result];
    const candidate: PendingCheckpoint = {
      size: result.size,
      rootHex: result.rootHex,
      ...(result.leaves !== undefined && { leaves: result.leaves }),
    };
    const known =
      candidate.size <= this.#tree.size
        ? this.#roots.get(candidate.size)
        : this.#checkpoints.find((c) => c.size === candidate.size)?.rootHex;
    if (known !== undefined) {
      return known === candidate.rootHex
        ? []
        : [
            finding('checkpoint-inconsistent', `two different signed roots for tree size ${candidate.size}`, {
              size: candidate.size,
              checkpointSpanId: record.spanId,
            }),
          ];
    }
    if (candidate.size <= this.#tree.size) return [];
    this.#checkpoints.push(candidate);
    this.#checkpoints.sort((a, b) => a.size - b.size);
    this.#claimed = undefined;
    // Behind another waiting checkpoint, it matters now only if its leaf list reaches into that one's range.
    const first = this.#checkpoints[0] as PendingCheckpoint;
    if (first !== candidate && candidate.size - (candidate.leaves?.length ?? 0) >= first.size) return [];
    return this.#advance();
  }

  /** JSON state for durable persistence. */
  toJSON(): StreamVerifierState {
    const pending: [number, string, string][] = [];
    for (const [seq, list] of this.#pending)
      for (const { spanId, leaf } of list) pending.push([seq, spanId, leaf]);
    return {
      version: 1,
      stream: this.stream,
      tree: this.#tree.toJSON(),
      recent: [...this.#recent],
      pending,
      checkpoints: this.#checkpoints,
      roots: [...this.#roots],
      ...(this.#stoppedAt !== undefined && { stoppedAt: this.#stoppedAt }),
    };
  }

  #addPending(seq: number, spanId: string, leaf: string): void {
    const list = this.#pending.get(seq) ?? [];
    if (!list.some((entry) => entry.leaf === leaf)) list.push({ spanId, leaf });
    this.#pending.set(seq, list);
  }

  #classifyMismatch(spanId: string, seq: number, leaf: string, seqHasMatch: boolean): Finding {
    for (const [committedSeq, committedLeaf] of this.#recent) {
      if (committedLeaf === leaf) {
        return finding(
          'reordered',
          `span ${spanId} claims seq ${seq} but is committed at seq ${committedSeq}`,
          {
            spanId,
            seq,
            committedSeq,
          },
        );
      }
    }
    return seqHasMatch
      ? finding('unexpected', `span ${spanId} at seq ${seq} is not in the committed log`, { spanId, seq })
      : finding('modified', `span ${spanId} at seq ${seq} differs from its committed leaf`, { spanId, seq });
  }

  #claimedLeaves(): Map<number, string> {
    const claimed = new Map<number, string>();
    for (const c of this.#checkpoints) {
      const leaves = c.leaves ?? [];
      for (let i = 0; i < leaves.length; i++) {
        const seq = c.size - leaves.length + i;
        if (!claimed.has(seq)) claimed.set(seq, leaves[i] as string);
      }
    }
    return claimed;
  }

  #advance(): Finding[] {
    const findings: Finding[] = [];
    while (this.#stoppedAt === undefined && this.#checkpoints.length > 0) {
      const checkpoint = this.#checkpoints[0] as PendingCheckpoint;
      const from = this.#tree.size;
      const claimed = (this.#claimed ??= this.#claimedLeaves());
      const fromRecords: (string | undefined)[] = [];
      const preferClaimed: (string | undefined)[] = [];
      for (let seq = from; seq < checkpoint.size; seq++) {
        const list = this.#pending.get(seq) ?? [];
        const recordLeaf = list.length === 1 ? list[0]?.leaf : undefined;
        fromRecords.push(recordLeaf);
        preferClaimed.push(claimed.get(seq) ?? recordLeaf);
      }
      if (preferClaimed.some((leaf) => leaf === undefined)) break;
      const attempt = (candidate: (string | undefined)[]): CompactMerkleTree | undefined => {
        if (candidate.some((leaf) => leaf === undefined)) return undefined;
        const trial = new CompactMerkleTree(this.#tree.toJSON());
        try {
          for (const leaf of candidate) trial.appendHex(leaf as string);
        } catch (error) {
          // A leaf that is not 64 hex digits (a checkpoint's list holds only such) reproduces no root.
          if (error instanceof RangeError) return undefined;
          throw error;
        }
        return trial.rootHex() === checkpoint.rootHex ? trial : undefined;
      };
      let leaves = preferClaimed;
      let accepted = attempt(preferClaimed);
      if (!accepted && fromRecords.some((leaf, i) => leaf !== preferClaimed[i])) {
        accepted = attempt(fromRecords);
        leaves = fromRecords;
        if (accepted) {
          findings.push(
            finding(
              'checkpoint-invalid',
              `a checkpoint's leaf list for [${from}, ${checkpoint.size}) is wrong`,
              {
                size: checkpoint.size,
              },
            ),
          );
        }
      }
      if (!accepted) {
        this.#stoppedAt = from;
        findings.push(
          finding(
            'checkpoint-root-mismatch',
            `leaves [${from}, ${checkpoint.size}) do not reproduce the signed root of size ${checkpoint.size}`,
            { ranges: [[from, checkpoint.size]], size: checkpoint.size },
          ),
        );
        break;
      }
      this.#tree = accepted;
      leaves.forEach((leaf, i) => this.#recent.set(from + i, leaf as string));
      // A Map's iteration goes on past the entries it deletes; no copy of its 1.5 k keys per checkpoint.
      const oldest = this.#tree.size - this.#window;
      for (const seq of this.#recent.keys()) if (seq < oldest) this.#recent.delete(seq);
      this.#roots.set(checkpoint.size, checkpoint.rootHex);
      for (const size of [...this.#roots.keys()]) {
        if (this.#roots.size > ROOT_HISTORY && size < checkpoint.size) this.#roots.delete(size);
      }
      this.#checkpoints.shift();
      for (let seq = from; seq < checkpoint.size; seq++) {
        const list = this.#pending.get(seq) ?? [];
        this.#pending.delete(seq);
        const committed = leaves[seq - from] as string;
        const hasMatch = list.some((entry) => entry.leaf === committed);
        for (const entry of list) {
          if (entry.leaf !== committed)
            findings.push(this.#classifyMismatch(entry.spanId, seq, entry.leaf, hasMatch));
        }
      }
    }
    return findings;
  }
}
