-- Every stored row, every copy (the table merges copies as audit_decisions does; readers use FINAL).
INSERT INTO {{table:audit_decisions_rebuilt}} (decision_id, time, trace_id, span_id, service, span_name, model_id,
    model_version, model_type, provider, operation, decision_type, outcome, confidence, has_input_hash,
    has_output_hash, input_fingerprint, subject_id, actor_id, session_id, fairness_group, risk_level, purpose,
    automation, status_code, error_type, retention_class, integrity_stream, integrity_seq)
SELECT decision_id, time, trace_id, span_id, service, span_name, model_id, model_version, model_type, provider,
    operation, decision_type, outcome, confidence, has_input_hash, has_output_hash, input_fingerprint, subject_id,
    actor_id, session_id, fairness_group, risk_level, purpose, automation, status_code, error_type, retention_class,
    integrity_stream, integrity_seq
FROM {{table:audit_decisions}}
