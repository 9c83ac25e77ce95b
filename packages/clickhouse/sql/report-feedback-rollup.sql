-- Per feedback rollup cell of the report's whole hours: labelled decisions, labels and correct
-- labels. Where every labelled decision has one label the correct labels are the answer; the other
-- cells are resolved from audit_feedback (report-feedback-conflicts.sql).
SELECT toString(sum(l)) AS labelled, toString(sumIf(c, n = l)) AS correct,
    groupArrayIf(toString(tuple(model_id, model_version, toUnixTimestamp(hour))), n != l) AS conflictCells,
    toString(minIf(toUnixTimestamp(hour), n != l)) AS conflictFrom,
    toString(maxIf(toUnixTimestamp(hour), n != l)) AS conflictTo
FROM (
    SELECT model_id, model_version, hour, uniqExactMerge(labelled) AS l, sum(labels) AS n,
        sum(correct_labels) AS c
    FROM {{read:audit_feedback_stats}} WHERE {{include:report-rollup-hours.sql}}
    GROUP BY model_id, model_version, hour)
