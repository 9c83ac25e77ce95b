-- The hourly decision rollup as migration 5 fills it, counting the decisions with an input and output hash by flag.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decision_stats_mv}} {{cluster}}
TO {{table:audit_decision_stats}}
AS SELECT
    toStartOfHour(time) AS hour,
    model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream,
    toInt8(if(confidence IS NULL, -1, least(greatest(toInt64(floor(assumeNotNull(confidence) * 10)), 0), 9))) AS bucket,
    any(model_type) AS model_type,
    any(provider) AS provider,
    count() AS decisions,
    countIf(status_code IN ('STATUS_CODE_ERROR', 'Error')) AS failed,
    countIf(has_input_hash) AS with_input_hash,
    countIf(has_output_hash) AS with_output_hash,
    countIf(subject_id != '') AS with_subject,
    sum(ifNull(confidence, 0)) AS confidence_sum,
    min(time) AS first_time,
    max(time) AS last_time,
    quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS confidence_quantiles
FROM {{source:audit_decisions}}
GROUP BY hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
