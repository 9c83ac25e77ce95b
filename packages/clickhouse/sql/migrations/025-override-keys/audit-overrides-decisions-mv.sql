-- A decision stored: for each override row its id already has (pending, or decided from another copy), the row
-- again with this copy's columns, at the same key. Only the inserted decisions' ids are looked up, by primary key.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_overrides_decisions_mv}} {{cluster}}
TO {{table:audit_overrides}}
AS SELECT o.decision_id AS decision_id, o.span_id AS span_id, o.record_time AS record_time,
    o.retention_class AS retention_class, o.integrity_stream AS integrity_stream,
    true AS decided, ifNull(d.confidence, -1) AS confidence_key, d.time AS time, d.service AS service,
    d.model_id AS model_id, d.model_version AS model_version
FROM {{source:audit_decisions}} AS d
INNER JOIN (
    SELECT DISTINCT decision_id, span_id, record_time, retention_class, integrity_stream
    FROM {{read:audit_overrides}}
    WHERE decision_id IN (SELECT decision_id FROM {{source:audit_decisions}})
) AS o ON o.decision_id = d.decision_id
