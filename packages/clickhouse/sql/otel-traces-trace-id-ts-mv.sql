CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:otel_traces_trace_id_ts_mv}} {{cluster}}
TO {{table:otel_traces_trace_id_ts}}
AS {{include:otel-traces-trace-id-ts-select.sql}}
