-- sql/audit-deployments-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_deployments_mv}} {{cluster}}
TO {{table:audit_deployments}}
AS SELECT
    Timestamp AS time,
    SpanAttributes[{{attr:AUDIT_DEPLOYMENT_ID}}] AS deployment_id,
    SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS model_id,
    SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version,
    SpanAttributes[{{attr:AUDIT_DEPLOYMENT_PREVIOUS_VERSION}}] AS previous_version,
    SpanAttributes[{{attr:AUDIT_DEPLOYMENT_ENVIRONMENT}}] AS environment,
    SpanAttributes[{{attr:AUDIT_DEPLOYMENT_CHANGELOG}}] AS changelog,
    SpanAttributes[{{attr:AUDIT_MODEL_WEIGHTS_HASH}}] AS weights_hash,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) AS integrity_seq
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DEPLOYMENT}}
