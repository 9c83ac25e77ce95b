-- Fills the digests from decisions stored before they existed (a no-op on a new store).
INSERT INTO {{read:audit_confidence_stats}}
SELECT
    {{include:audit-confidence-rollup-columns.sql}}
FROM {{read:audit_decisions}} FINAL
GROUP BY hour, model_id, model_version, service, retention_class
