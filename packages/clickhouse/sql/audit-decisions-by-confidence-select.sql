SELECT ifNull(confidence, -1) AS confidence_key, decision_id, confidence, time, service, model_id, model_version,
    outcome, fairness_group, retention_class, integrity_stream, integrity_seq
FROM {{source:audit_decisions}}
