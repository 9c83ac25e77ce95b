-- Hourly rollup of human oversight by the hour of the decision it refers to (read from the
-- decision's UUIDv7 id) and the decided model, so the period report counts oversight without
-- joining it to the period's decisions. Only rows that carry the model and a canonical UUIDv7 id
-- (audit-rollup-eligible.sql) are rolled up; the report joins the others as before. Decisions and
-- records are kept as distinct sets of their 64-bit hashes (half the size and merge time of string
-- sets; a collision needs two of the same hour's thousands of ids to agree in 64 bits), so a span
-- delivered twice counts once, as with FINAL.
CREATE TABLE IF NOT EXISTS {{table:audit_oversight_stats}} {{cluster}} (
    hour DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    action LowCardinality(String),
    retention_class LowCardinality(String),
    -- Decision ids with at least one record of this action.
    decisions AggregateFunction(uniqExact, UInt64),
    -- Oversight records (decision id, span id: the audit table's key) of this action.
    records AggregateFunction(uniqExact, UInt64)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(hour))
ORDER BY (model_id, model_version, hour, action, retention_class)
{{ttl:audit_oversight_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
