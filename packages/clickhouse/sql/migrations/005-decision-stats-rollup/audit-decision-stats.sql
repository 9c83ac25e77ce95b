-- Hourly rollup of decisions at the grain the period report needs (model, version, service and
-- every breakdown the report shows, plus a confidence bin), so a report over millions of decisions
-- reads thousands of rows. Fed from audit_decisions by a materialized view. A decision delivered
-- twice in different batches (which the sink's insert token cannot catch) is counted twice here;
-- `periodReport(filter, { exact: true })` reads audit_decisions with FINAL instead.
CREATE TABLE IF NOT EXISTS {{table:audit_decision_stats}} {{cluster}} (
    hour DateTime CODEC(Delta(4), ZSTD(1)),
    model_id LowCardinality(String),
    model_version LowCardinality(String),
    service LowCardinality(String),
    outcome LowCardinality(String),
    risk_level LowCardinality(String),
    decision_type LowCardinality(String),
    automation LowCardinality(String),
    retention_class LowCardinality(String),
    fairness_group LowCardinality(String),
    integrity_stream LowCardinality(String),
    bucket Int8,
    model_type SimpleAggregateFunction(any, LowCardinality(String)),
    provider SimpleAggregateFunction(any, LowCardinality(String)),
    decisions SimpleAggregateFunction(sum, UInt64),
    failed SimpleAggregateFunction(sum, UInt64),
    with_input_hash SimpleAggregateFunction(sum, UInt64),
    with_output_hash SimpleAggregateFunction(sum, UInt64),
    with_subject SimpleAggregateFunction(sum, UInt64),
    confidence_sum SimpleAggregateFunction(sum, Float64),
    first_time SimpleAggregateFunction(min, DateTime64(9)),
    last_time SimpleAggregateFunction(max, DateTime64(9)),
    confidence_quantiles AggregateFunction(quantilesTDigest(0.5, 0.9), Float64)
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(hour))
ORDER BY (model_id, model_version, hour, service, outcome, risk_level, decision_type, automation,
          retention_class, fairness_group, integrity_stream, bucket)
{{ttl:audit_decision_stats}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
