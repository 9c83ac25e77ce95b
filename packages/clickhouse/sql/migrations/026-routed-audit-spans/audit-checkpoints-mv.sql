-- sql/audit-checkpoints-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_checkpoints_mv}} {{cluster}}
TO {{table:audit_checkpoints}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS tree_size,
    Timestamp AS time,
    SpanAttributes[{{attr:AUDIT_CHECKPOINT_ORIGIN}}] AS origin,
    SpanAttributes[{{attr:AUDIT_CHECKPOINT_ROOT}}] AS root,
    SpanAttributes[{{attr:AUDIT_CHECKPOINT_NOTE}}] AS note,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_KEY_ID}}] AS key_id,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
