-- decision_timeline(decision_id = '…', trace_id = '…'), as replaced by migrations 7 and 8 (same
-- parameters and columns as migration 4's; the store reads the same SQL in two statements,
-- see src/decision-timeline.ts). Everything an investigator needs about a decision, in time order.
-- Pass one parameter and '' for the other. Rows are one of:
--   decision   the decision itself (typed fields in attributes)
--   span       every other span of its trace (HTTP, DB, framework spans), deduplicated by span id
--   oversight  reviews/overrides linked to it from any trace
--   feedback   ground truth linked to it from any trace
--   deployment earlier deployments of its model
--   incident   incidents that reference it
--   checkpoint the first signed checkpoint of its integrity stream that covers it
-- The decisions are read once, whole, into a scalar array (the decision rows come from it, not
-- from a second read); the other branches are lookups bounded by it (decision-timeline-linked.sql).
CREATE OR REPLACE VIEW {{table:decision_timeline}} {{cluster}} AS
WITH
    (SELECT groupArray(tuple({{include:decision-timeline-decision-row.sql}}))
     FROM {{read:audit_decisions}} FINAL
     WHERE {{include:decision-timeline-decisions-where.sql}}) AS targets,
    arrayMap(t -> t.3, targets) AS ids,
    arrayDistinct(arrayMap(t -> t.4, targets)) AS traces,
    arrayMap(t -> t.5, targets) AS decision_spans,
    arrayDistinct(arrayMap(t -> t.11['model_id'], targets)) AS models,
    arrayMap(t -> t.11['integrity_stream'], targets) AS decision_streams,
    arrayMap(t -> toUInt64(t.11['integrity_seq']), targets) AS decision_seqs,
    arrayMin(arrayMap(t -> t.2, targets)) AS first_time,
    arrayMax(arrayMap(t -> t.2, targets)) AS last_time
SELECT * FROM (
    SELECT
        d.1 AS kind, d.2 AS time, d.3 AS decision_id, d.4 AS trace_id, d.5 AS span_id,
        d.6 AS parent_span_id, d.7 AS name, d.8 AS service, d.9 AS status_code, d.10 AS duration_ns,
        d.11 AS attributes
    FROM system.one
    ARRAY JOIN targets AS d

    UNION ALL

    {{include:decision-timeline-linked.sql}}
)
ORDER BY time, kind
