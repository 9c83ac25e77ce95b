-- What the store shows about each model's processing (GDPR Art. 30 record, src/processing-activities.ts):
-- its versions, purposes, services, decision types and automation, how many decisions name a data
-- subject, a fairness group or an actor, carry an input or output hash, and their retention classes.
SELECT
    model_id AS modelId,
    arraySort(groupUniqArray(model_version)) AS versions,
    arraySort(groupUniqArrayIf(purpose, purpose != '')) AS purposes,
    arraySort(groupUniqArray(service)) AS services,
    arraySort(groupUniqArrayIf(model_type, model_type != '')) AS modelTypes,
    arraySort(groupUniqArrayIf(provider, provider != '')) AS providers,
    arraySort(groupUniqArrayIf(decision_type, decision_type != '')) AS decisionTypes,
    arraySort(groupUniqArrayIf(automation, automation != '')) AS automation,
    arraySort(groupUniqArrayIf(risk_level, risk_level != '')) AS riskLevels,
    toString(count()) AS decisions,
    toString(countIf(subject_id != '')) AS withSubject,
    toString(countIf(fairness_group != '')) AS withFairnessGroup,
    toString(countIf(actor_id != '')) AS withActor,
    toString(countIf(has_input_hash)) AS withInputHash,
    toString(countIf(has_output_hash)) AS withOutputHash,
    CAST(sumMap(map(retention_class, toUInt64(1))), 'Map(String, String)') AS byRetentionClass,
    toString(toUnixTimestamp64Milli(min(time))) AS firstMs,
    toString(toUnixTimestamp64Milli(max(time))) AS lastMs
FROM {{read:audit_decisions}} FINAL
WHERE time >= fromUnixTimestamp64Milli({from_ms:Int64}) AND time < fromUnixTimestamp64Milli({to_ms:Int64})
GROUP BY model_id
ORDER BY model_id
