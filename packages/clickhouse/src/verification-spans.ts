import type { SpanRecord } from '@decisiontrail/core';
import { StoreError } from './errors.ts';
import { END_OF_TIME, requireString, type QueryContext } from './query-context.ts';
import { TRACE_ROW_COLUMNS, TRACE_ROW_COPY, traceRowToSpanRecord, type StoredTraceRow } from './trace-row.ts';

/** Which stored spans to hand to the verifier. */
export interface VerificationQuery {
  /** Span start at or after (default: the beginning). */
  from?: Date;
  /** Span start before (default: no limit). */
  to?: Date;
  /** One integrity stream; default every stream. */
  stream?: string;
  /**
   * Only the spans whose `audit.integrity.seq` is one of these (canonical decimal text; at most 10,000), such as
   * the records a check that began mid-stream found committed but not in its time range. Default: every span.
   */
  seqs?: readonly string[];
}

/**
 * Stored spans that carry an integrity stream (leaves and checkpoints), as SpanRecords in stream
 * and log order (each checkpoint after the last leaf it seals). A span delivered twice (an exact duplicate row) is read once; copies of one
 * span id that differ in any column are all read, next to each other, so the verifier sees the
 * conflict instead of whichever copy a reader happens to pick. This is what `decisiontrail verify`
 * recomputes leaves and checkpoints from.
 */
export async function spansForVerification(
  ctx: QueryContext,
  query: VerificationQuery = {},
): Promise<SpanRecord[]> {
  const rows = await ctx.rows<StoredTraceRow>(
    verificationStatement(TRACE_ROW_COLUMNS),
    verificationParams(query),
  );
  return rows.map(traceRowToSpanRecord);
}

/**
 * The statement both verification readers run ({@link spansForVerification} and the binary reader in
 * verification-records.ts): which rows, in log order unless the reader sorts them itself (`ordered: false`),
 * each distinct copy once unless the reader drops exact copies itself (`copies: 'reader'`: every row comes,
 * and the columns must then hold every column of {@link TRACE_ROW_COPY}, so rows the reader finds equal are
 * the rows the engine's hash would) — with the columns given.
 */
export function verificationStatement(
  columns: string,
  options: { ordered: boolean; copies?: 'engine' | 'reader' } = { ordered: true },
): string {
  const order = `ORDER BY SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}],
       -- A checkpoint of size S right after the leaf S - 1 it seals, before the leaf S: in log order, so a read
       -- that begins mid-stream meets the checkpoint with the smallest size first.
       if(SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}},
          2 * toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]),
          2 * toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) + 1),
       Timestamp, SpanId`;
  return `SELECT ${columns}
     FROM {{read:otel_traces}}
     WHERE SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] != ''
       AND ({stream:String} = '' OR SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] = {stream:String})
       AND Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
       AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
       AND (empty({seqs:Array(String)}) OR has({seqs:Array(String)}, SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]))
     ${options.ordered ? order : ''}
     ${options.copies === 'reader' ? '' : `LIMIT 1 BY TraceId, SpanId, ${TRACE_ROW_COPY}`}`;
}

/** The bound parameters of {@link verificationStatement}. */
export function verificationParams(query: VerificationQuery): {
  stream: string;
  from_ms: string;
  to_ms: string;
  seqs: string[];
} {
  const seqs = query.seqs ?? [];
  if (!Array.isArray(seqs) || seqs.length > 10_000 || seqs.some((seq) => typeof seq !== 'string')) {
    throw new StoreError('INVALID_ARGUMENT', 'seqs must be at most 10000 strings');
  }
  return {
    seqs: [...seqs],
    stream: requireString(query.stream ?? '', 'stream'),
    from_ms: String((query.from ?? new Date(0)).getTime()),
    to_ms: String((query.to ?? END_OF_TIME).getTime()),
  };
}

/**
 * Every stored span of one trace as SpanRecords, in start order: exact duplicates once, differing
 * copies of one span id each (as {@link spansForVerification}), so an export carries the conflict.
 */
export async function traceSpans(ctx: QueryContext, traceId: string): Promise<SpanRecord[]> {
  const rows = await ctx.rows<StoredTraceRow>(
    `SELECT ${TRACE_ROW_COLUMNS}
     FROM {{read:otel_traces}}
     WHERE TraceId = {trace_id:String}
       AND Timestamp >= (SELECT min(Start) FROM {{read:otel_traces_trace_id_ts}} WHERE TraceId = {trace_id:String})
       AND Timestamp <= (SELECT max(End) + 1 FROM {{read:otel_traces_trace_id_ts}} WHERE TraceId = {trace_id:String})
     ORDER BY Timestamp, SpanId
     LIMIT 1 BY SpanId, ${TRACE_ROW_COPY}`,
    { trace_id: requireString(traceId, 'traceId') },
  );
  return rows.map(traceRowToSpanRecord);
}
