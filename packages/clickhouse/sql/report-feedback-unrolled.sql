-- As report-oversight-unrolled.sql for feedback: decisions with labels the rollup does not hold,
-- their latest label over all rows, and what the rollup counted of them (its latest label among
-- its rows).
SELECT toString(count()) AS labelled, toString(countIf(latest)) AS correct,
    toString(countIf(rolled)) AS labelledRolled, toString(countIf(rolled AND latest_rolled)) AS correctRolled
FROM (
    SELECT decision_id, ifNull(argMax(correct, time), false) AS latest,
        countIf({{include:report-rolled-here.sql}}) > 0 AS rolled,
        ifNull(argMaxIf(correct, time, {{include:report-rolled-here.sql}}), false) AS latest_rolled
    FROM {{read:audit_feedback}} FINAL
    WHERE correct IS NOT NULL AND decision_id IN (
        SELECT decision_id FROM {{read:audit_decisions}} FINAL
        WHERE decision_id IN (
                SELECT decision_id FROM {{read:audit_feedback}} WHERE NOT rolled_up AND correct IS NOT NULL)
            AND {{include:decision-filter.sql}})
    GROUP BY decision_id)
