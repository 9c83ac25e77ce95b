import { createHash, type KeyObject } from 'node:crypto';
import {
  ATTR_AUDIT_CHECKPOINT_LEAVES,
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_RANGE,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
} from '@decisiontrail/semconv';
import { leafHash, uncanonicalReason } from './canonical-span.ts';
import { inclusionProofFromRange, parseHashList } from './compact-range-proof.ts';
import type { Finding } from './findings.ts';
import { verifyInclusion } from './merkle-tree.ts';
import { seqOf, streamOf, validateCheckpointRecord, type ValidCheckpoint } from './record-classifier.ts';
import type { NoteVerifierKey } from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';
import { resolveTrustedKeys, type TrustedKey } from './trusted-keys.ts';

/**
 * How many validated checkpoints {@link proveSpanInCheckpoint} keeps (least recently used dropped first): a timeline
 * proves its few spans against the same handful of checkpoints, and a service showing the same decisions again
 * checks no signature twice. Each entry holds a checkpoint's leaves as hex (≈ 40 kB at 512 leaves).
 */
const VALIDATED_CHECKPOINTS = 128;
const validated = new Map<string, ValidCheckpoint | Finding>();

/** The raw public key bytes of each trusted key, exported once per key object. */
const publicKeyBytes = new WeakMap<KeyObject, string>();
function keyIdentity(key: NoteVerifierKey): string {
  let bytes = publicKeyBytes.get(key.publicKey);
  if (bytes === undefined) {
    bytes = key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    publicKeyBytes.set(key.publicKey, bytes);
  }
  return `${key.name}+${key.keyId}+${bytes}`;
}

/**
 * {@link validateCheckpointRecord}, remembered for the same input: the key is a hash of everything the validation
 * reads — the checkpoint span's id, its note, origin, size, root, key id and leaves attributes —, the stream it is
 * checked for and every trusted key's name, id and public key bytes. A checkpoint that differs in any byte, or the
 * same one under other keys, is validated afresh: a remembered result says exactly what validating again would.
 */
function validatedCheckpoint(
  checkpoint: SpanRecord,
  stream: string,
  keys: readonly NoteVerifierKey[],
): ValidCheckpoint | Finding {
  const a = checkpoint.attributes;
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        stream,
        checkpoint.spanId,
        a[ATTR_AUDIT_CHECKPOINT_NOTE] ?? null,
        a[ATTR_AUDIT_CHECKPOINT_ORIGIN] ?? null,
        a[ATTR_AUDIT_CHECKPOINT_SIZE] ?? null,
        a[ATTR_AUDIT_CHECKPOINT_ROOT] ?? null,
        a[ATTR_AUDIT_INTEGRITY_KEY_ID] ?? null,
        a[ATTR_AUDIT_CHECKPOINT_LEAVES] ?? null,
        keys.map(keyIdentity),
      ]),
    )
    .digest('base64');
  let result = validated.get(id);
  if (result === undefined) {
    result = validateCheckpointRecord(checkpoint, stream, keys);
    if (validated.size >= VALIDATED_CHECKPOINTS) validated.delete(validated.keys().next().value as string);
  } else {
    validated.delete(id);
  }
  validated.set(id, result);
  return result;
}

/**
 * Which check a span failed in {@link proveSpanInCheckpoint}: its leaf cannot be recomputed
 * (`leaf`), differs from the leaf the checkpoint signed at its seq (`leaf-mismatch`), the
 * checkpoint does not verify (`checkpoint`), or the inclusion proof does not reach the signed
 * root (`inclusion`).
 */
export type SpanProofCheck = 'leaf' | 'leaf-mismatch' | 'checkpoint' | 'inclusion';

