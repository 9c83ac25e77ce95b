import type { SpanRecord } from '@decisiontrail/core';
import { SPAN_NAME_AUDIT_CHECKPOINT } from '@decisiontrail/semconv';
import { timelineRows } from './decision-timeline.ts';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { TRACE_ROW_COLUMNS, traceRowToSpanRecord, type StoredTraceRow } from './trace-row.ts';

/** The spans a timeline shows, as its rows name them (audit tables are only used to find the signed rows). */
export interface TimelineEvidenceQuery {
  /**
   * The decisions shown: their reviews and feedback are found by decision id in `audit_decision_links` (not
   * in audit_oversight / audit_feedback, whose rows the timeline shows) and read from otel_traces too.
   */
  decisionIds: string[];
  spans: {
    traceId: string;
    spanId: string;
    /** Decimal nanoseconds: where to look (a day either side). */
    timeUnixNano: string;
    /** The span's integrity stream and seq ('' when none), for the checkpoints that can prove it. */
    stream: string;
    seq: string;
  }[];
}

/** The signed rows behind a timeline. */
export interface TimelineEvidence {
  /**
   * Every stored copy of each shown span (exact duplicates included), and every stored review and feedback
   * span of the shown decisions, whether or not its audit table row is there.
   */
  spans: SpanRecord[];
  /**
   * For each shown leaf, the checkpoint(s) of its stream at the first tree size above it: every stored copy of
   * each checkpoint span `audit_checkpoints` names. What a proof reads of a checkpoint is its signed note and the
   * leaves and range checked against the note's root, so a row there decides nothing by itself.
   */
  checkpoints: SpanRecord[];
}

/** A review or feedback span of a shown decision, as `audit_decision_links` locates it. */
const LINKS_SQL = `
  SELECT DISTINCT trace_id, span_id, toString(toUnixTimestamp64Nano(time)) AS time_ns
  FROM {{read:audit_decision_links}}
  WHERE decision_id IN {decision_ids:Array(String)}
    -- They happen after the decision: partitions before it are not read.
    AND time >= fromUnixTimestamp64Nano({first_ns:Int64}) - toIntervalDay(1)`;

/**
 * Which `otel_traces` rows are the checkpoints that can prove `leaves` leaves, leaf i being `{leaf_stream_i}` /
 * `{leaf_seq_i}` ({@link leafParams}): `audit_checkpoints` names the checkpoints of its stream at the first tree
 * size above its index — the only size whose leaves can hold it, since each checkpoint of a stream carries the
 * leaves added since the one before —, every copy at that size (a size signed twice, by another key: the reader
 * keeps what a trusted key signed), read in key order and stopped there (`LIMIT 1 WITH TIES`: the next sizes, read
 * until 2026-12-07, could only prove nothing and cost a granule of otel_traces each); each is then read from
 * `otel_traces` by its primary key (service, checkpoint span name `{checkpoint_span}`, second), span id and trace id
 * (the trace id lets a read that ORs this condition with a trace-id lookup keep its trace-id bloom filter: without
 * it the engine reads every granule of the other condition's time range). A row of `audit_checkpoints` only says
 * where to look: the span's signed note and the leaves and range recomputed against its root decide.
 */
export function checkpointSpansWhere(leaves: number): string {
  if (leaves === 0) return 'false';
  const each = Array.from(
    { length: leaves },
    (_, i) => `(SELECT service, time, span_id, trace_id FROM {{read:audit_checkpoints}}
        WHERE stream = {leaf_stream_${i}:String} AND tree_size > {leaf_seq_${i}:UInt64}
        ORDER BY stream, tree_size LIMIT 1 WITH TIES)`,
  ).join('\n      UNION ALL ');
  return `SpanName = {checkpoint_span:String}
      AND (ServiceName, toDateTime(Timestamp), SpanId, TraceId) IN (
        SELECT service, toDateTime(time), span_id, trace_id FROM (${each}))`;
}

/** The parameters of {@link checkpointSpansWhere} for these leaves. */
export function leafParams(leaves: readonly { stream: string; seq: string }[]): Record<string, string> {
  return {
    checkpoint_span: SPAN_NAME_AUDIT_CHECKPOINT,
    ...Object.fromEntries(
      leaves.flatMap((leaf, i) => [
        [`leaf_stream_${i}`, leaf.stream],
        [`leaf_seq_${i}`, leaf.seq],
      ]),
    ),
  };
}

/** Rows whose `Timestamp` falls in one of `windows` windows, window i being `{from_i}` to `{to_i}` ({@link windowParams}). */
export function withinWindows(windows: number): string {
  if (windows === 0) return 'false';
  return Array.from(
    { length: windows },
    (_, i) =>
      `Timestamp BETWEEN fromUnixTimestamp64Nano({from_${i}:Int64}) AND fromUnixTimestamp64Nano({to_${i}:Int64})`,
  ).join('\n      OR ');
}

