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

/** Quarantined spans, newest first. */
export async function listQuarantine(
  ctx: QueryContext,
  query: { code?: string; limit?: number } = {},
): Promise<QuarantinedSpan[]> {
  const limit = query.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new StoreError('INVALID_ARGUMENT', 'limit must be a positive integer');
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
     ORDER BY received_at DESC LIMIT {limit:UInt32}`,
    { code: requireString(query.code ?? '', 'code'), limit: String(limit) },
  );
  return rows.map((row) => ({
    receivedAt: new Date(Number(row.receivedAt)),
    code: row.code,
    reason: row.reason,
    stream: row.stream,
    record: JSON.parse(row.record) as SpanRecord,
  }));
}

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
