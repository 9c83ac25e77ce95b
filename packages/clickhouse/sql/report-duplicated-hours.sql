-- Hours of [h_from_s, h_to_s) whose rollup cells do not add up to the hour's distinct decisions.
-- The rollup adds every row inserted into audit_decisions (materialized views see inserts, not the
-- table), so an exact duplicate delivered in another batch — or a conflicting copy of a span — is
-- counted again there, while audit_decisions (ReplacingMergeTree, read with FINAL) holds each
-- decision once. Counting the distinct decisions per hour reads only the time and filter columns
-- where parts do not overlap in key (decisions arrive in id order, so nearly everywhere), and the
-- key as well where they do; the cells of the hours it names come from FINAL instead.
SELECT arraySort(groupArray(toUnixTimestamp(hour))) AS hours FROM (
    SELECT hour, sum(rolled) AS rolled, sum(stored) AS stored FROM (
        SELECT hour, sum(decisions) AS rolled, toUInt64(0) AS stored FROM {{read:audit_decision_stats}}
        WHERE {{include:report-rollup-hours.sql}}
            AND {{include:service-filter.sql}}
        GROUP BY hour
        UNION ALL
        SELECT toStartOfHour(time) AS hour, toUInt64(0) AS rolled, count() AS stored
        FROM {{read:audit_decisions}} FINAL
        WHERE {{include:decision-filter.sql}}
        GROUP BY hour)
    GROUP BY hour
    HAVING rolled != stored)
SETTINGS do_not_merge_across_partitions_select_final = 1
