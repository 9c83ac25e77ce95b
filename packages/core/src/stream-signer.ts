import { randomUUID } from 'node:crypto';
import { formatCheckpoint } from './checkpoint.ts';
import type { SigningKey } from './key-file.ts';
import { CompactMerkleTree, type CompactMerkleTreeState } from './merkle-tree.ts';

/** Default origin prefix; a stream's origin is `<prefix>/<stream id>`. */
export const DEFAULT_ORIGIN_PREFIX = 'decisiontrail.dev/stream';

/** A signed checkpoint over a stream's leaves so far. */
export interface SignedCheckpoint {
  streamId: string;
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** The full signed note. */
  note: string;
  /** Hex key id of the signing key. */
  keyId: string;
  /** The leaf hashes this checkpoint adds: leaves `[size - leaves.length, size)`. */
  leaves: Uint8Array[];
  /**
   * The compact range of the tree at `size - leaves.length` (its RFC 9162 subtree roots, largest first):
   * with `leaves` it rebuilds the signed root and every inclusion proof of those leaves. Undefined when the
   * signer resumed from state that did not record it.
   */
  range?: Uint8Array[];
}

/** Serializable {@link StreamSigner} state: enough to continue or seal the stream after a restart. */
export interface StreamSignerState {
  streamId: string;
  origin: string;
  tree: CompactMerkleTreeState;
  /** Hex leaves appended since the last checkpoint. */
  unsealedLeaves: string[];
  /** Hex compact range of the tree at the last checkpoint (before `unsealedLeaves`); absent in older state. */
  sealedRange?: string[];
}

/**
 * One integrity stream: hands out sequence numbers, keeps the Merkle tree in O(log n) state, and
 * signs checkpoints. Synchronous, so the order of `append` calls is the order of the leaves.
 */
export class StreamSigner {
  readonly streamId: string;
  readonly origin: string;
  readonly #tree: CompactMerkleTree;
  #unsealed: Uint8Array[];
  /** The compact range where the unsealed leaves begin, or undefined when unknown (see {@link SignedCheckpoint.range}). */
  #sealedRange: Uint8Array[] | undefined;
  #key: SigningKey;

  constructor(options: {
    key: SigningKey;
    streamId?: string;
    originPrefix?: string;
    state?: StreamSignerState;
  }) {
    const { key, state } = options;
    this.#key = key;
    this.streamId = state?.streamId ?? options.streamId ?? randomUUID();
    this.origin = state?.origin ?? `${options.originPrefix ?? DEFAULT_ORIGIN_PREFIX}/${this.streamId}`;
    this.#tree = new CompactMerkleTree(state?.tree);
    this.#unsealed = (state?.unsealedLeaves ?? []).map((hex) => Buffer.from(hex, 'hex'));
    // With nothing unsealed the range is the tree's own; otherwise only recorded state knows it.
    const sealed =
      state?.sealedRange ?? (this.#unsealed.length === 0 ? this.#tree.toJSON().peaks : undefined);
    this.#sealedRange = sealed?.map((hex) => Buffer.from(hex, 'hex'));
  }

  /** Number of leaves (the next sequence number). */
  get size(): number {
    return this.#tree.size;
  }

  /** Hex key id of the key that signs the next checkpoint. */
  get keyId(): string {
    return this.#key.keyId;
  }

  /** Whether leaves were appended since the last checkpoint. */
  get hasUnsealedLeaves(): boolean {
    return this.#unsealed.length > 0;
  }

  /** Appends a leaf hash; returns its sequence number. */
  append(leaf: Uint8Array): number {
    const seq = this.#tree.size;
    this.#tree.append(leaf);
    this.#unsealed.push(leaf);
    return seq;
  }

  /** Signs a checkpoint if leaves were appended since the last one; otherwise returns `undefined`. */
  checkpoint(): SignedCheckpoint | undefined {
    if (this.#unsealed.length === 0) return undefined;
    const rootHash = this.#tree.root();
    const size = this.#tree.size;
    const note = this.#key.signer.sign(formatCheckpoint({ origin: this.origin, size, rootHash }));
    const leaves = this.#unsealed;
    const range = this.#sealedRange;
    this.#unsealed = [];
    this.#sealedRange = this.#tree.toJSON().peaks.map((hex) => Buffer.from(hex, 'hex'));
    return {
      streamId: this.streamId,
      origin: this.origin,
      size,
      rootHash,
      note,
      keyId: this.#key.keyId,
      leaves,
      ...(range !== undefined && { range }),
    };
  }

  /** Switches to a new key; later checkpoints (and spans) carry its key id. */
  rotate(key: SigningKey): void {
    this.#key = key;
  }

  toJSON(): StreamSignerState {
    return {
      streamId: this.streamId,
      origin: this.origin,
      tree: this.#tree.toJSON(),
      unsealedLeaves: this.#unsealed.map((leaf) => Buffer.from(leaf).toString('hex')),
      ...(this.#sealedRange !== undefined && {
        sealedRange: this.#sealedRange.map((hash) => Buffer.from(hash).toString('hex')),
      }),
    };
  }
}
