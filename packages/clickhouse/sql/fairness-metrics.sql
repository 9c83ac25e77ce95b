-- Per fairness group, the counts behind selection rate, accuracy, error rate, TPR and FPR
-- (src/fairness-metrics.ts) of the decisions a filter selects (decision-filter.sql). A decision's
-- ground truth is its latest label: the actual outcome it names, or — for a label that only says
-- correct or not — the predicted outcome if correct, else "not it" (the binary reading).
SELECT
    fairness_group AS fairnessGroup,
    toString(count()) AS decisions,
    toString(countIf(predicted_positive)) AS selected,
    toString(countIf(is_labelled)) AS labelled,
    toString(countIf(is_labelled AND is_correct)) AS correct,
    toString(countIf(is_labelled AND actual_positive)) AS actualPositives,
    toString(countIf(is_labelled AND actual_positive AND predicted_positive)) AS truePositives,
    toString(countIf(is_labelled AND NOT actual_positive)) AS actualNegatives,
    toString(countIf(is_labelled AND NOT actual_positive AND predicted_positive)) AS falsePositives
FROM (
    SELECT
        d.fairness_group AS fairness_group,
        d.outcome = {positive:String} AS predicted_positive,
        f.labelled = 1 AS is_labelled,
        f.latest_correct AS is_correct,
        if(f.latest_actual != '', f.latest_actual = {positive:String},
            if(f.latest_correct, predicted_positive, NOT predicted_positive)) AS actual_positive
    FROM (
        SELECT decision_id, fairness_group, outcome FROM {{read:audit_decisions}} FINAL
        WHERE {{include:decision-filter.sql}} AND fairness_group != ''
    ) AS d
    LEFT JOIN (
        SELECT decision_id, toUInt8(1) AS labelled, ifNull(argMax(correct, time), false) AS latest_correct,
            argMax(actual_outcome, time) AS latest_actual
        FROM {{read:audit_feedback}} FINAL
        WHERE correct IS NOT NULL AND decision_id IN (
            SELECT decision_id FROM {{read:audit_decisions}} FINAL
            WHERE {{include:decision-filter.sql}} AND fairness_group != '')
        GROUP BY decision_id
    ) AS f USING (decision_id)
)
GROUP BY fairnessGroup
ORDER BY fairnessGroup
