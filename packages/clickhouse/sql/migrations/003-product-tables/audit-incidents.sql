-- Incidents are written by the product (CLI `incident`). Every change is a new row with a higher
-- version; ReplacingMergeTree(version, deleted) keeps the latest and hides deleted ones under FINAL.
-- No TTL: incidents are kept (retention class `incident`, never by default).
CREATE TABLE IF NOT EXISTS {{table:audit_incidents}} {{cluster}} (
    incident_id String CODEC(ZSTD(1)),
    version UInt64,
    deleted UInt8,
    created_at DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    updated_at DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    title String CODEC(ZSTD(1)),
    description String CODEC(ZSTD(1)),
    severity LowCardinality(String) CODEC(ZSTD(1)),
    category LowCardinality(String) CODEC(ZSTD(1)),
    status LowCardinality(String) CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    decision_ids Array(String) CODEC(ZSTD(1)),
    occurred_at DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    window_from Nullable(DateTime64(3)),
    window_to Nullable(DateTime64(3)),
    report_deadline DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    reported_at Nullable(DateTime64(3)),
    updated_by String CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree(version, deleted)}}
ORDER BY incident_id
SETTINGS index_granularity = 8192
