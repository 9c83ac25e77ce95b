-- The whole hours [h_from_s, h_to_s) of the report's model and version in a rollup (see model-filter.sql).
hour >= toDateTime({h_from_s:Int64}) AND hour < toDateTime({h_to_s:Int64})
    AND {{include:model-filter.sql}}
