-- audit_decisions as migration 2 fills it, with the two hashes replaced by whether the span has each and the
-- input hash's fingerprint (the same columns as sql/audit-decisions-select.sql, which verify compares).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decisions_mv}} {{cluster}}
TO {{table:audit_decisions}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    Timestamp AS time,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service,
    SpanName AS span_name,
    if(SpanAttributes[{{attr:AUDIT_MODEL_ID}}] != '', SpanAttributes[{{attr:AUDIT_MODEL_ID}}],
       if(SpanAttributes[{{attr:GEN_AI_RESPONSE_MODEL}}] != '', SpanAttributes[{{attr:GEN_AI_RESPONSE_MODEL}}],
          SpanAttributes[{{attr:GEN_AI_REQUEST_MODEL}}])) AS model_id,
    SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version,
    SpanAttributes[{{attr:AUDIT_MODEL_TYPE}}] AS model_type,
    SpanAttributes[{{attr:GEN_AI_PROVIDER_NAME}}] AS provider,
    SpanAttributes[{{attr:GEN_AI_OPERATION_NAME}}] AS operation,
    SpanAttributes[{{attr:AUDIT_DECISION_TYPE}}] AS decision_type,
    SpanAttributes[{{attr:AUDIT_DECISION_OUTCOME}}] AS outcome,
    toFloat64OrNull(SpanAttributes[{{attr:AUDIT_DECISION_CONFIDENCE}}]) AS confidence,
    SpanAttributes[{{attr:AUDIT_INPUT_HASH}}] != '' AS has_input_hash,
    SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}] != '' AS has_output_hash,
    if(SpanAttributes[{{attr:AUDIT_INPUT_HASH}}] = '', 0, cityHash64(SpanAttributes[{{attr:AUDIT_INPUT_HASH}}])) AS input_fingerprint,
    SpanAttributes[{{attr:AUDIT_SUBJECT_ID}}] AS subject_id,
    if(SpanAttributes[{{attr:AUDIT_ACTOR_ID}}] != '', SpanAttributes[{{attr:AUDIT_ACTOR_ID}}],
       SpanAttributes[{{attr:USER_ID}}]) AS actor_id,
    SpanAttributes[{{attr:SESSION_ID}}] AS session_id,
    SpanAttributes[{{attr:AUDIT_FAIRNESS_GROUP}}] AS fairness_group,
    SpanAttributes[{{attr:AUDIT_DECISION_RISK_LEVEL}}] AS risk_level,
    SpanAttributes[{{attr:AUDIT_DECISION_PURPOSE}}] AS purpose,
    SpanAttributes[{{attr:AUDIT_DECISION_AUTOMATION}}] AS automation,
    StatusCode AS status_code,
    SpanAttributes[{{attr:ERROR_TYPE}}] AS error_type,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) AS integrity_seq
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
