-- Deployments of the report's model (every version) up to the end of the period.
SELECT deployment_id AS deploymentId, model_id AS modelId, model_version AS modelVersion,
    previous_version AS previousVersion, environment, weights_hash AS weightsHash,
    toString(toUnixTimestamp64Nano(time)) AS timeUnixNano
FROM {{read:audit_deployments}} FINAL
WHERE time < fromUnixTimestamp64Milli({to_ms:Int64})
    AND {{include:model-id-filter.sql}}
ORDER BY model_id, time
