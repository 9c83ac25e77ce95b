-- The period report's exact confidence median and 90th percentile (its `exact` path).
SELECT if(count() = 0, NULL, quantileExact(0.5)(assumeNotNull(confidence))) AS p50,
    if(count() = 0, NULL, quantileExact(0.9)(assumeNotNull(confidence))) AS p90
FROM {{read:audit_decisions}} FINAL
WHERE {{include:decision-filter.sql}} AND confidence IS NOT NULL
