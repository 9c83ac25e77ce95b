-- Which decisions a statistic covers (DecisionFilter in src/decision-queries.ts), over
-- audit_decisions or a rollup with the same columns: the period [from, to) by span start, the
-- model and version (model-filter.sql) and the service.
time >= fromUnixTimestamp64Milli({from_ms:Int64}) AND time < fromUnixTimestamp64Milli({to_ms:Int64})
  AND {{include:model-filter.sql}}
  AND {{include:service-filter.sql}}