/** Result of {@link proveSpanInCheckpoint}. */
export type SpanProof =
  /** The span's recomputed leaf is included, at its seq, under a root signed by a trusted key. */
  | { status: 'verified'; stream: string; seq: number; treeSize: number; keyId: string; proof: string[] }
  /** The checkpoint is well-formed but signed by no trusted key. */
  | { status: 'untrusted'; stream: string; seq: number; keyId: string }
  /** The checkpoint cannot prove this span (it does not carry its leaf, or no compact range). */
  | { status: 'unproven'; stream: string; seq: number; reason: string }
  | { status: 'failed'; check: SpanProofCheck; reason: string };

/**
 * Proves one stored span from one stored `audit.checkpoint` span of its stream, reading nothing
 * else: the span's leaf is recomputed from its row, must equal the leaf the checkpoint lists at the
 * span's seq, and an RFC 9162 inclusion proof built from the checkpoint's compact range and leaves
 * must reach the root the checkpoint's note signs under a trusted key. The cost is one signature
 * and the checkpoint's leaves, whatever the length of the stream — and none for a checkpoint validated before
 * in this process with the same bytes and keys (see {@link validatedCheckpoint}).
 */
export function proveSpanInCheckpoint(
  span: SpanRecord,
  checkpoint: SpanRecord,
  trustedKeys: readonly TrustedKey[],
): SpanProof {
  const stream = streamOf(span);
  const seq = seqOf(span);
  if (stream === undefined || seq === undefined)
    return { status: 'failed', check: 'leaf', reason: 'the span has no integrity stream and seq' };
  const problem = uncanonicalReason(span);
  if (problem !== undefined)
    return { status: 'failed', check: 'leaf', reason: `the stored row cannot have been signed: ${problem}` };
  const valid = validatedCheckpoint(checkpoint, stream, resolveTrustedKeys(trustedKeys));
  if ('code' in valid) {
    if (valid.code === 'checkpoint-unknown-key') {
      return { status: 'untrusted', stream, seq, keyId: valid.keyId ?? '?' };
    }
    return { status: 'failed', check: 'checkpoint', reason: valid.message };
  }
  const leaves = valid.leaves;
  if (leaves === undefined)
    return {
      status: 'unproven',
      stream,
      seq,
      reason: `checkpoint ${valid.size} carries no well-formed leaf list`,
    };
  const from = valid.size - leaves.length;
  if (seq < from || seq >= valid.size) {
    return {
      status: 'unproven',
      stream,
      seq,
      reason: `checkpoint ${valid.size} adds leaves [${from}, ${valid.size}), not ${seq}`,
    };
  }
  const rangeText = checkpoint.attributes[ATTR_AUDIT_CHECKPOINT_RANGE];
  const range = rangeText === undefined ? (from === 0 ? [] : undefined) : parseHashList(rangeText);
  if (range === undefined) {
    return {
      status: 'unproven',
      stream,
      seq,
      reason: `checkpoint ${valid.size} carries no compact range (run decisiontrail verify)`,
    };
  }
  const leaf = leafHash(span);
  const signedLeaf = leaves[seq - from] as string;
  if (Buffer.from(leaf).toString('hex') !== signedLeaf) {
    return {
      status: 'failed',
      check: 'leaf-mismatch',
      reason: `the stored row was modified: its leaf differs from leaf ${seq} signed in checkpoint ${valid.size} of stream ${stream}`,
    };
  }
  let proof: Uint8Array[];
  try {
    proof = inclusionProofFromRange(
      range,
      from,
      leaves.map((hex) => Buffer.from(hex, 'hex')),
      seq,
    );
  } catch (error) {
    return { status: 'failed', check: 'inclusion', reason: (error as Error).message };
  }
  if (!verifyInclusion(leaf, seq, valid.size, proof, valid.rootHash)) {
    return {
      status: 'failed',
      check: 'inclusion',
      reason: `leaf ${seq} is not included under the signed root of size ${valid.size} of stream ${stream}`,
    };
  }
  return {
    status: 'verified',
    stream,
    seq,
    treeSize: valid.size,
    keyId: valid.keyId,
    proof: proof.map((hash) => Buffer.from(hash).toString('hex')),
  };
}
