CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decisions_by_confidence_mv}} {{cluster}}
TO {{table:audit_decisions_by_confidence}}
AS SELECT ifNull(confidence, -1) AS confidence_key, decision_id, confidence, time, service, model_id, model_version,
    outcome, fairness_group, retention_class, integrity_stream, integrity_seq
FROM {{source:audit_decisions}}
