-- Fills the rollup from decisions stored before it existed (a no-op on a new store). Through the
-- Distributed tables on a cluster, so every shard is read and written.
INSERT INTO {{read:audit_decision_stats}}
SELECT
    toStartOfHour(time) AS hour,
    model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream,
    toInt8(if(confidence IS NULL, -1, least(greatest(toInt64(floor(assumeNotNull(confidence) * 10)), 0), 9))) AS bucket,
    any(model_type) AS model_type,
    any(provider) AS provider,
    count() AS decisions,
    countIf(status_code IN ('STATUS_CODE_ERROR', 'Error')) AS failed,
    countIf(input_hash != '') AS with_input_hash,
    countIf(output_hash != '') AS with_output_hash,
    countIf(subject_id != '') AS with_subject,
    sum(ifNull(confidence, 0)) AS confidence_sum,
    min(time) AS first_time,
    max(time) AS last_time,
    quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS confidence_quantiles
FROM {{read:audit_decisions}} FINAL
GROUP BY hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
