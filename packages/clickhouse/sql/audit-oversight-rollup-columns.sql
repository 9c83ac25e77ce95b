{{include:audit-rollup-decision-hour.sql}} AS hour,
    model_id, model_version, action, retention_class,
    uniqExactState(decision_id) AS decisions,
    uniqExactState(decision_id, span_id) AS records
