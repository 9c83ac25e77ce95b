-- The timeline row of a decision, read from audit_decisions, for the store's two-statement timeline
-- (src/decision-timeline.ts); the decision_timeline view's migration holds it as released, and
-- queries.test.ts checks the view and the store give the same rows.
'decision' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, span_name AS name,
    service, status_code, toUInt64(0) AS duration_ns,
    map('model_id', model_id, 'model_version', model_version, 'model_type', model_type,
        'provider', provider, 'operation', operation, 'decision_type', decision_type, 'outcome', outcome,
        'confidence', ifNull(toString(confidence), ''), 'input_hash', input_hash, 'output_hash', output_hash,
        'subject_id', subject_id, 'actor_id', actor_id, 'session_id', session_id,
        'fairness_group', fairness_group, 'risk_level', risk_level, 'purpose', purpose,
        'automation', automation, 'error_type', error_type, 'retention_class', retention_class,
        'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
