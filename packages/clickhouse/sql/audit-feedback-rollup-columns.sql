{{include:audit-rollup-decision-hour.sql}} AS hour,
    model_id, model_version, retention_class,
    uniqExactIfState(cityHash64(decision_id), correct IS NOT NULL) AS labelled,
    countIf(correct IS NOT NULL) AS labels,
    countIf(ifNull(correct, false)) AS correct_labels
