-- The report's decision cells (report-cells.sql) from the hourly rollup, for the whole hours
-- [h_from_s, h_to_s) but {dup_hours}.
SELECT model_id, model_version, any(model_type) AS model_type, any(provider) AS provider, outcome, risk_level,
    decision_type, automation, retention_class, fairness_group, integrity_stream, toInt32(bucket) AS bucket,
    sum(decisions) AS n, sum(failed) AS failed, sum(with_input_hash) AS with_input_hash,
    sum(with_output_hash) AS with_output_hash, sum(with_subject) AS with_subject,
    sum(confidence_sum) AS confidence_sum,
    toString(toUnixTimestamp64Nano(min(first_time))) AS first_ns,
    toString(toUnixTimestamp64Nano(max(last_time))) AS last_ns
FROM {{read:audit_decision_stats}}
WHERE {{include:report-rollup-hours.sql}}
    AND {{include:service-filter.sql}}
    AND NOT has({dup_hours:Array(UInt32)}, toUnixTimestamp(hour))
GROUP BY model_id, model_version, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
