-- Input drift (inputFeatureDrift in src/investigation-signals.ts): the numeric features a team opted to record on
-- its decisions (audit.input.features, a JSON object of name → number) in a baseline window and a current one,
-- per feature: how many decisions carry it in each, the two-sample Kolmogorov–Smirnov statistic, and both
-- windows' counts in {buckets} equal-width bins over the baseline's range [lo, hi] (bin
-- floor((value − lo) / (hi − lo) · buckets), clamped to the first and last bin; when lo = hi, three bins:
-- below, equal to and above it).
-- A decision counts once however many copies of its span are stored; one in both windows counts in both. The
-- model, version and service filters are model-filter.sql and service-filter.sql over the span's own attributes.
WITH samples AS (
    SELECT feature.1 AS name, feature.2 AS value, sample
    FROM (
        SELECT SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
            any(SpanAttributes[{{attr:AUDIT_MODEL_ID}}]) AS model_id,
            any(SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}]) AS model_version,
            any(ServiceName) AS service,
            any(Timestamp) AS time,
            any(SpanAttributes[{{attr:AUDIT_INPUT_FEATURES}}]) AS recorded
        FROM {{read:otel_traces}}
        WHERE ((Timestamp >= fromUnixTimestamp64Nano({b_from_ns:Int64}) AND Timestamp < fromUnixTimestamp64Nano({b_to_ns:Int64}))
                OR (Timestamp >= fromUnixTimestamp64Nano({c_from_ns:Int64}) AND Timestamp < fromUnixTimestamp64Nano({c_to_ns:Int64})))
            AND mapContains(SpanAttributes, {{attr:AUDIT_INPUT_FEATURES}})
            AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
        GROUP BY decision_id
    )
    ARRAY JOIN JSONExtractKeysAndValues(recorded, 'Float64') AS feature
    ARRAY JOIN arrayFilter(s -> (s = 0 AND time >= fromUnixTimestamp64Nano({b_from_ns:Int64}) AND time < fromUnixTimestamp64Nano({b_to_ns:Int64}))
            OR (s = 1 AND time >= fromUnixTimestamp64Nano({c_from_ns:Int64}) AND time < fromUnixTimestamp64Nano({c_to_ns:Int64})),
        [toUInt8(0), toUInt8(1)]) AS sample
    WHERE {{include:model-filter.sql}} AND {{include:service-filter.sql}}
),
ranges AS (
    SELECT name, min(value) AS lo, max(value) AS hi FROM samples WHERE sample = 0 GROUP BY name
),
-- KS: the largest gap between the windows' distribution functions, read at each value (its ties included).
distances AS (
    SELECT name, max(abs(at_or_below_0 / n_0 - at_or_below_1 / n_1)) AS d
    FROM (
        SELECT name,
            sum(toUInt64(sample = 0)) OVER upto AS at_or_below_0, sum(toUInt64(sample = 1)) OVER upto AS at_or_below_1,
            sum(toUInt64(sample = 0)) OVER whole AS n_0, sum(toUInt64(sample = 1)) OVER whole AS n_1
        FROM samples
        WINDOW upto AS (PARTITION BY name ORDER BY value RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
            whole AS (PARTITION BY name)
    )
    WHERE n_0 > 0 AND n_1 > 0
    GROUP BY name
),
tests AS (
    SELECT c.name AS name, c.baseline AS baseline, c.current AS current, d.d AS ks
    FROM (SELECT name, countIf(sample = 0) AS baseline, countIf(sample = 1) AS current FROM samples GROUP BY name) AS c
    LEFT JOIN distances AS d ON d.name = c.name
),
bins AS (
    SELECT s.name AS name,
        if(r.hi = r.lo,
            if(s.value < r.lo, 0, if(s.value = r.lo, 1, 2)),
            least({buckets:UInt32} - 1, greatest(0, toInt64(floor((s.value - r.lo) / (r.hi - r.lo) * {buckets:UInt32}))))) AS bin,
        countIf(s.sample = 0) AS in_baseline, countIf(s.sample = 1) AS in_current
    FROM samples AS s INNER JOIN ranges AS r ON r.name = s.name
    GROUP BY name, bin
)
SELECT t.name AS name, toString(t.baseline) AS baseline, toString(t.current) AS current, t.ks AS ks,
    r.lo AS lo, r.hi AS hi,
    arraySort(x -> x.1, groupArrayIf((b.bin, toString(b.in_baseline), toString(b.in_current)), b.name != '')) AS bins
FROM tests AS t
LEFT JOIN ranges AS r ON r.name = t.name
LEFT JOIN bins AS b ON b.name = t.name
GROUP BY t.name, t.baseline, t.current, t.ks, r.lo, r.hi
ORDER BY name
SETTINGS join_use_nulls = 1
