-- The period report's decision cells (src/period-report.ts): one scan of the period's decisions
-- at the finest grain the report needs; every total, breakdown, histogram and fairness figure is
-- summed up from these cells instead of scanning again. {only_dup_hours} narrows the scan to the
-- hours {dup_hours} (unix seconds) whose rollup cells cannot be used (report-duplicated-hours.sql).
-- The confidence bins are those of the hourly rollup (audit-decision-stats-columns.sql): ten.
SELECT model_id, model_version, any(model_type) AS model_type, any(provider) AS provider, outcome, risk_level,
    decision_type, automation, retention_class, fairness_group, integrity_stream,
    toInt32(if(confidence IS NULL, -1,
        least(greatest(toInt64(floor(assumeNotNull(confidence) * 10)), 0), 9))) AS bucket,
    count() AS n,
    countIf(status_code IN ('STATUS_CODE_ERROR', 'Error')) AS failed,
    countIf(has_input_hash) AS with_input_hash,
    countIf(has_output_hash) AS with_output_hash,
    countIf(subject_id != '') AS with_subject,
    sum(ifNull(confidence, 0)) AS confidence_sum,
    toString(toUnixTimestamp64Nano(min(time))) AS first_ns,
    toString(toUnixTimestamp64Nano(max(time))) AS last_ns
FROM {{read:audit_decisions}} FINAL
WHERE {{include:decision-filter.sql}}
    AND (NOT {only_dup_hours:Bool} OR has({dup_hours:Array(UInt32)}, toUnixTimestamp(toStartOfHour(time))))
GROUP BY model_id, model_version, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
