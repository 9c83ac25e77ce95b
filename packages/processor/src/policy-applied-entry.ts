import type { SpanRecord } from '@decisiontrail/core';
import { ProcessorError } from './errors.ts';
import type { PolicyOutcome } from './policy-stage.ts';

/**
 * The write-ahead log's tag of a request the policy stage changed at receipt: the log holds its spans after the
 * policy instead of the request body (next to `BODY_ENCODING`'s 1 = protobuf and 2 = JSON body).
 */
export const POLICY_APPLIED_ENCODING = 3;

/** The spans of one logged request and, by span, what the policy did at receipt (only spans it changed). */
export interface PolicyAppliedSpans {
  records: SpanRecord[];
  outcomes: Map<SpanRecord, PolicyOutcome>;
}

interface StoredEntry {
  records: SpanRecord[];
  /** `[index in records, outcome]` of every span the policy changed. */
  outcomes: [number, PolicyOutcome][];
}

/** The log payload of a request's spans after the policy: JSON, so every value round-trips exactly. */
export function encodePolicyApplied(spans: PolicyAppliedSpans): Uint8Array {
  const outcomes: [number, PolicyOutcome][] = [];
  spans.records.forEach((record, index) => {
    const outcome = spans.outcomes.get(record);
    if (outcome !== undefined) outcomes.push([index, outcome]);
  });
  const stored: StoredEntry = { records: spans.records, outcomes };
  // An exactly sized buffer of its own (not a slice of Buffer's pool), so it can move between threads.
  return new TextEncoder().encode(JSON.stringify(stored));
}

/** Reads a payload {@link encodePolicyApplied} wrote. */
export function decodePolicyApplied(payload: Uint8Array): PolicyAppliedSpans {
  let stored: StoredEntry;
  try {
    stored = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    if (!Array.isArray(stored.records) || !Array.isArray(stored.outcomes)) throw new Error('not an entry');
  } catch (cause) {
    // The log's CRC passed, so the bytes are what this process wrote: unreadable means outside damage.
    throw new ProcessorError('WAL_CORRUPT', 'unreadable policy-applied entry in the write-ahead log', {
      cause,
    });
  }
  const outcomes = new Map<SpanRecord, PolicyOutcome>();
  for (const [index, outcome] of stored.outcomes) {
    const record = stored.records[index];
    if (record === undefined)
      throw new ProcessorError('WAL_CORRUPT', `policy-applied entry names span ${index} it does not hold`);
    outcomes.set(record, outcome);
  }
  return { records: stored.records, outcomes };
}
