import { StoreError } from './errors.ts';
import { END_OF_TIME, periodParams, type QueryContext } from './query-context.ts';

/** A time slice `[fromMs, toMs)` of `otel_traces` and how many rows it holds. */
export interface VerificationSlice {
  fromMs: number;
  toMs: number;
  /** Rows of every kind in the slice (an upper bound of the spans the verifier reads from it). */
  rows: number;
}

/** Audit records that no integrity stream covers. */
export interface UnsignedAuditRecords {
  /** Distinct spans (an exact duplicate counts once). */
  count: number;
  /** The first of them by time, to name in a finding. */
  sample: { traceId: string; spanId: string; decisionId: string; recordType: string; timeMs: number }[];
}

/** Row count of one time bucket. */
interface BucketRow {
  t: string;
  n: string;
}

/**
 * Cuts `[from, to)` into time slices of at most about `maxRows` rows each, for the verifier to read one at a
 * time: per-minute row counts (the sort key's time and the partition prune them; no attribute is read), with a
 * minute that alone holds more than `maxRows` cut again by the second. A second holding more is one slice.
 * Slices are contiguous and cover the whole range, so reading them all reads every row once.
 */
export async function verificationSlices(
  ctx: QueryContext,
  query: { from?: Date; to?: Date; maxRows?: number } = {},
): Promise<VerificationSlice[]> {
  const from = query.from ?? new Date(0);
  const to = query.to ?? END_OF_TIME;
  const maxRows = query.maxRows ?? 50_000;
  if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
    throw new StoreError('INVALID_ARGUMENT', 'maxRows must be a positive integer');
  }
  const buckets = async (range: { from: Date; to: Date }, unit: 'minute' | 'second') =>
    (
      await ctx.rows<BucketRow>(
        `SELECT toUnixTimestamp64Milli(toDateTime64(${unit === 'minute' ? 'toStartOfMinute' : 'toStartOfSecond'}(Timestamp), 3)) AS t,
                count() AS n
         FROM {{read:otel_traces}}
         WHERE Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
           AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
         GROUP BY t ORDER BY t`,
        periodParams(range),
      )
    ).map((row) => ({ t: Number(row.t), n: Number(row.n) }));
  const counted: { t: number; n: number; width: number }[] = [];
  for (const bucket of await buckets({ from, to }, 'minute')) {
    if (bucket.n <= maxRows) {
      counted.push({ ...bucket, width: 60_000 });
      continue;
    }
    const end = Math.min(bucket.t + 60_000, to.getTime());
    for (const second of await buckets(
      { from: new Date(Math.max(bucket.t, from.getTime())), to: new Date(end) },
      'second',
    ))
      counted.push({ ...second, width: 1_000 });
  }
  const slices: VerificationSlice[] = [];
  let start = from.getTime();
  let rows = 0;
  for (const bucket of counted) {
    if (rows > 0 && rows + bucket.n > maxRows) {
      slices.push({ fromMs: start, toMs: Math.max(start, bucket.t), rows });
      start = Math.max(start, bucket.t);
      rows = 0;
    }
    rows += bucket.n;
  }
  slices.push({ fromMs: start, toMs: to.getTime(), rows });
  return slices;
}

/**
 * Audit records (`audit.record.type` set) in `[from, to)` that carry no integrity stream: nothing signs them,
 * so nothing can show they were not altered. Counted by distinct span; the earliest `limit` are named.
 */
export async function unsignedAuditRecords(
  ctx: QueryContext,
  query: { from?: Date; to?: Date; limit?: number } = {},
): Promise<UnsignedAuditRecords> {
  const limit = query.limit ?? 20;
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > 10_000) {
    throw new StoreError('INVALID_ARGUMENT', 'limit must be an integer from 0 to 10000');
  }
  const params = { ...periodParams({ from: query.from ?? new Date(0), to: query.to ?? END_OF_TIME }), limit };
  const where = `SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] != ''
       AND SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] = ''
       AND Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
       AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})`;
  const [counted] = await ctx.rows<{ n: string }>(
    `SELECT uniqExact(TraceId, SpanId) AS n FROM {{read:otel_traces}} WHERE ${where}`,
    params,
  );
  const count = Number(counted?.n ?? 0);
  if (count === 0 || limit === 0) return { count, sample: [] };
  const sample = await ctx.rows<{
    traceId: string;
    spanId: string;
    decisionId: string;
    recordType: string;
    timeMs: string;
  }>(
    `SELECT TraceId AS traceId, SpanId AS spanId,
            SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decisionId,
            SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] AS recordType,
            toUnixTimestamp64Milli(toDateTime64(Timestamp, 3)) AS timeMs
     FROM {{read:otel_traces}} WHERE ${where}
     ORDER BY Timestamp, SpanId
     LIMIT 1 BY TraceId, SpanId
     LIMIT {limit:UInt32}`,
    params,
  );
  return { count, sample: sample.map((row) => ({ ...row, timeMs: Number(row.timeMs) })) };
}
