-- decision_timeline(decision_id = '…', trace_id = '…'): everything an investigator needs about a
-- decision, in time order. Pass one parameter and '' for the other. Rows are one of:
--   decision   the decision itself (typed fields in attributes)
--   span       every other span of its trace (HTTP, DB, framework spans), deduplicated by span id
--   oversight  reviews/overrides linked to it from any trace
--   feedback   ground truth linked to it from any trace
--   deployment earlier deployments of its model
--   incident   incidents that reference it
--   checkpoint the first signed checkpoint of its integrity stream that covers it
-- The decision set is resolved first through primary-key or skip-index lookups, and every other
-- branch is bounded by it, so the view never scans a table.
CREATE VIEW IF NOT EXISTS {{table:decision_timeline}} {{cluster}} AS
WITH target AS (
    SELECT *
    FROM {{read:audit_decisions}} FINAL
    WHERE decision_id IN (
        SELECT {decision_id:String}
        UNION ALL
        SELECT decision_id FROM {{read:audit_decisions}} WHERE trace_id = {trace_id:String} AND trace_id != ''
    )
)
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
    FROM target

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
    WHERE TraceId IN (SELECT trace_id FROM target)
      AND Timestamp >= (
          SELECT min(Start) FROM {{read:otel_traces_trace_id_ts}} WHERE TraceId IN (SELECT trace_id FROM target))
      AND Timestamp <= (
          SELECT max(End) + 1 FROM {{read:otel_traces_trace_id_ts}} WHERE TraceId IN (SELECT trace_id FROM target))
      AND SpanId NOT IN (SELECT span_id FROM target)
    LIMIT 1 BY SpanId

    UNION ALL

    SELECT
        'oversight' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, action AS name,
        service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('action', action, 'reviewer', reviewer, 'reason', reason, 'new_outcome', new_outcome,
            'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
    FROM {{read:audit_oversight}} FINAL
    WHERE decision_id IN (SELECT decision_id FROM target)

    UNION ALL

    SELECT
        'feedback' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, source AS name,
        service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('correct', ifNull(toString(correct), ''), 'actual_outcome', actual_outcome, 'source', source,
            'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes
    FROM {{read:audit_feedback}} FINAL
    WHERE decision_id IN (SELECT decision_id FROM target)

    UNION ALL

    SELECT
        'deployment' AS kind, time, '' AS decision_id, trace_id, span_id, '' AS parent_span_id,
        deployment_id AS name, service, '' AS status_code, toUInt64(0) AS duration_ns,
        map('deployment_id', deployment_id, 'model_id', model_id, 'model_version', model_version,
            'previous_version', previous_version, 'environment', environment, 'changelog', changelog,
            'weights_hash', weights_hash) AS attributes
    FROM {{read:audit_deployments}} FINAL
    WHERE model_id IN (SELECT model_id FROM target)
      AND time <= (SELECT max(time) FROM target)

    UNION ALL

    SELECT
        'incident' AS kind, CAST(occurred_at, 'DateTime64(9)') AS time, '' AS decision_id, '' AS trace_id,
        '' AS span_id, '' AS parent_span_id, title AS name, '' AS service, '' AS status_code,
        toUInt64(0) AS duration_ns,
        map('incident_id', incident_id, 'severity', severity, 'category', category, 'status', status,
            'description', description, 'report_deadline', toString(report_deadline),
            'reported_at', ifNull(toString(reported_at), '')) AS attributes
    FROM {{read:audit_incidents}} FINAL
    WHERE deleted = 0 AND hasAny(decision_ids, (SELECT groupArray(decision_id) FROM target))

    UNION ALL

    SELECT
        'checkpoint' AS kind, c.time AS time, t.decision_id AS decision_id, c.trace_id AS trace_id,
        c.span_id AS span_id, '' AS parent_span_id, c.origin AS name, c.service AS service,
        '' AS status_code, toUInt64(0) AS duration_ns,
        map('stream', c.stream, 'tree_size', toString(c.tree_size), 'root', c.root, 'key_id', c.key_id,
            'note', c.note, 'leaf_index', toString(t.integrity_seq)) AS attributes
    FROM {{read:audit_checkpoints}} AS c
    INNER JOIN (SELECT decision_id, integrity_stream, integrity_seq FROM target) AS t
        ON c.stream = t.integrity_stream
    WHERE c.stream IN (SELECT integrity_stream FROM target WHERE integrity_stream != '')
      AND c.tree_size > t.integrity_seq
    ORDER BY c.tree_size
    LIMIT 1 BY t.decision_id
)
ORDER BY time, kind
