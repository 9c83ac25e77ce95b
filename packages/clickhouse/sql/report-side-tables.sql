-- Erasure tombstones recorded and spans quarantined in the report's period; the latest signed
-- checkpoint size of every stream.
SELECT
    (SELECT count() FROM {{read:audit_erasures}} FINAL
     WHERE erased_at >= fromUnixTimestamp64Milli({from_ms:Int64})
         AND erased_at < fromUnixTimestamp64Milli({to_ms:Int64})) AS erasures,
    (SELECT count() FROM {{read:audit_quarantine}}
     WHERE received_at >= fromUnixTimestamp64Milli({from_ms:Int64})
         AND received_at < fromUnixTimestamp64Milli({to_ms:Int64})) AS quarantined,
    (SELECT CAST(groupArray((stream, toString(size))), 'Array(Tuple(String, String))') FROM (
        SELECT stream, max(tree_size) AS size FROM {{read:audit_checkpoints}} GROUP BY stream)) AS checkpoints
