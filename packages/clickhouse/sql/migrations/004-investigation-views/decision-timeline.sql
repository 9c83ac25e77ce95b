-- decision_timeline(decision_id = '…', trace_id = '…'): everything an investigator needs about a
-- decision, in time order. Pass one parameter and '' for the other. Rows are one of:
--   decision   the decision itself (typed fields in attributes)
--   span       every other span of its trace (HTTP, DB, framework spans), deduplicated by span id
--   oversight  reviews/overrides linked to it from any trace
--   feedback   ground truth linked to it from any trace
--   deployment earlier deployments of its model
--   incident   incidents that reference it
--   checkpoint the first signed checkpoint of its integrity stream that covers it
-- The decisions are resolved once, as scalar arrays (ids, traces, models, streams), through
-- primary-key and skip-index lookups; every branch is then a key or index lookup bounded by them,
-- so the view never scans a table and its cost does not grow with the store.
CREATE VIEW IF NOT EXISTS {{table:decision_timeline}} {{cluster}} AS
WITH
    (SELECT groupUniqArray(decision_id) FROM (
        -- The parameter tests fold to constants, so the branch for the empty parameter never runs.
        SELECT decision_id FROM {{read:audit_decisions}}
        WHERE {decision_id:String} != '' AND decision_id = {decision_id:String}
        UNION ALL
        SELECT decision_id FROM {{read:audit_decisions}}
        WHERE {trace_id:String} != '' AND trace_id = {trace_id:String}
    )) AS ids,
    (SELECT groupArray((decision_id, trace_id, span_id, model_id, time, integrity_stream, integrity_seq))
     FROM {{read:audit_decisions}} FINAL WHERE has(ids, decision_id)) AS targets,
    arrayDistinct(arrayMap(t -> t.2, targets)) AS traces,
    arrayMap(t -> t.3, targets) AS decision_spans,
    arrayDistinct(arrayMap(t -> t.4, targets)) AS models,
    arrayDistinct(arrayFilter(s -> s != '', arrayMap(t -> t.6, targets))) AS streams,
    -- A trace starts before its decision: bounding Start lets the weekly partitions of the lookup
    -- table prune (traces that began more than 31 days before their decision are not looked up).
    (SELECT (min(Start), max(End)) FROM {{read:otel_traces_trace_id_ts}}
     WHERE has(traces, TraceId)
       AND Start >= toDateTime(arrayMin(arrayMap(t -> t.5, targets))) - toIntervalDay(31)
       AND Start <= toDateTime(arrayMax(arrayMap(t -> t.5, targets))) + 1) AS trace_range
SELECT * FROM (
    SELECT
        'decision' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, span_name AS name,
        service, status_code, toUInt64(0) AS duration_ns,
        map('model_id', model_id, 'model_version', model_version, 'model_type', model_type,
            'provider', provider, 'operation', operation, 'decision_type', decision_type, 'outcome', outcome,
            'confidence', ifNull(toString(confidence), ''), 'input_hash', input_hash, 'output_hash', output_hash,
            'subject_id', subject_id, 'actor_id', actor_id, 'session_id', session_id,
            'fairness_group', fairness_group, 'risk_level', risk_level, 'purpose', purpose,
            'automation', automation, 'error_type', error_type, 'retention_class', retention_class,
            'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
    FROM {{read:audit_decisions}} FINAL
    WHERE has(ids, decision_id)

    UNION ALL

    SELECT
        'span' AS kind, Timestamp AS time, '' AS decision_id, TraceId AS trace_id, SpanId AS span_id,
        ParentSpanId AS parent_span_id, SpanName AS name, ServiceName AS service, StatusCode AS status_code,
        Duration AS duration_ns,
        -- Captured content never leaves through the timeline (auditors may read it, see rbac.ts).
        mapFilter((k, v) -> k NOT IN ({{attr:AUDIT_INPUT_CONTENT}}, {{attr:AUDIT_OUTPUT_CONTENT}},
            {{attr:AUDIT_INPUT_CIPHERTEXT}}, {{attr:AUDIT_OUTPUT_CIPHERTEXT}}, {{attr:GEN_AI_INPUT_MESSAGES}},
            {{attr:GEN_AI_OUTPUT_MESSAGES}}), CAST(SpanAttributes, 'Map(String, String)')) AS attributes
    FROM {{read:otel_traces}}
    WHERE has(traces, TraceId)
      AND Timestamp >= trace_range.1 AND Timestamp <= trace_range.2 + 1
      AND NOT has(decision_spans, SpanId)
    -- A span delivered twice is shown once, deterministically the earliest copy.
    ORDER BY SpanId, Timestamp
    LIMIT 1 BY SpanId

    UNION ALL

    SELECT
        'oversight' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, action AS name,
        service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('action', action, 'reviewer', reviewer, 'reason', reason, 'new_outcome', new_outcome,
            'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
    FROM {{read:audit_oversight}} FINAL
    WHERE has(ids, decision_id)

    UNION ALL

    SELECT
        'feedback' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, source AS name,
        service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('correct', ifNull(toString(correct), ''), 'actual_outcome', actual_outcome, 'source', source,
            'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
    FROM {{read:audit_feedback}} FINAL
    WHERE has(ids, decision_id)

    UNION ALL

    SELECT
        'deployment' AS kind, time, '' AS decision_id, trace_id, span_id, '' AS parent_span_id,
        deployment_id AS name, service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('deployment_id', deployment_id, 'model_id', model_id, 'model_version', model_version,
            'previous_version', previous_version, 'environment', environment, 'changelog', changelog,
            'weights_hash', weights_hash) AS attributes
    FROM {{read:audit_deployments}} FINAL
    WHERE has(models, model_id)
      AND time <= arrayMax(arrayMap(t -> t.5, targets))

    UNION ALL

    SELECT
        'incident' AS kind, CAST(occurred_at, 'DateTime64(9)') AS time, '' AS decision_id, '' AS trace_id,
        '' AS span_id, '' AS parent_span_id, title AS name, '' AS service, '' AS status_code,
        toUInt64(0) AS duration_ns,
        map('incident_id', incident_id, 'severity', severity, 'category', category, 'status', status,
            'description', description, 'report_deadline', toString(report_deadline),
            'reported_at', ifNull(toString(reported_at), '')) AS attributes
    FROM {{read:audit_incidents}} FINAL
    WHERE deleted = 0 AND hasAny(decision_ids, ids)

    UNION ALL

    SELECT
        'checkpoint' AS kind, c.time AS time, target.1 AS decision_id, c.trace_id AS trace_id,
        c.span_id AS span_id, '' AS parent_span_id, c.origin AS name, c.service AS service,
        '' AS status_code, toUInt64(0) AS duration_ns,
        map('stream', c.stream, 'tree_size', toString(c.tree_size), 'root', c.root, 'key_id', c.key_id,
            'note', c.note, 'leaf_index', toString(target.7)) AS attributes
    FROM {{read:audit_checkpoints}} AS c
    ARRAY JOIN targets AS target
    WHERE has(streams, c.stream) AND c.stream = target.6 AND c.tree_size > target.7
    ORDER BY c.tree_size
    LIMIT 1 BY target.1
)
ORDER BY time, kind
