-- Fills the table from the decisions stored before (a no-op on a new store). Through the Distributed tables on a
-- cluster, so every shard is read and written.
INSERT INTO {{read:audit_decisions_by_confidence}}
SELECT ifNull(confidence, -1) AS confidence_key, decision_id, confidence, time, service, model_id, model_version,
    outcome, fairness_group, retention_class, integrity_stream, integrity_seq
FROM {{read:audit_decisions}}