/** The parameters of {@link withinWindows} for these windows. */
export function windowParams(windows: readonly (readonly [bigint, bigint])[]): Record<string, string> {
  return Object.fromEntries(
    windows.flatMap(([from, to], i) => [
      [`from_${i}`, String(from)],
      [`to_${i}`, String(to)],
    ]),
  );
}

/**
 * One statement over the spans to read (the shown ones and the decisions' linked reviews and feedback):
 * every copy in otel_traces (trace-id bloom filter, within a day of each span's time: one window per
 * group of nearby spans, so a late feedback does not widen the range read for the others), and the
 * checkpoint spans that can prove the shown leaves, by primary key ({@link checkpointSpansWhere}).
 */
function evidenceSql(windows: number, leaves: number): string {
  return `
  WITH
    {traces:Array(String)} AS traces,
    {span_ids:Array(String)} AS span_ids
  SELECT * FROM (
    SELECT 'span' AS role, ${TRACE_ROW_COLUMNS}
    FROM {{read:otel_traces}}
    WHERE has(traces, TraceId) AND has(span_ids, SpanId)
      AND (${withinWindows(windows)})
    UNION ALL
    SELECT 'checkpoint' AS role, ${TRACE_ROW_COLUMNS}
    FROM {{read:otel_traces}}
    WHERE ${checkpointSpansWhere(leaves)}
  )`;
}

/** A day in nanoseconds: how far either side of a time the timeline's reads look. */
export const DAY_NS = 86_400_000_000_000n;

/** A day either side of each time, overlapping ranges merged, in order. */
export function windowsAround(times: readonly bigint[]): [bigint, bigint][] {
  const windows: [bigint, bigint][] = [];
  for (const time of [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const from = time > DAY_NS ? time - DAY_NS : 0n;
    const last = windows.at(-1);
    if (last !== undefined && from <= last[1]) last[1] = time + DAY_NS;
    else windows.push([from, time + DAY_NS]);
  }
  return windows;
}

/** A leaf index as audit rows carry it: a decimal UInt64. */
export const SEQ = /^(0|[1-9][0-9]{0,18})$/u;

/**
 * The stored `otel_traces` rows behind the spans a timeline shows, every copy of each, and the
 * checkpoints that can prove them, for a reader to recompute their leaves and inclusion
 * (see `proveSpanInCheckpoint`) and to compare what the timeline displays with what was signed.
 * Two statements: the decisions' linked reviews and feedback (`audit_decision_links`, by primary key),
 * then the spans and checkpoints.
 */
export async function timelineEvidence(
  ctx: QueryContext,
  query: TimelineEvidenceQuery,
): Promise<TimelineEvidence> {
  if (!Array.isArray(query?.spans)) throw new StoreError('INVALID_ARGUMENT', 'spans must be an array');
  if (!Array.isArray(query.decisionIds))
    throw new StoreError('INVALID_ARGUMENT', 'decisionIds must be an array');
  const decisionIds = query.decisionIds.map((id, i) => requireString(id, `decisionIds[${i}]`));
  const spans = query.spans.map((span, i) => {
    const seq = requireString(span?.seq, `spans[${i}].seq`);
    const time = requireString(span?.timeUnixNano, `spans[${i}].timeUnixNano`);
    if (!/^[0-9]{1,19}$/u.test(time)) throw new StoreError('INVALID_ARGUMENT', `spans[${i}].timeUnixNano`);
    return {
      traceId: requireString(span.traceId, `spans[${i}].traceId`),
      spanId: requireString(span.spanId, `spans[${i}].spanId`),
      time: BigInt(time),
      stream: requireString(span.stream, `spans[${i}].stream`),
      seq,
    };
  });
  if (spans.length === 0) return { spans: [], checkpoints: [] };
  const leaves = spans.filter((span) => span.stream !== '' && SEQ.test(span.seq));
  const times = spans.map((span) => span.time);
  const wanted = spans.map((span) => ({ traceId: span.traceId, spanId: span.spanId, time: span.time }));
  if (decisionIds.length > 0) {
    const links = await timelineRows<{ trace_id: string; span_id: string; time_ns: string }>(ctx, LINKS_SQL, {
      decision_ids: decisionIds,
      first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
    });
    for (const link of links) {
      wanted.push({ traceId: link.trace_id, spanId: link.span_id, time: BigInt(link.time_ns) });
    }
  }
  const windows = windowsAround(wanted.map((span) => span.time));
  const rows = await timelineRows<StoredTraceRow & { role: 'span' | 'checkpoint' }>(
    ctx,
    evidenceSql(windows.length, leaves.length),
    {
      traces: [...new Set(wanted.map((span) => span.traceId))],
      span_ids: [...new Set(wanted.map((span) => span.spanId))],
      ...leafParams(leaves),
      ...windowParams(windows),
    },
  );
  const evidence: TimelineEvidence = { spans: [], checkpoints: [] };
  for (const row of rows) {
    (row.role === 'span' ? evidence.spans : evidence.checkpoints).push(traceRowToSpanRecord(row));
  }
  return evidence;
}
