-- Fills the rollup from decisions stored before it existed (a no-op on a new store). Through the
-- Distributed tables on a cluster, so every shard is read and written.
INSERT INTO {{read:audit_decision_stats}}
SELECT
    {{include:audit-decision-stats-columns.sql}}
FROM {{read:audit_decisions}} FINAL
GROUP BY hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class,
    fairness_group, integrity_stream, bucket
