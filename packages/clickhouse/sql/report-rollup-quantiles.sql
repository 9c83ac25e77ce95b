-- Approximate (t-digest) confidence quantiles of the report: digests (audit_confidence_stats, per
-- model, version and service) of whole days [d_from_s, d_to_s) and of the other whole hours, merged
-- with states of the edges. Hours of {dup_hours} (whose digests hold a duplicated decision twice)
-- and the days around them are read from audit_decisions with FINAL instead, the other hours of
-- those days from hour digests.
SELECT quantilesTDigestMerge(0.5, 0.9)(q) AS qs FROM (
    SELECT confidence_quantiles AS q FROM {{read:audit_confidence_stats}}
    WHERE ((width_s = 86400 AND start >= toDateTime({d_from_s:Int64}) AND start < toDateTime({d_to_s:Int64})
            AND NOT has({dup_days:Array(UInt32)}, toUnixTimestamp(start)))
        OR (width_s = 3600 AND start >= toDateTime({h_from_s:Int64}) AND start < toDateTime({h_to_s:Int64})
            AND NOT has({dup_hours:Array(UInt32)}, toUnixTimestamp(start))
            AND NOT (start >= toDateTime({d_from_s:Int64}) AND start < toDateTime({d_to_s:Int64})
                AND NOT has({dup_days:Array(UInt32)}, intDiv(toUnixTimestamp(start), 86400) * 86400))))
        AND {{include:model-filter.sql}}
        AND {{include:service-filter.sql}}
    UNION ALL
    SELECT quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS q
    FROM {{read:audit_decisions}} FINAL
    WHERE ((time >= fromUnixTimestamp64Milli({e1_from_ms:Int64}) AND time < fromUnixTimestamp64Milli({e1_to_ms:Int64}))
        OR (time >= fromUnixTimestamp64Milli({e2_from_ms:Int64}) AND time < fromUnixTimestamp64Milli({e2_to_ms:Int64}))
        OR (time >= fromUnixTimestamp64Milli({dup_from_ms:Int64}) AND time < fromUnixTimestamp64Milli({dup_to_ms:Int64})
            AND has({dup_hours:Array(UInt32)}, toUnixTimestamp(toStartOfHour(time)))))
        AND {{include:model-filter.sql}}
        AND {{include:service-filter.sql}})
