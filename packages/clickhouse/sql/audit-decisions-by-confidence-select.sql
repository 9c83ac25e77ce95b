SELECT ifNull(confidence, -1) AS confidence_key, decision_id, confidence, time, trace_id, span_id, service, model_id,
    model_version, model_type, provider, operation, decision_type, outcome, subject_id, actor_id, session_id,
    fairness_group, risk_level, purpose, automation, status_code, error_type, retention_class, integrity_stream,
    integrity_seq
FROM {{source:audit_decisions}}
