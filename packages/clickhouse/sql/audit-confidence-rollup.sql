-- Confidence quantile digests per hour, model, version and service: the period report merges a few
-- thousand of these instead of one per cell of audit_decision_stats (which holds a digest for every
-- outcome, group and confidence bin, hundreds of thousands over a quarter). Same t-digest, same
-- decisions as audit_decision_stats, fed from audit_decisions by a materialized view.
CREATE TABLE IF NOT EXISTS {{table:audit_confidence_stats}} {{cluster}} (
    hour DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    service LowCardinality(String),
    retention_class LowCardinality(String),
    confidence_quantiles AggregateFunction(quantilesTDigest(0.5, 0.9), Float64)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(hour))
ORDER BY (model_id, model_version, hour, service, retention_class)
{{ttl:audit_confidence_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
