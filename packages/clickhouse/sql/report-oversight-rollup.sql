-- Reviewed and overridden decisions of the report's whole hours from the oversight rollup. Cells are
-- distinct sets of (64-bit hashes of) decision ids per (model, version, hour): decisions of
-- different hours are different, so per-hour counts add up, and a span delivered twice counts once.
SELECT toString(sum(reviewed)) AS reviewed, toString(sum(overridden)) AS overridden FROM (
    SELECT uniqExactMerge(decisions) AS reviewed,
        uniqExactMergeIf(decisions, action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}) AS overridden
    FROM {{read:audit_oversight_stats}} WHERE {{include:report-rollup-hours.sql}}
    GROUP BY model_id, model_version, hour)
