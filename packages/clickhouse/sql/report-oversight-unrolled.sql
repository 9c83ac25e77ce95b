-- Decisions of the whole hours (by their own time, as the join path counts them) that have
-- oversight the rollup does not hold: all their records are read, and what the rollup already
-- counted of them is taken out again, so a decision with records of both kinds counts once.
SELECT toString(countIf(NOT rolled)) AS reviewed,
    toString(countIf(overridden AND NOT overridden_rolled)) AS overridden,
    sumMap(unrolled_actions) AS byAction
FROM (
    SELECT decision_id, countIf({{include:report-rolled-here.sql}}) > 0 AS rolled,
        countIf(action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}) > 0 AS overridden,
        countIf({{include:report-rolled-here.sql}}
            AND action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}) > 0 AS overridden_rolled,
        sumMapIf(map(action, toUInt64(1)), NOT {{include:report-rolled-here.sql}}) AS unrolled_actions
    FROM {{read:audit_oversight}} FINAL
    WHERE decision_id IN (
        SELECT decision_id FROM {{read:audit_decisions}} FINAL
        WHERE decision_id IN (SELECT decision_id FROM {{read:audit_oversight}} WHERE NOT rolled_up)
            AND {{include:decision-filter.sql}})
    GROUP BY decision_id)
