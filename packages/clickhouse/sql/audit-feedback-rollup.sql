-- Hourly rollup of ground-truth feedback by the hour of the decision it refers to (read from the
-- decision's UUIDv7 id) and the decided model, so the period report computes accuracy without
-- joining feedback to the period's decisions. Only rows that carry the model and a canonical UUIDv7
-- id (audit-rollup-eligible.sql) are rolled up; the report joins the others as before. Exact
-- distinct sets of decision ids: a span delivered twice counts once, and a decision labelled both
-- correct and incorrect shows up as an overlap, which the report resolves from audit_feedback.
CREATE TABLE IF NOT EXISTS {{table:audit_feedback_stats}} {{cluster}} (
    hour DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    retention_class LowCardinality(String),
    -- Decision ids with a correct or incorrect label.
    labelled AggregateFunction(uniqExact, String),
    -- Decision ids with at least one label saying correct, and incorrect.
    with_correct AggregateFunction(uniqExact, String),
    with_incorrect AggregateFunction(uniqExact, String)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(hour))
ORDER BY (model_id, model_version, hour, retention_class)
{{ttl:audit_feedback_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
