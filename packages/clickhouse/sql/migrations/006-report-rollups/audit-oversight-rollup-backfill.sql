-- Fills the rollup from oversight stored before it existed that already carries the model (a no-op
-- right after the columns were added). Rows rolled up twice change nothing: the sets are distinct.
INSERT INTO {{read:audit_oversight_stats}}
SELECT
    toDateTime(intDiv(toUnixTimestamp(UUIDv7ToDateTime(toUUIDOrZero(decision_id))), 3600) * 3600) AS hour,
    model_id, model_version, action, retention_class,
    uniqExactState(cityHash64(decision_id)) AS decisions,
    uniqExactState(cityHash64(decision_id, span_id)) AS records
FROM {{read:audit_oversight}} FINAL
WHERE model_id != '' AND match(decision_id, '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$')
GROUP BY hour, model_id, model_version, action, retention_class
