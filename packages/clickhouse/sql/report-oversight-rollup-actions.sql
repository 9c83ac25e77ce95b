-- Oversight records per action of the report's whole hours from the oversight rollup.
SELECT action, toString(sum(n)) AS n FROM (
    SELECT action, uniqExactMerge(records) AS n FROM {{read:audit_oversight_stats}}
    WHERE {{include:report-rollup-hours.sql}}
    GROUP BY model_id, model_version, hour, action)
GROUP BY action
