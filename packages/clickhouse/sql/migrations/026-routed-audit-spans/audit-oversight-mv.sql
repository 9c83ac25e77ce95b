-- sql/audit-oversight-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_oversight_mv}} {{cluster}}
TO {{table:audit_oversight}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    Timestamp AS time,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service,
    SpanAttributes[{{attr:AUDIT_OVERSIGHT_ACTION}}] AS action,
    SpanAttributes[{{attr:AUDIT_OVERSIGHT_REVIEWER}}] AS reviewer,
    SpanAttributes[{{attr:AUDIT_OVERSIGHT_REASON}}] AS reason,
    SpanAttributes[{{attr:AUDIT_OVERSIGHT_NEW_OUTCOME}}] AS new_outcome,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) AS integrity_seq,
    SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS model_id,
    SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}}
