-- Version 2's view plus the decided model. MODIFY QUERY swaps the view in place: no span inserted
-- while the migration runs is missed.
ALTER TABLE {{table:audit_feedback_mv}} {{cluster}} MODIFY QUERY
SELECT
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
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}}
