-- An oversight or feedback row that the report's rollups counted: rolled up, of the filtered model
-- and version, about a decision of a whole hour [h_from_s, h_to_s) of the period (the hour its
-- UUIDv7 id names, as the rollups key it).
(rolled_up
    AND {{include:model-filter.sql}}
    AND {{include:audit-rollup-decision-hour.sql}} >= toDateTime({h_from_s:Int64})
    AND {{include:audit-rollup-decision-hour.sql}} < toDateTime({h_to_s:Int64}))
