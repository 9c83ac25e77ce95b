-- Which decisions `decisiontrail decisions` finds (src/decision-finder.ts), over audit_decisions or
-- audit_decisions_by_confidence (which has every column named here): the period, model, version and service
-- (decision-filter.sql), then each optional filter; a filter that is not given folds to true. The subject is
-- decision-finder-subject.sql (audit_decisions only), the override decision-finder-overridden.sql. Bound: see
-- DecisionSearch.
{{include:decision-filter.sql}}
    AND (NOT {by_outcome:Bool} OR outcome = {outcome:String})
    AND (NOT {by_group:Bool} OR fairness_group = {fairness_group:String})
    AND (NOT {by_min_confidence:Bool} OR confidence >= {min_confidence:Float64})
    AND (NOT {by_max_confidence:Bool} OR confidence <= {max_confidence:Float64})
    -- The same bounds on the confidence order's key (implied by the two above): a primary-key range of
    -- audit_decisions_by_confidence.
    AND (NOT {by_min_confidence:Bool} OR ifNull(confidence, -1) >= {min_confidence:Float64})
    AND (NOT {by_max_confidence:Bool} OR ifNull(confidence, -1) <= {max_confidence:Float64})
    -- Affected by an incident: the decisions it names, and those of its model (and version, '' for
    -- any) in its window.
    AND (NOT {by_incident:Bool} OR has({incident_ids:Array(String)}, decision_id)
        OR ({incident_model:String} != ''
            AND time >= fromUnixTimestamp64Milli({incident_from_ms:Int64})
            AND time < fromUnixTimestamp64Milli({incident_to_ms:Int64})
            AND model_id = {incident_model:String}
            AND ({incident_version:String} = '' OR model_version = {incident_version:String})))
    AND (NOT {by_integrity:Bool} OR {{include:decision-integrity-status.sql}} = {integrity:String})
