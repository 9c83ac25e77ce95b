-- Fills audit_decision_links with the tool runs stored before the view above existed (a no-op on a new store).
-- Through the Distributed tables on a cluster, so every shard is read and written. A run the view also took in
-- meanwhile is the same (decision_id, span_id) key: ReplacingMergeTree keeps one.
INSERT INTO {{read:audit_decision_links}}
SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    SpanId AS span_id,
    TraceId AS trace_id,
    Timestamp AS time,
    ServiceName AS service,
    SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] AS record_type,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream
FROM {{read:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
  AND SpanAttributes[{{attr:AUDIT_DECISION_ID}}] != ''
