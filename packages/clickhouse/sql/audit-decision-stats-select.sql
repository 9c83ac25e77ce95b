SELECT
    {{include:audit-decision-stats-columns.sql}}
FROM {{source:audit_decisions}}
GROUP BY hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
