-- Fills the table from the decisions stored before it existed (a no-op on a new store). Through the
-- Distributed tables on a cluster, so every shard is read and written.
INSERT INTO {{read:audit_decisions_by_confidence}}
SELECT confidence, decision_id, time, service, model_id, model_version, outcome, fairness_group,
    retention_class, integrity_stream, integrity_seq
FROM {{read:audit_decisions}}
