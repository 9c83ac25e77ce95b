-- Confidence quantile digests per model, version and service, for every hour and for every day
-- (UTC, whatever the server's time zone): the period report merges whole days, the hours around
-- them and the partial hours at the edges — a few hundred t-digest states for a quarter instead of
-- one per cell of audit_decision_stats (hundreds of thousands). Same t-digest and same decisions as
-- audit_decision_stats, fed from audit_decisions by two materialized views (one per width).
CREATE TABLE IF NOT EXISTS {{table:audit_confidence_stats}} {{cluster}} (
    width_s UInt32,
    start DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    service LowCardinality(String),
    retention_class LowCardinality(String),
    confidence_quantiles AggregateFunction(quantilesTDigest(0.5, 0.9), Float64)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(start))
ORDER BY (model_id, model_version, width_s, start, service, retention_class)
{{ttl:audit_confidence_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
