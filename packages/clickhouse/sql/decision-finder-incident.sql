-- The incident filter of `decisiontrail decisions` (src/decision-finder.ts): the decisions an incident affected —
-- the ones it names, and those of its model (and version, '' for any) in its window.
(has({incident_ids:Array(String)}, decision_id)
    OR ({incident_model:String} != ''
        AND time >= fromUnixTimestamp64Milli({incident_from_ms:Int64})
        AND time < fromUnixTimestamp64Milli({incident_to_ms:Int64})
        AND model_id = {incident_model:String}
        AND ({incident_version:String} = '' OR model_version = {incident_version:String})))
