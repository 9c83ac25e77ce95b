-- Which decisions a statistic covers (DecisionFilter in src/decision-queries.ts), over
-- audit_decisions or a rollup with the same columns: the period [from, to) by span start, the
-- model and version (model-filter.sql) and the service. The bounds are nanoseconds, as the spans'
-- times are: a split at a deployment's instant keeps a decision made earlier in its millisecond before it.
time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND time < fromUnixTimestamp64Nano({to_ns:Int64})
  AND {{include:model-filter.sql}}
  AND {{include:service-filter.sql}}
