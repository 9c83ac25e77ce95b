-- Hourly rollup of ground-truth feedback by the hour of the decision it refers to (read from the
-- decision's UUIDv7 id) and the decided model, so the period report computes accuracy without
-- joining feedback to the period's decisions. Only rows that carry the model and a canonical UUIDv7
-- id (audit-rollup-eligible.sql) are rolled up; the report joins the others as before. `labelled`
-- is a distinct set of the decision ids' 64-bit hashes (as in audit_oversight_stats); where an hour holds more labels than labelled
-- decisions (a decision labelled twice, or a span delivered twice), the report takes each
-- decision's latest label from audit_feedback instead of `correct_labels`.
CREATE TABLE IF NOT EXISTS {{table:audit_feedback_stats}} {{cluster}} (
    hour DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    retention_class LowCardinality(String),
    labelled AggregateFunction(uniqExact, UInt64),
    labels SimpleAggregateFunction(sum, UInt64),
    correct_labels SimpleAggregateFunction(sum, UInt64)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(hour))
ORDER BY (model_id, model_version, hour, retention_class)
{{ttl:audit_feedback_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
