-- An override stored: its row, with the decision's columns when audit_decisions holds the decision (its final
-- copy), else pending. Only the inserted records' decisions are read, by primary key.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_overrides_oversight_mv}} {{cluster}}
TO {{table:audit_overrides}}
AS SELECT o.decision_id AS decision_id, o.span_id AS span_id, o.time AS record_time,
    o.retention_class AS retention_class, o.integrity_stream AS integrity_stream,
    d.decision_id != '' AS decided, if(decided, ifNull(d.confidence, -1), 0) AS confidence_key, d.time AS time,
    if(decided, d.service, o.service) AS service, d.model_id AS model_id, d.model_version AS model_version
FROM {{source:audit_oversight}} AS o
LEFT JOIN (
    SELECT decision_id, confidence, time, service, model_id, model_version
    FROM {{read:audit_decisions}} FINAL
    WHERE decision_id IN (
        SELECT decision_id FROM {{source:audit_oversight}}
        WHERE action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}})
) AS d ON d.decision_id = o.decision_id
WHERE o.action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}
SETTINGS join_use_nulls = 0
