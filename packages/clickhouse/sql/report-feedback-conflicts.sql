-- Rollup cells with a decision labelled more than once (or a label delivered twice): each
-- decision's latest label, read from audit_feedback over the decision id range of those hours
-- (UUIDv7 ids sort by time).
SELECT toString(countIf(latest)) AS correct FROM (
    SELECT decision_id, ifNull(argMax(correct, time), false) AS latest
    FROM {{read:audit_feedback}} FINAL
    WHERE decision_id >= {id_from:String} AND decision_id < {id_to:String}
        AND correct IS NOT NULL AND {{include:report-rolled-here.sql}}
        AND has({cells:Array(String)},
            toString(tuple(model_id, model_version, toUnixTimestamp({{include:audit-rollup-decision-hour.sql}}))))
    GROUP BY decision_id)
