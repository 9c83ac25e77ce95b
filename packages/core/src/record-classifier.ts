import {
  ATTR_AUDIT_CHECKPOINT_LEAVES,
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { leafHashHex, uncanonicalLeafHash, uncanonicalReason } from './canonical-span.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { SigningError } from './errors.ts';
import { finding, type Finding } from './findings.ts';
import { HASH_SIZE } from './merkle-tree.ts';
import {
  openNote,
  noteSignatureKeyIds,
  strictBase64,
  type NoteVerifierKey,
  type OpenedNote,
} from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';

/** A span record that is a leaf of a stream. */
export interface LeafEntry {
  stream: string;
  seq: number;
  spanId: string;
  leaf: string;
  record: SpanRecord;
  /** Why the record has no canonical span (unknown kind or status); its leaf then matches nothing. */
  problem?: string;
}

/** A checkpoint whose signature verified under a trusted key. */
export interface ValidCheckpoint extends Checkpoint {
  stream: string;
  note: string;
  rootHex: string;
  keyId: string;
  /** Hex leaves `[size - n, size)` carried by the checkpoint span, when present and well-formed. */
  leaves?: string[];
  /** The checkpoint span, or undefined for a witness checkpoint. */
  spanId?: string;
}

/** Whether a record is an `audit.checkpoint` span. */
export function isCheckpointRecord(record: SpanRecord): boolean {
  return record.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.CHECKPOINT;
}

/** The stream a record belongs to (its `audit.integrity.stream`), if any. */
export function streamOf(record: SpanRecord): string | undefined {
  const stream = record.attributes[ATTR_AUDIT_INTEGRITY_STREAM];
  return stream === undefined || stream === '' ? undefined : stream;
}

/** The stream id an origin names: its last path segment. */
export function streamOfOrigin(origin: string): string {
  return origin.slice(origin.lastIndexOf('/') + 1);
}

/** The stream a signed checkpoint note names: the last path segment of its first (origin) line. */
export function streamOfNote(note: string): string {
  return streamOfOrigin(note.split('\n', 1)[0] ?? '');
}

/** Parses `audit.integrity.seq` strictly (canonical non-negative decimal). */
export function seqOf(record: SpanRecord): number | undefined {
  const text = record.attributes[ATTR_AUDIT_INTEGRITY_SEQ];
  if (text === undefined || !/^(0|[1-9][0-9]{0,15})$/u.test(text)) return undefined;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * A leaf record's entry with its recomputed leaf hash. A row with an unknown kind or status code
 * cannot have been signed as it is, so it gets a leaf that matches no committed one and is reported
 * like any other modified row, with the reason attached.
 */
export function leafEntry(record: SpanRecord, stream: string, seq: number): LeafEntry {
  const problem = uncanonicalReason(record);
  const leaf = leafHexOf(record, problem);
  return { stream, seq, spanId: record.spanId, leaf, record, ...(problem !== undefined && { problem }) };
}

/**
 * The hex leaf a verifier takes for a record: its leaf hash, or for a record without a canonical span the
 * hash that matches no signed leaf (see {@link leafEntry}).
 */
export function verifierLeafHex(record: SpanRecord): string {
  return leafHexOf(record, uncanonicalReason(record));
}

function leafHexOf(record: SpanRecord, problem: string | undefined): string {
  return problem === undefined
    ? leafHashHex(record)
    : Buffer.from(uncanonicalLeafHash(record)).toString('hex');
}

/**
 * Notes already opened against one fixed set of trusted keys, by their exact text: a caller that checks the same
 * note twice against the same keys (a witness line and the checkpoint span it copies) verifies its signatures
 * once. Only notes that opened are kept. A cache belongs to one key set; a caller whose keys change needs another.
 */
export type OpenedNotes = Map<string, OpenedNote>;

/**
 * Checks a signed checkpoint note against trusted keys; returns the checkpoint or a finding
 * (`checkpoint-unknown-key` or `checkpoint-invalid`).
 */
export function validateCheckpointNote(
  note: string,
  keys: readonly NoteVerifierKey[],
  where: { stream?: string; spanId?: string },
  opened?: OpenedNotes,
): ValidCheckpoint | Finding {
  const details = where.spanId !== undefined ? { checkpointSpanId: where.spanId } : {};
  let text: string;
  let keyId: string;
  try {
    let open = opened?.get(note);
    if (open === undefined) {
      open = openNote(note, keys);
      opened?.set(note, open);
    }
    text = open.text;
    keyId = (open.verifiedBy[0] as NoteVerifierKey).keyId;
  } catch (error) {
    if (error instanceof SigningError && error.code === 'NOTE_UNKNOWN_KEY') {
      const ids = noteSignatureKeyIds(note);
      return finding('checkpoint-unknown-key', `checkpoint signed by an untrusted key (${ids.join(', ')})`, {
        ...details,
        ...(ids[0] !== undefined && { keyId: ids[0] }),
      });
    }
    return finding(
      'checkpoint-invalid',
      `checkpoint note does not verify: ${(error as Error).message}`,
      details,
    );
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(text);
  } catch (error) {
    return finding(
      'checkpoint-invalid',
      `signed note is not a checkpoint: ${(error as Error).message}`,
      details,
    );
  }
  const stream = where.stream ?? streamOfOrigin(checkpoint.origin);
  if (streamOfOrigin(checkpoint.origin) !== stream) {
    return finding(
      'checkpoint-invalid',
      `checkpoint origin ${checkpoint.origin} is not stream ${stream}`,
      details,
    );
  }
  return {
    ...checkpoint,
    stream,
    note,
    rootHex: Buffer.from(checkpoint.rootHash).toString('hex'),
    keyId,
    ...(where.spanId !== undefined && { spanId: where.spanId }),
  };
}

/**
 * Validates an `audit.checkpoint` span record: its note must verify, and its other attributes
 * must agree with the note. Carries the span's leaf list when it is well-formed.
 */
export function validateCheckpointRecord(
  record: SpanRecord,
  stream: string,
  keys: readonly NoteVerifierKey[],
  opened?: OpenedNotes,
): ValidCheckpoint | Finding {
  const attributes = record.attributes;
  const result = validateCheckpointNote(
    attributes[ATTR_AUDIT_CHECKPOINT_NOTE] ?? '',
    keys,
    { stream, spanId: record.spanId },
    opened,
  );
  if ('code' in result) return result;
  const agrees =
    attributes[ATTR_AUDIT_CHECKPOINT_ORIGIN] === result.origin &&
    attributes[ATTR_AUDIT_CHECKPOINT_SIZE] === String(result.size) &&
    attributes[ATTR_AUDIT_CHECKPOINT_ROOT] === Buffer.from(result.rootHash).toString('base64') &&
    attributes[ATTR_AUDIT_INTEGRITY_KEY_ID] === result.keyId;
  if (!agrees) {
    return finding('checkpoint-invalid', 'checkpoint span attributes disagree with its signed note', {
      checkpointSpanId: record.spanId,
      size: result.size,
    });
  }
  const bytes = strictBase64(attributes[ATTR_AUDIT_CHECKPOINT_LEAVES] ?? '');
  if (bytes && bytes.length % HASH_SIZE === 0 && bytes.length / HASH_SIZE <= result.size) {
    const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const leaves: string[] = [];
    for (let offset = 0; offset < all.length; offset += HASH_SIZE) {
      leaves.push(all.toString('hex', offset, offset + HASH_SIZE));
    }
    result.leaves = leaves;
  }
  return result;
}
