CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decision_stats_mv}} {{cluster}}
TO {{table:audit_decision_stats}}
AS SELECT
    {{include:audit-decision-stats-columns.sql}}
FROM {{table:audit_decisions}}
GROUP BY hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
