-- What `decisiontrail decisions --overridden --sort confidence` reads first (src/decision-finder.ts): one row per
-- copy of an oversight record whose action is override (≈ 1.5 % of decisions), with what the finder orders and
-- filters the overridden decision by — its confidence key (the confidence, -1 without one), time, service, model
-- and version — so a page of overridden decisions by confidence is one read of this narrow table, not a set of
-- every oversight record's id and a read in order of every decision.
--
-- Either record can arrive first: an override stored after its decision takes the decision's columns from
-- audit_decisions (decided); one stored before it is a pending row (decided false, the decision's columns empty)
-- until the decision arrives, whose own view then writes the decided row at the same key (ReplacingMergeTree: the
-- last inserted kept). The finder reads the decision of a pending row from audit_decisions, so a pending row left
-- by inserts that ran at the same moment (neither saw the other) is still found. A row stands for a candidate, not
-- a fact: a later copy of the record that is not an override, or a later copy of the decision at another
-- confidence, leaves the row where it was, and the finder confirms every row it lists from the final copies in
-- audit_decisions and audit_oversight. verify reconciles the table against both (src/audit-reconciliation.ts).
--
-- record_time, retention_class and integrity_stream are the oversight record's: the row's partition and expiry
-- follow the record's, as in audit_oversight.
CREATE TABLE IF NOT EXISTS {{table:audit_overrides}} {{cluster}} (
    decision_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    record_time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    retention_class LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1)),
    decided Bool CODEC(ZSTD(1)),
    confidence_key Float64 CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(record_time))
ORDER BY (decision_id, span_id)
{{ttl:audit_overrides}}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
