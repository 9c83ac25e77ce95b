import type { SpanRecord } from '@decisiontrail/core';
import {
  SPAN_NAME_AUDIT_CHECKPOINT,
  SPAN_NAME_AUDIT_FEEDBACK,
  SPAN_NAME_AUDIT_OVERSIGHT,
} from '@decisiontrail/semconv';
import { timelineRows } from './decision-timeline.ts';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { TRACE_ROW_COLUMNS, traceRowToSpanRecord, type StoredTraceRow } from './trace-row.ts';

/** The spans a timeline shows, as its rows name them (audit tables are only used to find the signed rows). */
export interface TimelineEvidenceQuery {
  /** The decisions shown: their reviews and feedback are looked up in otel_traces by decision id too. */
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
  /** For each shown leaf, the checkpoint span(s) of its stream at the first tree size above it. */
  checkpoints: SpanRecord[];
}

/**
 * One statement: every copy of the shown spans (trace-id bloom filter, a day either side of their
 * times, as the timeline's own trace spans), the decisions' review and feedback spans by decision id,
 * and the checkpoint spans (same bound) found through
 * `audit_checkpoints` (ordered by stream and size) but read from `otel_traces`. A checkpoint is
 * self-authenticating (its note is signed), so finding it through a derived table only decides
 * whether a proof is attempted, never whether it holds.
 */
const EVIDENCE_SQL = `
  WITH
    {traces:Array(String)} AS traces,
    {span_ids:Array(String)} AS span_ids,
    {decision_ids:Array(String)} AS decision_ids,
    {leaf_streams:Array(String)} AS leaf_streams,
    arrayMap(s -> toUInt64(s), {leaf_seqs:Array(String)}) AS leaf_seqs,
    fromUnixTimestamp64Nano({first_ns:Int64}) AS first_time,
    fromUnixTimestamp64Nano({last_ns:Int64}) AS last_time
  SELECT * FROM (
    SELECT 'span' AS role, ${TRACE_ROW_COLUMNS}
    FROM {{read:otel_traces}}
    WHERE has(traces, TraceId) AND has(span_ids, SpanId)
      AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
    UNION ALL
    -- Reviews and feedback of the shown decisions as signed, found by decision id (value bloom filter)
    -- rather than through audit_oversight / audit_feedback: a row deleted there is still found here.
    -- They happen after the decision, so no later bound.
    SELECT 'span' AS role, ${TRACE_ROW_COLUMNS}
    FROM {{read:otel_traces}}
    WHERE SpanName IN ({oversight_span:String}, {feedback_span:String}) AND Timestamp >= first_time - toIntervalDay(1)
      AND has(decision_ids, SpanAttributes[{{attr:AUDIT_DECISION_ID}}])
      AND NOT (has(traces, TraceId) AND has(span_ids, SpanId))
    UNION ALL
    SELECT 'checkpoint' AS role, ${TRACE_ROW_COLUMNS}
    FROM {{read:otel_traces}}
    WHERE SpanName = {checkpoint_span:String}
      -- A checkpoint is signed after the leaves it adds (within a batch's seal interval): the same
      -- day-either-side bound prunes otel_traces to the partitions around them. One stored later reads
      -- as unsealed here (never as verified); verify reads the whole stream.
      AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
      AND (TraceId, SpanId) IN (
        SELECT c.trace_id, c.span_id
        FROM {{read:audit_checkpoints}} AS c
        ARRAY JOIN arrayEnumerate(leaf_streams) AS leaf, leaf_streams AS leaf_stream, leaf_seqs AS leaf_seq
        WHERE has(leaf_streams, c.stream) AND c.stream = leaf_stream AND c.tree_size > leaf_seq
        ORDER BY c.tree_size
        -- A size signed twice (another key) gives every copy; the reader keeps what a trusted key signed.
        LIMIT 3 BY leaf
      )
  )`;

const SEQ = /^(0|[1-9][0-9]{0,18})$/u;

/**
 * The stored `otel_traces` rows behind the spans a timeline shows, every copy of each, and the
 * checkpoint spans that can prove them, for a reader to recompute their leaves and inclusion
 * (see `proveSpanInCheckpoint`) and to compare what the timeline displays with what was signed.
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
  const rows = await timelineRows<StoredTraceRow & { role: 'span' | 'checkpoint' }>(ctx, EVIDENCE_SQL, {
    traces: [...new Set(spans.map((span) => span.traceId))],
    span_ids: [...new Set(spans.map((span) => span.spanId))],
    decision_ids: decisionIds,
    oversight_span: SPAN_NAME_AUDIT_OVERSIGHT,
    feedback_span: SPAN_NAME_AUDIT_FEEDBACK,
    leaf_streams: leaves.map((span) => span.stream),
    leaf_seqs: leaves.map((span) => span.seq),
    first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
    last_ns: String(times.reduce((a, b) => (b > a ? b : a))),
    checkpoint_span: SPAN_NAME_AUDIT_CHECKPOINT,
  });
  const evidence: TimelineEvidence = { spans: [], checkpoints: [] };
  for (const row of rows) {
    (row.role === 'span' ? evidence.spans : evidence.checkpoints).push(traceRowToSpanRecord(row));
  }
  return evidence;
}
