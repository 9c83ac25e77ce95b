import { decisionFilterParams, type DecisionFilter } from './decision-queries.ts';
import type { QueryContext } from './query-context.ts';
import { readSqlFile } from './sql-template.ts';

/** What one stream's producer could not keep in a period, for one reason, from its signed loss records. */
export interface RecordLoss {
  stream: string;
  /** `audit.loss.reason`, e.g. `spool_full`. */
  reason: string;
  /** Audit records dropped (decisions, reviews, feedback, ...). */
  records: number;
  /** How many of them were decisions. */
  decisions: number;
  /** Loss records these figures add up. */
  lossRecords: number;
  /** The first and the last drop, decimal nanoseconds since the epoch. */
  firstUnixNano: string;
  lastUnixNano: string;
}

const REPORT_LOSSES_SQL = readSqlFile('report-losses.sql');

/**
 * The losses the stored `audit.loss` records account for, whose first drop lies in the filter's period; read from
 * `otel_traces` as stored (the report states them; `decisiontrail verify` is what checks their signatures).
 */
export async function recordLosses(ctx: QueryContext, filter: DecisionFilter): Promise<RecordLoss[]> {
  const rows = await ctx.rows<{
    stream: string;
    reason: string;
    records: string;
    decisions: string;
    loss_records: string;
    first_unix_nano: string;
    last_unix_nano: string;
  }>(REPORT_LOSSES_SQL, decisionFilterParams(filter));
  return rows.map((row) => ({
    stream: row.stream,
    reason: row.reason,
    records: Number(row.records),
    decisions: Number(row.decisions),
    lossRecords: Number(row.loss_records),
    firstUnixNano: row.first_unix_nano,
    lastUnixNano: row.last_unix_nano,
  }));
}
