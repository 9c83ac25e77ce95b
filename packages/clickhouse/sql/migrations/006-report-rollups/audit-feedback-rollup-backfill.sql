-- Fills the rollup from feedback stored before it existed that already carries the model (a no-op
-- right after the columns were added). Rows rolled up twice change no count: the set is distinct,
-- and the doubled label counts send those hours to the report's exact path.
INSERT INTO {{read:audit_feedback_stats}}
SELECT
    toDateTime(intDiv(toUnixTimestamp(UUIDv7ToDateTime(toUUIDOrZero(decision_id))), 3600) * 3600) AS hour,
    model_id, model_version, retention_class,
    uniqExactIfState(cityHash64(decision_id), correct IS NOT NULL) AS labelled,
    countIf(correct IS NOT NULL) AS labels,
    countIf(ifNull(correct, false)) AS correct_labels
FROM {{read:audit_feedback}} FINAL
WHERE model_id != '' AND match(decision_id, '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$')
GROUP BY hour, model_id, model_version, retention_class
