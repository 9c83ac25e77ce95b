-- sql/audit-feedback-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_feedback_mv}} {{cluster}}
TO {{table:audit_feedback}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    Timestamp AS time,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service,
    multiIf(SpanAttributes[{{attr:AUDIT_FEEDBACK_CORRECT}}] = 'true', true,
            SpanAttributes[{{attr:AUDIT_FEEDBACK_CORRECT}}] = 'false', false, NULL) AS correct,
    SpanAttributes[{{attr:AUDIT_FEEDBACK_ACTUAL_OUTCOME}}] AS actual_outcome,
    SpanAttributes[{{attr:AUDIT_FEEDBACK_SOURCE}}] AS source,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) AS integrity_seq,
    SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS model_id,
    SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}}
