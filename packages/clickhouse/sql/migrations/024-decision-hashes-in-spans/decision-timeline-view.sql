-- decision_timeline(decision_id = '…', trace_id = '…'), as replaced by migrations 7, 8, 9, 12, 13, 17 and 24 (same
-- parameters and columns as migration 4's; the store reads the same SQL in two statements,
-- see src/decision-timeline.ts). Everything an investigator needs about a decision, in time order.
-- Pass one parameter and '' for the other. Rows are one of:
--   decision   the decision itself (typed fields in attributes)
--   span       every other span of its trace (HTTP, DB, framework spans), deduplicated by span id,
--              except the other rows of a batch call (decisions of their own) and its tool runs
--   oversight  reviews/overrides linked to it from any trace
--   feedback   ground truth linked to it from any trace
--   action     tool runs tied to it by its decision id, from any trace
--   deployment earlier deployments of its model
--   incident   incidents that reference it
--   checkpoint the first signed checkpoint of its integrity stream that covers it
-- The decisions are read once, whole, into a scalar array (the decision rows come from it, not
-- from a second read); the other branches are lookups bounded by it (decision-timeline-linked.sql).
CREATE OR REPLACE VIEW {{table:decision_timeline}} {{cluster}} AS
WITH
    (SELECT groupArray(tuple(-- The timeline row of a decision, read from audit_decisions: shared by the decision_timeline view
-- and the store's two-statement timeline (src/decision-timeline.ts), so the two cannot drift apart.
'decision' AS kind, time, decision_id, trace_id, span_id, '' AS parent_span_id, span_name AS name,
    service, status_code, toUInt64(0) AS duration_ns,
    map('model_id', model_id, 'model_version', model_version, 'model_type', model_type,
        'provider', provider, 'operation', operation, 'decision_type', decision_type, 'outcome', outcome,
        'confidence', ifNull(toString(confidence), ''), 'input_hash', '', 'output_hash', '',
        'subject_id', subject_id, 'actor_id', actor_id, 'session_id', session_id,
        'fairness_group', fairness_group, 'risk_level', risk_level, 'purpose', purpose,
        'automation', automation, 'error_type', error_type, 'retention_class', retention_class,
        'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)) AS attributes))
     FROM {{read:audit_decisions}} FINAL
     WHERE -- Which decisions a timeline is about: by decision id (primary key) or by trace id (skip index).
-- The parameter tests fold to constants, so only one of the two lookups remains.
({decision_id:String} != '' AND decision_id = {decision_id:String})
        OR ({trace_id:String} != '' AND trace_id = {trace_id:String})) AS targets,
    arrayMap(t -> t.3, targets) AS ids,
    arrayDistinct(arrayMap(t -> t.4, targets)) AS traces,
    arrayMap(t -> t.5, targets) AS decision_spans,
    arrayDistinct(arrayMap(t -> t.11['model_id'], targets)) AS models,
    arrayMap(t -> t.11['integrity_stream'], targets) AS decision_streams,
    arrayMap(t -> toUInt64(t.11['integrity_seq']), targets) AS decision_seqs,
    arrayMin(arrayMap(t -> t.2, targets)) AS first_time,
    arrayMax(arrayMap(t -> t.2, targets)) AS last_time,
    -- The decisions' input and output hashes, which audit_decisions does not hold (migration 24): from the decision
    -- spans themselves (trace-id bloom filter, the decisions' own times).
    (SELECT groupArray(tuple(SpanId, SpanAttributes[{{attr:AUDIT_INPUT_HASH}}], SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}]))
     FROM {{read:otel_traces}}
     WHERE has(traces, TraceId) AND has(decision_spans, SpanId)
       AND Timestamp >= first_time AND Timestamp <= last_time
       AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}) AS decision_hashes
SELECT * FROM (
    SELECT
        d.1 AS kind, d.2 AS time, d.3 AS decision_id, d.4 AS trace_id, d.5 AS span_id,
        d.6 AS parent_span_id, d.7 AS name, d.8 AS service, d.9 AS status_code, d.10 AS duration_ns,
        mapApply((k, v) -> (k, multiIf(k = 'input_hash', arrayFirst(h -> h.1 = d.5, decision_hashes).2,
            k = 'output_hash', arrayFirst(h -> h.1 = d.5, decision_hashes).3, v)), d.11) AS attributes
    FROM system.one
    ARRAY JOIN targets AS d

    UNION ALL

    -- Everything linked to the timeline's decisions, as one UNION ALL: shared by the decision_timeline
-- view and the store's two-statement timeline (src/decision-timeline.ts). Both define, before it:
--   ids, traces, decision_spans, models   the decisions' ids, trace ids, span ids and models
--   decision_streams, decision_seqs        each decision's integrity stream and leaf index
--   first_time, last_time                  the earliest and latest decision time (DateTime64(9))
-- Every branch is a primary-key or skip-index lookup bounded by those, so none scans a table.
-- Trace spans: a span of the trace is shown when it started from a day before the first to a day
-- after the last decision of the timeline (spans inserted later included). The bound prunes
-- otel_traces to one or two daily partitions and, with its primary key's time, to the granules the
-- trace-id bloom filter then checks. (Looking the trace's range up in otel_traces_trace_id_ts first
-- costs a scalar subquery, which the engine plans once per use: ≈ 3 ms more per timeline.)
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
      AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
      AND NOT has(decision_spans, SpanId)
      -- Oversight, feedback and tool runs about these decisions are their own rows below, even when
      -- recorded in the decision's trace: shown once, as what they are.
      AND NOT (SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}},
          {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}}, {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}})
        AND has(ids, SpanAttributes[{{attr:AUDIT_DECISION_ID}}]))
      -- A row of a batch call is a decision of its own: its siblings are not spans of this one's
      -- timeline (the batch span is shown; a timeline by trace shows every row as a decision).
      AND NOT mapContains(SpanAttributes, {{attr:AUDIT_BATCH_INDEX}})
    -- A span delivered twice is shown once, deterministically the earliest copy.
    ORDER BY SpanId, Timestamp
    LIMIT 1 BY SpanId

    UNION ALL

    -- Tool runs (execute_tool action spans) tied to these decisions by audit.decision.id, from any
    -- trace: the agent's own, the MCP server's side, a later job that carries the decision id. The
    -- link is the decision id, not the trace: audit_decision_links locates each run by primary key,
    -- and the span is read from otel_traces (trace-id bloom filter, from a day before the first
    -- decision to a day after the latest run a link names — a link's time is its run's start —,
    -- so only those days' granules are checked: without the upper bound every granule after the
    -- decision was, ≈ 68 ms of CPU at 10 M, and with no run linked none is); a run delivered twice
    -- is shown once, the earliest copy.
    SELECT
        'action' AS kind, Timestamp AS time, SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
        TraceId AS trace_id, SpanId AS span_id, ParentSpanId AS parent_span_id, SpanName AS name,
        ServiceName AS service, StatusCode AS status_code, Duration AS duration_ns,
        map('tool', SpanAttributes[{{attr:GEN_AI_TOOL_NAME}}],
            'tool_type', SpanAttributes[{{attr:GEN_AI_TOOL_TYPE}}],
            'tool_call_id', SpanAttributes[{{attr:GEN_AI_TOOL_CALL_ID}}],
            'link_basis', SpanAttributes[{{attr:AUDIT_ACTION_LINK_BASIS}}],
            'subject_id', SpanAttributes[{{attr:AUDIT_SUBJECT_ID}}],
            'input_hash', SpanAttributes[{{attr:AUDIT_INPUT_HASH}}],
            'output_hash', SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}],
            'error_type', SpanAttributes[{{attr:ERROR_TYPE}}],
            'integrity_stream', SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}],
            'integrity_seq', toString(toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]))) AS attributes
    FROM {{read:otel_traces}}
    WHERE TraceId IN (
            SELECT trace_id FROM {{read:audit_decision_links}}
            WHERE has(ids, decision_id) AND record_type = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
              AND time >= first_time - toIntervalDay(1))
      AND Timestamp >= first_time - toIntervalDay(1)
      AND Timestamp <= (
            SELECT max(time) FROM {{read:audit_decision_links}}
            WHERE has(ids, decision_id) AND record_type = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
              AND time >= first_time - toIntervalDay(1)) + toIntervalDay(1)
      AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
      AND has(ids, SpanAttributes[{{attr:AUDIT_DECISION_ID}}])
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
    WHERE has(models, model_id) AND time <= last_time

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

    -- The first checkpoint of each decision's stream that covers its leaf (one key range each).
    SELECT
        'checkpoint' AS kind, c.time AS time, cp_id AS decision_id, c.trace_id AS trace_id,
        c.span_id AS span_id, '' AS parent_span_id, c.origin AS name, c.service AS service,
        '' AS status_code, toUInt64(0) AS duration_ns,
        map('stream', c.stream, 'tree_size', toString(c.tree_size), 'root', c.root, 'key_id', c.key_id,
            'note', c.note, 'leaf_index', toString(cp_seq)) AS attributes
    FROM {{read:audit_checkpoints}} AS c
    ARRAY JOIN ids AS cp_id, decision_streams AS cp_stream, decision_seqs AS cp_seq
    WHERE has(decision_streams, c.stream) AND cp_stream != '' AND c.stream = cp_stream
      AND c.tree_size > cp_seq
    ORDER BY c.tree_size
    LIMIT 1 BY cp_id
)
ORDER BY time, kind
