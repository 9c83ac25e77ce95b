import {
  ATTR_AUDIT_CHECKPOINT_LEAVES,
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_RANGE,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_ALGORITHM,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import { INTEGRITY_ALGORITHM, type SignedCheckpoint } from '@decisiontrail/core';

/** The `audit.integrity.*` attributes of a span that is leaf `seq` of a stream. */
export function integrityAttributes(streamId: string, seq: number, keyId: string): Attributes {
  return {
    [ATTR_AUDIT_INTEGRITY_STREAM]: streamId,
    [ATTR_AUDIT_INTEGRITY_SEQ]: seq,
    [ATTR_AUDIT_INTEGRITY_ALGORITHM]: INTEGRITY_ALGORITHM,
    [ATTR_AUDIT_INTEGRITY_KEY_ID]: keyId,
  };
}

/** The attributes of an `audit.checkpoint` span (record type checkpoint; not itself a leaf). */
export function checkpointAttributes(checkpoint: SignedCheckpoint): Attributes {
  return {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.CHECKPOINT,
    [ATTR_AUDIT_INTEGRITY_STREAM]: checkpoint.streamId,
    [ATTR_AUDIT_INTEGRITY_ALGORITHM]: INTEGRITY_ALGORITHM,
    [ATTR_AUDIT_INTEGRITY_KEY_ID]: checkpoint.keyId,
    [ATTR_AUDIT_CHECKPOINT_ORIGIN]: checkpoint.origin,
    [ATTR_AUDIT_CHECKPOINT_SIZE]: checkpoint.size,
    [ATTR_AUDIT_CHECKPOINT_ROOT]: Buffer.from(checkpoint.rootHash).toString('base64'),
    [ATTR_AUDIT_CHECKPOINT_NOTE]: checkpoint.note,
    [ATTR_AUDIT_CHECKPOINT_LEAVES]: Buffer.concat(checkpoint.leaves).toString('base64'),
    ...(checkpoint.range !== undefined && {
      [ATTR_AUDIT_CHECKPOINT_RANGE]: Buffer.concat(checkpoint.range).toString('base64'),
    }),
  };
}
