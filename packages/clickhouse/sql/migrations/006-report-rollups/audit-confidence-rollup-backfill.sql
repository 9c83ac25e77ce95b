-- Fills the digests of both widths from decisions stored before they existed (a no-op on a new store).
INSERT INTO {{read:audit_confidence_stats}}
SELECT
    width_s,
    toDateTime(intDiv(toUnixTimestamp(time), width_s) * width_s) AS start,
    model_id, model_version, service, retention_class,
    quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS confidence_quantiles
FROM {{read:audit_decisions}} FINAL
ARRAY JOIN [toUInt32(3600), toUInt32(86400)] AS width_s
GROUP BY width_s, start, model_id, model_version, service, retention_class
