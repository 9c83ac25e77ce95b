-- The whole hours [h_from_s, h_to_s) of the report's model, version and service in a rollup.
hour >= toDateTime({h_from_s:Int64}) AND hour < toDateTime({h_to_s:Int64})
    AND {{include:model-filter.sql}}
