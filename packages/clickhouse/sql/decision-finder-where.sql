-- Which decisions `decisiontrail decisions` finds (src/decision-finder.ts), over audit_decisions:
-- the period, model, version and service (decision-filter.sql), then each optional filter; a filter
-- that is not given folds to true. Bound: see DecisionSearch.
{{include:decision-filter.sql}}
    AND (NOT {by_outcome:Bool} OR outcome = {outcome:String})
    AND (NOT {by_subject:Bool} OR subject_id = {subject_id:String})
    AND (NOT {by_group:Bool} OR fairness_group = {fairness_group:String})
    AND (NOT {by_min_confidence:Bool} OR confidence >= {min_confidence:Float64})
    AND (NOT {by_max_confidence:Bool} OR confidence <= {max_confidence:Float64})
    -- Overridden: at least one oversight record with action override (from any trace, any time).
    AND (NOT {by_overridden:Bool} OR (decision_id IN (
        SELECT decision_id FROM {{read:audit_oversight}} FINAL
        WHERE action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}
          -- Read a window of time at a time (src/decision-finder.ts), only the window's decisions are looked
          -- up (by primary key) instead of every override stored.
          AND (NOT {windowed:Bool} OR decision_id IN (
            SELECT decision_id FROM {{read:audit_decisions}}
            WHERE time >= fromUnixTimestamp64Nano({window_from_ns:Int64})
              AND time < fromUnixTimestamp64Nano({window_to_ns:Int64}))))) = {overridden:Bool})
    -- Affected by an incident: the decisions it names, and those of its model (and version, '' for
    -- any) in its window.
    AND (NOT {by_incident:Bool} OR has({incident_ids:Array(String)}, decision_id)
        OR ({incident_model:String} != ''
            AND time >= fromUnixTimestamp64Milli({incident_from_ms:Int64})
            AND time < fromUnixTimestamp64Milli({incident_to_ms:Int64})
            AND model_id = {incident_model:String}
            AND ({incident_version:String} = '' OR model_version = {incident_version:String})))
    AND (NOT {by_integrity:Bool} OR {{include:decision-integrity-status.sql}} = {integrity:String})
