// The timeline's read-time check as it was until 2026-12-07 (at 4dd0e0b), kept for the ClickHouse bench to
// time against the current one in the same run: one statement over otel_traces for the shown spans' copies,
// the decisions' reviews and feedback by decision id (value bloom filter) and the covering checkpoint spans
// (found through audit_checkpoints, read from otel_traces), a day either side of the shown spans.
import {
  TRACE_ROW_COLUMNS,
  traceRowToSpanRecord,
  type Store,
  type StoredTraceRow,
  type TimelineEvidence,
  type TimelineEvidenceQuery,
} from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_DECISION_ID,
  SPAN_NAME_AUDIT_CHECKPOINT,
  SPAN_NAME_AUDIT_FEEDBACK,
  SPAN_NAME_AUDIT_OVERSIGHT,
} from '@decisiontrail/semconv';

const PREVIOUS_SQL = `
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
    FROM otel_traces
    WHERE has(traces, TraceId) AND has(span_ids, SpanId)
      AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
    UNION ALL
    SELECT 'span' AS role, ${TRACE_ROW_COLUMNS}
    FROM otel_traces
    WHERE SpanName IN ({oversight_span:String}, {feedback_span:String}) AND Timestamp >= first_time - toIntervalDay(1)
      AND has(decision_ids, SpanAttributes[{decision_id_key:String}])
      AND NOT (has(traces, TraceId) AND has(span_ids, SpanId))
    UNION ALL
    SELECT 'checkpoint' AS role, ${TRACE_ROW_COLUMNS}
    FROM otel_traces
    WHERE SpanName = {checkpoint_span:String}
      AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
      AND (TraceId, SpanId) IN (
        SELECT c.trace_id, c.span_id
        FROM audit_checkpoints AS c
        ARRAY JOIN arrayEnumerate(leaf_streams) AS leaf, leaf_streams AS leaf_stream, leaf_seqs AS leaf_seq
        WHERE has(leaf_streams, c.stream) AND c.stream = leaf_stream AND c.tree_size > leaf_seq
        ORDER BY c.tree_size
        LIMIT 3 BY leaf
      )
  )`;

/** The previous `timelineEvidence`, on a store of the `default` database. */
export async function previousEvidence(
  store: Store,
  query: TimelineEvidenceQuery,
): Promise<TimelineEvidence> {
  const leaves = query.spans.filter((span) => span.stream !== '' && span.seq !== '');
  const times = query.spans.map((span) => BigInt(span.timeUnixNano));
  if (times.length === 0) return { spans: [], checkpoints: [] };
  const result = await store.client.query({
    query: PREVIOUS_SQL,
    query_params: {
      traces: [...new Set(query.spans.map((span) => span.traceId))],
      span_ids: [...new Set(query.spans.map((span) => span.spanId))],
      decision_ids: query.decisionIds,
      decision_id_key: ATTR_AUDIT_DECISION_ID,
      oversight_span: SPAN_NAME_AUDIT_OVERSIGHT,
      feedback_span: SPAN_NAME_AUDIT_FEEDBACK,
      leaf_streams: leaves.map((span) => span.stream),
      leaf_seqs: leaves.map((span) => span.seq),
      first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
      last_ns: String(times.reduce((a, b) => (b > a ? b : a))),
      checkpoint_span: SPAN_NAME_AUDIT_CHECKPOINT,
    },
    format: 'JSONEachRow',
  });
  const evidence: TimelineEvidence = { spans: [], checkpoints: [] };
  for (const row of await result.json<StoredTraceRow & { role: 'span' | 'checkpoint' }>()) {
    (row.role === 'span' ? evidence.spans : evidence.checkpoints).push(traceRowToSpanRecord(row));
  }
  return evidence;
}
