{{include:audit-rollup-decision-hour.sql}} AS hour,
    model_id, model_version, action, retention_class,
    uniqExactState(cityHash64(decision_id)) AS decisions,
    uniqExactState(cityHash64(decision_id, span_id)) AS records
