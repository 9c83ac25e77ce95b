import { randomUUID } from 'node:crypto';
import type { SpanRecord } from '@decisiontrail/core';
import { ATTR_AUDIT_INTEGRITY_STREAM } from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { dateToDateTime64 } from './time-format.ts';

/** A span the processor refused, with why. */
export interface QuarantineEntry {
  record: SpanRecord;
  /** Stable reason code, e.g. `LEAF_MISMATCH`, `POLICY_MISSING_ATTRIBUTE`. */
  code: string;
  reason: string;
  /** @default now */
  receivedAt?: Date;
}

/** Stores refused spans verbatim in `audit_quarantine`. */
export async function quarantineSpans(ctx: QueryContext, entries: readonly QuarantineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await ctx.insert(
    'audit_quarantine',
    entries.map((entry) => ({
      received_at: dateToDateTime64(entry.receivedAt ?? new Date()),
      code: requireString(entry.code, 'code'),
      reason: requireString(entry.reason, 'reason'),
      stream: entry.record.attributes[ATTR_AUDIT_INTEGRITY_STREAM] ?? '',
      trace_id: entry.record.traceId,
      span_id: entry.record.spanId,
      record: JSON.stringify(entry.record),
    })),
  );
}

/** A quarantined span as stored. */
export interface QuarantinedSpan {
  receivedAt: Date;
  code: string;
  reason: string;
  stream: string;
  record: SpanRecord;
}

/** Which quarantined spans {@link listQuarantine} returns; every filter given must hold. */
export interface QuarantineQuery {
  /** Reason code, e.g. `MALFORMED_DECISION_ID`. */
  code?: string;
  /** The `audit.decision.id` the refused span carries (as it arrived, malformed or not). */
  decisionId?: string;
  traceId?: string;
  spanId?: string;
  /** Received at or after. */
  from?: Date;
  /** Received before. */
  to?: Date;
  /** @default 1000 */
  limit?: number;
}

/** Quarantined spans, newest first. */
export async function listQuarantine(
  ctx: QueryContext,
  query: QuarantineQuery = {},
): Promise<QuarantinedSpan[]> {
  const limit = query.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new StoreError('INVALID_ARGUMENT', 'limit must be a positive integer');
  for (const [name, value] of [
    ['from', query.from],
    ['to', query.to],
  ] as const) {
    if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime())))
      throw new StoreError('INVALID_ARGUMENT', `${name} must be a valid date`);
  }
  const rows = await ctx.rows<{
    receivedAt: string;
    code: string;
    reason: string;
    stream: string;
    record: string;
  }>(
    `SELECT toString(toUnixTimestamp64Milli(received_at)) AS receivedAt, code, reason, stream, record
     FROM {{read:audit_quarantine}}
     WHERE ({code:String} = '' OR code = {code:String})
       AND ({trace_id:String} = '' OR trace_id = {trace_id:String})
       AND ({span_id:String} = '' OR span_id = {span_id:String})
       AND ({decision_id:String} = ''
            OR JSONExtractString(record, 'attributes', {{attr:AUDIT_DECISION_ID}}) = {decision_id:String})
       AND received_at >= fromUnixTimestamp64Milli({from_ms:Int64})
       AND received_at < fromUnixTimestamp64Milli({to_ms:Int64})
     ORDER BY received_at DESC LIMIT {limit:UInt32}`,
    {
      code: requireString(query.code ?? '', 'code'),
      trace_id: requireString(query.traceId ?? '', 'traceId'),
      span_id: requireString(query.spanId ?? '', 'spanId'),
      decision_id: requireString(query.decisionId ?? '', 'decisionId'),
      from_ms: String(query.from?.getTime() ?? 0),
      // DateTime64(3) ends in the year 2299; an open end is the largest instant it holds.
      to_ms: String(query.to?.getTime() ?? MAX_DATETIME64_MS),
      limit: String(limit),
    },
  );
  return rows.map((row) => ({
    receivedAt: new Date(Number(row.receivedAt)),
    code: row.code,
    reason: row.reason,
    stream: row.stream,
    record: JSON.parse(row.record) as SpanRecord,
  }));
}

const MAX_DATETIME64_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/** The tombstone of a GDPR erasure (crypto-shredding) of one data subject. */
export interface ErasureRecord {
  erasureId: string;
  erasedAt: Date;
  subjectId: string;
  /** Content-encryption key ids destroyed. */
  keyIds: string[];
  requestedBy: string;
  reason: string;
  /** Decisions about the subject at the time of erasure. */
  decisionCount: number;
}

/** Records that a subject's data was erased; returns the tombstone. */
export async function recordErasure(
  ctx: QueryContext,
  input: { subjectId: string; keyIds?: string[]; requestedBy?: string; reason?: string; erasedAt?: Date },
): Promise<ErasureRecord> {
  const subjectId = requireString(input.subjectId, 'subjectId');
  if (subjectId === '') throw new StoreError('INVALID_ARGUMENT', 'subjectId must not be empty');
  const [count] = await ctx.rows<{ n: string }>(
    `SELECT count() AS n FROM {{read:audit_decisions}} FINAL WHERE subject_id = {subject_id:String}`,
    { subject_id: subjectId },
  );
  const record: ErasureRecord = {
    erasureId: randomUUID(),
    erasedAt: input.erasedAt ?? new Date(),
    subjectId,
    keyIds: (input.keyIds ?? []).map((id) => requireString(id, 'keyIds[]')),
    requestedBy: requireString(input.requestedBy ?? '', 'requestedBy'),
    reason: requireString(input.reason ?? '', 'reason'),
    decisionCount: Number(count?.n ?? 0),
  };
  await ctx.insert('audit_erasures', [
    {
      erasure_id: record.erasureId,
      erased_at: dateToDateTime64(record.erasedAt),
      subject_id: record.subjectId,
      key_ids: record.keyIds,
      requested_by: record.requestedBy,
      reason: record.reason,
      decision_count: String(record.decisionCount),
    },
  ]);
  return record;
}

/** Erasure tombstones of a subject (or all), newest first. */
export async function listErasures(
  ctx: QueryContext,
  query: { subjectId?: string } = {},
): Promise<ErasureRecord[]> {
  const rows = await ctx.rows<{
    erasureId: string;
    erasedAt: string;
    subjectId: string;
    keyIds: string[];
    requestedBy: string;
    reason: string;
    decisionCount: string;
  }>(
    `SELECT erasure_id AS erasureId, toString(toUnixTimestamp64Milli(erased_at)) AS erasedAt, subject_id AS subjectId,
       key_ids AS keyIds, requested_by AS requestedBy, reason, decision_count AS decisionCount
     FROM {{read:audit_erasures}} FINAL
     WHERE ({subject_id:String} = '' OR subject_id = {subject_id:String})
     ORDER BY erased_at DESC`,
    { subject_id: requireString(query.subjectId ?? '', 'subjectId') },
  );
  return rows.map((row) => ({
    ...row,
    erasedAt: new Date(Number(row.erasedAt)),
    decisionCount: Number(row.decisionCount),
  }));
}
