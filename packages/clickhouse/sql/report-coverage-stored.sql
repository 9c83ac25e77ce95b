-- Decision coverage (src/decision-coverage.ts): the decisions stored inside each measured range of
-- report-count-ranges.sql — range i is the stream {streams}[i], model {models}[i] and version
-- {versions}[i], seq in [{lows}[i], {highs}[i]) — counted as distinct seqs (a leaf delivered twice
-- counts once), and of them those that started in the period [from, to). The time bounds only prune:
-- every decision of a range started inside [first_ns, last_ns].
WITH arrayZip({streams:Array(String)}, {models:Array(String)}, {versions:Array(String)}) AS keys,
    arrayMap(s -> toUInt64(s), {lows:Array(String)}) AS lows,
    arrayMap(s -> toUInt64(s), {highs:Array(String)}) AS highs
SELECT toUInt32(range) AS range,
    toString(uniqExact(integrity_seq)) AS stored,
    toString(uniqExactIf(integrity_seq, in_period)) AS stored_in_period
FROM (
    SELECT indexOf(keys, (integrity_stream, model_id, model_version)) AS range, integrity_seq,
        time >= fromUnixTimestamp64Milli({from_ms:Int64}) AND time < fromUnixTimestamp64Milli({to_ms:Int64}) AS in_period
    FROM {{read:audit_decisions}}
    WHERE time >= fromUnixTimestamp64Nano({first_ns:Int64}) AND time <= fromUnixTimestamp64Nano({last_ns:Int64})
        AND has({streams:Array(String)}, integrity_stream)
)
WHERE range > 0 AND integrity_seq >= lows[range] AND integrity_seq < highs[range]
GROUP BY range
