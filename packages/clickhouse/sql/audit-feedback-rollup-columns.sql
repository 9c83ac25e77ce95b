{{include:audit-rollup-decision-hour.sql}} AS hour,
    model_id, model_version, retention_class,
    uniqExactIfState(decision_id, correct IS NOT NULL) AS labelled,
    uniqExactIfState(decision_id, ifNull(correct, false)) AS with_correct,
    uniqExactIfState(decision_id, NOT ifNull(correct, true)) AS with_incorrect
