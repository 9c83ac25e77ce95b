import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import {
  DECISION_ATTRIBUTES,
  DECISIONS_SQL,
  LINKED_WITH,
  OUTPUT_COLUMNS,
  compareEntries,
  decisionEntry,
  withDecisionSpanHashes,
  linkedParams,
  timelineEntry,
  timelineQuery,
  timelineRows,
  type DecisionRow,
  type TimelineEntry,
} from './decision-timeline.ts';
import type { QueryContext } from './query-context.ts';
import {
  checkpointSpansSql,
  coveringCheckpointRows,
  DAY_NS,
  leafParams,
  SEQ,
  windowParams,
  windowsAround,
  withinWindows,
  type CheckpointSpanRow,
  type TimelineEvidence,
} from './timeline-evidence.ts';
import { TRACE_ROW_COLUMNS, traceRowToSpanRecord, type StoredTraceRow } from './trace-row.ts';

/** A timeline and the signed rows behind it, read together (see {@link timelineWithEvidence}). */
export interface TimelineWithEvidence {
  /** The rows of {@link decisionTimeline} for the same query. */
  entries: TimelineEntry[];
  /** What {@link timelineEvidence} returns for those rows' decisions, reviews and feedback. */
  evidence: TimelineEvidence;
}

/** The decisions' reviews and feedback, as the first statement finds them: by decision id or through the trace. */
const FOLLOW_UPS_OF = {
  decision: 'decision_id = {decision_id:String}',
  trace:
    'decision_id IN (SELECT decision_id FROM {{read:audit_decisions}} WHERE trace_id = {trace_id:String})',
} as const;

// Unnamed: a UNION ALL takes its names from the first branch, and an alias here would shadow the table's own
// column of that name (integrity_stream, …) in the branch's map.
const EMPTY_DECISION_COLUMNS = DECISION_ATTRIBUTES.map(() => "''").join(', ');

/**
 * First statement: the decisions (the timeline's own decision statement), their reviews and feedback as the
 * view's oversight and feedback branches show them, and every review and feedback span `audit_decision_links`
 * names for them — all primary-key lookups by decision id. The entry columns are the decision statement's;
 * reviews and feedback carry their typed fields in `attributes`.
 */
function firstSql(by: keyof typeof FOLLOW_UPS_OF): string {
  const of = FOLLOW_UPS_OF[by];
  return `
  SELECT *, CAST(map(), 'Map(String, String)') AS attributes FROM (${DECISIONS_SQL})
  UNION ALL
  SELECT 'oversight', toString(toUnixTimestamp64Nano(time)), decision_id, trace_id, span_id, '', action, service,
    '', '0', ${EMPTY_DECISION_COLUMNS},
    CAST(map('action', action, 'reviewer', reviewer, 'reason', reason, 'new_outcome', new_outcome,
      'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)), 'Map(String, String)')
  FROM {{read:audit_oversight}} FINAL
  WHERE ${of}
  UNION ALL
  SELECT 'feedback', toString(toUnixTimestamp64Nano(time)), decision_id, trace_id, span_id, '', source, service,
    '', '0', ${EMPTY_DECISION_COLUMNS},
    CAST(map('correct', ifNull(toString(correct), ''), 'actual_outcome', actual_outcome, 'source', source,
      'integrity_stream', integrity_stream, 'integrity_seq', toString(integrity_seq)), 'Map(String, String)')
  FROM {{read:audit_feedback}} FINAL
  WHERE ${of}
  UNION ALL
  SELECT 'link', toString(toUnixTimestamp64Nano(time)), decision_id, trace_id, span_id, '', record_type, service,
    '', '0', ${EMPTY_DECISION_COLUMNS}, CAST(map(), 'Map(String, String)')
  FROM {{read:audit_decision_links}}
  WHERE ${of}`;
}

/**
 * Second statement (its reads of reviews, feedback and tool runs only when there are any: a disjunct over an
 * empty list still makes the engine check the trace-id filter of every granule in its time range): `otel_traces` read once for both the trace spans the timeline shows and the signed rows the
 * check needs — every row of the decisions' traces from a day before the first to a day after the last decision
 * (every copy of each decision span among them), and every copy of each review and feedback span within a day of
 * it —, the checkpoint spans that can prove the shown leaves (one primary-key read of `audit_checkpoint_spans`, see
 * {@link checkpointSpansSql}), beside the view's deployment and incident branches (as in
 * sql/decision-timeline-linked.sql). The view's checkpoint entry is built from those checkpoint spans
 * ({@link checkpointEntries}), not read apart.
 *
 * A trace row is `shown` by the rule of the linked statement's trace-span branch (not a decision of the
 * timeline, not a review or feedback of one, not a row of a batch); the earliest copy of each is kept by the
 * reader, as that branch's `LIMIT 1 BY SpanId` does. Rows for the check travel whole as JSON in `span`.
 */
function restSql(windows: number, leaves: number, actions: boolean): string {
  // What the timeline's traces, reviews, feedback and tool runs are read by.
  const inTrace = `((has(traces, TraceId)
        AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1))
      ${windows === 0 ? '' : `OR (has(follow_traces, TraceId) AND has(follow_spans, SpanId) AND (${withinWindows(windows)}))`}
      ${
        actions
          ? `OR (has(action_traces, TraceId) AND Timestamp >= first_time - toIntervalDay(1)
        AND Timestamp <= action_last + toIntervalDay(1))`
          : ''
      })`;
  return `
  WITH
    ${LINKED_WITH},
    {follow_traces:Array(String)} AS follow_traces,
    {follow_spans:Array(String)} AS follow_spans,
    {action_traces:Array(String)} AS action_traces,
    fromUnixTimestamp64Nano({action_last_ns:Int64}) AS action_last
  SELECT role, ${OUTPUT_COLUMNS}, in_trace, is_leaf, shown, span
  FROM (
    SELECT
        'trace' AS role, if(is_action, 'action', 'span') AS kind, Timestamp AS time,
        if(is_action, SpanAttributes[{{attr:AUDIT_DECISION_ID}}], '') AS decision_id, TraceId AS trace_id,
        SpanId AS span_id, ParentSpanId AS parent_span_id, SpanName AS name, ServiceName AS service,
        StatusCode AS status_code, Duration AS duration_ns,
        if(is_action,
          {{include:decision-timeline-action-attributes.sql}},
          mapFilter((k, v) -> k NOT IN ({{attr:AUDIT_INPUT_CONTENT}}, {{attr:AUDIT_OUTPUT_CONTENT}},
            {{attr:AUDIT_INPUT_CIPHERTEXT}}, {{attr:AUDIT_OUTPUT_CIPHERTEXT}}, {{attr:GEN_AI_INPUT_MESSAGES}},
            {{attr:GEN_AI_OUTPUT_MESSAGES}}), CAST(SpanAttributes, 'Map(String, String)'))) AS attributes,
        -- The linked statement's action branch: a tool run of these decisions in a trace a link names, from a
        -- day before the first decision to a day after the latest run linked.
        has(action_traces, TraceId) AND Timestamp >= first_time - toIntervalDay(1)
          AND Timestamp <= action_last + toIntervalDay(1)
          AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
          AND has(ids, SpanAttributes[{{attr:AUDIT_DECISION_ID}}]) AS is_action,
        has(traces, TraceId)
          AND Timestamp >= first_time - toIntervalDay(1) AND Timestamp <= last_time + toIntervalDay(1)
          AND NOT has(decision_spans, SpanId)
          AND NOT (SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}},
              {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}}, {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}})
            AND has(ids, SpanAttributes[{{attr:AUDIT_DECISION_ID}}]))
          AND NOT mapContains(SpanAttributes, {{attr:AUDIT_BATCH_INDEX}}) AS shown,
        true AS in_trace, false AS is_leaf,
        formatRowNoNewline('JSONEachRow', ${TRACE_ROW_COLUMNS}) AS span
    FROM {{read:otel_traces}}
    WHERE ${inTrace}
${
  leaves === 0
    ? ''
    : `
    UNION ALL

    -- The checkpoint spans that can prove the shown leaves, with their stream, size and first leaf.
    SELECT
        'trace' AS role, 'span' AS kind, toDateTime64(0, 9) AS time, '' AS decision_id, '' AS trace_id,
        '' AS span_id, '' AS parent_span_id, '' AS name, service, '' AS status_code, toUInt64(0) AS duration_ns,
        CAST(map('stream', stream, 'size', size, 'first', first), 'Map(String, String)')
          AS attributes,
        false AS is_action, false AS shown, false AS in_trace, true AS is_leaf, span
    FROM (${checkpointSpansSql(leaves)})
`
}
    UNION ALL

    SELECT
        'entry' AS role, 'deployment' AS kind, time, '' AS decision_id, trace_id, span_id, '' AS parent_span_id,
        deployment_id AS name, service, '' AS status_code, toUInt64(0) AS duration_ns,
        CAST(map('deployment_id', deployment_id, 'model_id', model_id, 'model_version', model_version,
            'previous_version', previous_version, 'environment', environment, 'changelog', changelog,
            'weights_hash', weights_hash), 'Map(String, String)') AS attributes,
        false AS is_action, false AS shown, false AS in_trace, false AS is_leaf, '' AS span
    FROM {{read:audit_deployments}} FINAL
    WHERE has(models, model_id) AND time <= last_time

    UNION ALL

    SELECT
        'entry' AS role, 'incident' AS kind, CAST(occurred_at, 'DateTime64(9)') AS time, '' AS decision_id,
        '' AS trace_id, '' AS span_id, '' AS parent_span_id, title AS name, '' AS service, '' AS status_code,
        toUInt64(0) AS duration_ns,
        CAST(map('incident_id', incident_id, 'severity', severity, 'category', category, 'status', status,
            'description', description, 'report_deadline', toString(report_deadline),
            'reported_at', ifNull(toString(reported_at), '')), 'Map(String, String)') AS attributes,
        false AS is_action, false AS shown, false AS in_trace, false AS is_leaf, '' AS span
    FROM {{read:audit_incidents}} FINAL
    WHERE deleted = 0 AND hasAny(decision_ids, ids)
  )`;
}

/** The record types of the spans the read-time check proves besides tool runs. */
const CHECKED_RECORD_TYPES: ReadonlySet<string> = new Set([
  AUDIT_RECORD_TYPE_VALUES.DECISION,
  AUDIT_RECORD_TYPE_VALUES.OVERSIGHT,
  AUDIT_RECORD_TYPE_VALUES.FEEDBACK,
]);

/** A tree size as the checkpoint views take it from the span (`toUInt64OrZero`): 0 unless a decimal UInt64. */
function treeSizeOf(checkpoint: SpanRecord): bigint {
  const size = checkpoint.attributes[ATTR_AUDIT_CHECKPOINT_SIZE] ?? '';
  return SEQ.test(size) && BigInt(size) < 2n ** 64n ? BigInt(size) : 0n;
}

/**
 * The view's checkpoint entries (sql/decision-timeline-linked.sql, last branch), built from the checkpoint spans the
 * check reads (the first sizes above each shown leaf) instead of a read of `audit_checkpoints`, whose view takes its
 * columns from the same spans: for each decision with a leaf, the checkpoint of its stream at the first tree size
 * above its index (of two at that size, the lower span id), its columns taken from the span's attributes as that
 * view takes them. None when no checkpoint covers the leaf.
 */
function checkpointEntries(
  decisions: readonly TimelineEntry[],
  checkpoints: readonly { record: SpanRecord; service: string }[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const decision of decisions) {
    const stream = decision.attributes['integrity_stream'] ?? '';
    const seq = decision.attributes['integrity_seq'] ?? '';
    if (stream === '' || !SEQ.test(seq)) continue;
    let first: { checkpoint: SpanRecord; service: string; size: bigint } | undefined;
    for (const { record: checkpoint, service } of checkpoints) {
      if ((checkpoint.attributes[ATTR_AUDIT_INTEGRITY_STREAM] ?? '') !== stream) continue;
      const size = treeSizeOf(checkpoint);
      if (size <= BigInt(seq)) continue;
      if (
        first === undefined ||
        size < first.size ||
        (size === first.size && checkpoint.spanId < first.checkpoint.spanId)
      )
        first = { checkpoint, service, size };
    }
    if (first === undefined) continue;
    const { checkpoint, service, size } = first;
    const attribute = (name: string): string => checkpoint.attributes[name] ?? '';
    entries.push({
      kind: 'checkpoint',
      timeUnixNano: checkpoint.startTimeUnixNano,
      decisionId: decision.decisionId,
      traceId: checkpoint.traceId,
      spanId: checkpoint.spanId,
      parentSpanId: '',
      name: attribute(ATTR_AUDIT_CHECKPOINT_ORIGIN),
      service,
      statusCode: '',
      durationNanos: '0',
      attributes: {
        stream,
        tree_size: String(size),
        root: attribute(ATTR_AUDIT_CHECKPOINT_ROOT),
        key_id: attribute(ATTR_AUDIT_INTEGRITY_KEY_ID),
        note: attribute(ATTR_AUDIT_CHECKPOINT_NOTE),
        leaf_index: String(BigInt(seq)),
      },
    });
  }
  return entries;
}

type FirstRow = DecisionRow & { attributes: Record<string, string> };
type RestRow = TimelineEntry & {
  role: 'trace' | 'entry';
  in_trace: boolean | number;
  is_leaf: boolean | number;
  shown: boolean | number;
  span: string;
};

/**
 * The decision timeline (the rows of {@link decisionTimeline}) together with its read-time evidence (what
 * {@link timelineEvidence} returns for the decisions, reviews, feedback and tool runs it shows), in two statements
 * instead of four: the decisions with their reviews, feedback and linked spans by decision id; then everything
 * else, with `otel_traces` read once for the trace spans and tool runs shown, the signed rows checked and the
 * checkpoints of the audit rows' leaves (a third reads the checkpoints of leaves known only from spans: shown tool
 * runs, and a signed review or feedback whose audit row is gone). Empty when nothing matches.
 */
export async function timelineWithEvidence(
  ctx: QueryContext,
  query: { decisionId?: string; traceId?: string },
): Promise<TimelineWithEvidence> {
  const { decisionId, traceId } = timelineQuery(query);
  const first = await timelineRows<FirstRow>(ctx, firstSql(decisionId === '' ? 'trace' : 'decision'), {
    decision_id: decisionId,
    trace_id: traceId,
  });
  const decisions: TimelineEntry[] = [];
  const followUps: TimelineEntry[] = [];
  const links: { traceId: string; spanId: string; time: bigint; recordType: string }[] = [];
  for (const row of first) {
    if (row.kind === 'decision') decisions.push(decisionEntry(row));
    else if (row.kind === 'oversight' || row.kind === 'feedback') {
      followUps.push(timelineEntry(row, row.attributes));
    } else {
      links.push({
        traceId: row.traceId,
        spanId: row.spanId,
        time: BigInt(row.timeUnixNano),
        recordType: row.name,
      });
    }
  }
  if (decisions.length === 0) return { entries: [], evidence: { spans: [], checkpoints: [] } };
  const linked = linkedParams(decisions);
  // Reviews and feedback are read by their own rows' ids and by the links' (a row deleted from one is still found
  // through the other), each within a day of its time.
  const follow = [
    ...followUps.map((f) => ({ traceId: f.traceId, spanId: f.spanId, time: BigInt(f.timeUnixNano) })),
    ...links,
  ];
  const windows = windowsAround(follow.map((f) => f.time));
  const firstNs = BigInt(linked.first_ns);
  // Tool runs are read as the linked statement's action branch reads them: in the traces their links name.
  const actionLinks = links.filter(
    (link) => link.recordType === AUDIT_RECORD_TYPE_VALUES.ACTION && link.time >= firstNs - DAY_NS,
  );
  const actionTraces = actionLinks.map((link) => link.traceId);
  // A link's time is its run's start: the runs are read up to a day after the latest.
  const actionLastNs = actionLinks.reduce((a, link) => (link.time > a ? link.time : a), 0n);
  const leaves = [...decisions, ...followUps]
    .map((entry) => ({
      stream: entry.attributes['integrity_stream'] ?? '',
      seq: entry.attributes['integrity_seq'] ?? '',
    }))
    .filter((leaf) => leaf.stream !== '' && SEQ.test(leaf.seq));
  const rest = await timelineRows<RestRow>(
    ctx,
    restSql(windows.length, leaves.length, actionTraces.length > 0),
    {
      ...linked,
      follow_traces: [...new Set(follow.map((f) => f.traceId))],
      follow_spans: [...new Set(follow.map((f) => f.spanId))],
      ...leafParams(leaves),
      action_traces: [...new Set(actionTraces)],
      action_last_ns: String(actionLastNs),
      ...windowParams(windows),
    },
  );
  const evidence: TimelineEvidence = { spans: [], checkpoints: [] };
  const proposed: CheckpointSpanRow[] = [];
  const entries: TimelineEntry[] = [...decisions, ...followUps];
  // The earliest copy of each shown trace span and tool run, as the linked statement's branches keep it
  // (`ORDER BY SpanId, Timestamp LIMIT 1 BY SpanId`).
  const shown = new Map<string, TimelineEntry>();
  const actions = new Map<string, TimelineEntry>();
  const earliest = (kept: Map<string, TimelineEntry>, entry: TimelineEntry): void => {
    const earlier = kept.get(entry.spanId);
    if (earlier === undefined || BigInt(entry.timeUnixNano) < BigInt(earlier.timeUnixNano))
      kept.set(entry.spanId, entry);
  };
  for (const { role, in_trace: inTrace, is_leaf: isLeaf, shown: isShown, span, ...entry } of rest) {
    if (role === 'entry') {
      entries.push(entry);
      continue;
    }
    if (isLeaf) {
      const { stream = '', size = '0', first = '0' } = entry.attributes;
      proposed.push({ service: entry.service, stream, size, first, span });
      continue;
    }
    // A span of the timeline's traces, reviews, feedback or tool runs.
    const record = traceRowToSpanRecord(JSON.parse(span) as StoredTraceRow);
    if (inTrace) {
      evidence.spans.push(record);
      if (entry.kind === 'action') earliest(actions, entry);
      else if (isShown) earliest(shown, entry);
    }
  }
  // A decision's input and output hashes are its span's, read just now with the trace (migration 24).
  withDecisionSpanHashes(decisions, evidence.spans);
  // Leaves known only from the spans read just now are proven by the checkpoints read above when those hold them,
  // else by those of a statement of their own: a tool run's, and a decision's, review's or feedback's whose audit
  // row is gone or names another leaf (the span was found through its link or its trace; the row's own leaf was
  // asked for above). So are the asked leaves no checkpoint read holds (see coveringCheckpointRows).
  const asked = new Set(leaves.map((leaf) => `${leaf.stream}\n${leaf.seq}`));
  const later = new Map<string, { stream: string; seq: string }>();
  const leafOf = (stream: string, seq: string): void => {
    const key = `${stream}\n${seq}`;
    if (stream !== '' && SEQ.test(seq) && !asked.has(key)) later.set(key, { stream, seq });
  };
  for (const action of actions.values())
    leafOf(action.attributes['integrity_stream'] ?? '', action.attributes['integrity_seq'] ?? '');
  const ids = new Set(decisions.map((d) => d.decisionId));
  for (const span of evidence.spans) {
    const type = span.attributes[ATTR_AUDIT_RECORD_TYPE] ?? '';
    if (CHECKED_RECORD_TYPES.has(type) && ids.has(span.attributes[ATTR_AUDIT_DECISION_ID] ?? ''))
      leafOf(
        span.attributes[ATTR_AUDIT_INTEGRITY_STREAM] ?? '',
        span.attributes[ATTR_AUDIT_INTEGRITY_SEQ] ?? '',
      );
  }
  const checkpoints = (await coveringCheckpointRows(ctx, [...leaves, ...later.values()], proposed)).map(
    (row) => ({ record: traceRowToSpanRecord(JSON.parse(row.span) as StoredTraceRow), service: row.service }),
  );
  evidence.checkpoints.push(...checkpoints.map((checkpoint) => checkpoint.record));
  entries.push(...shown.values(), ...actions.values(), ...checkpointEntries(decisions, checkpoints));
  return { entries: entries.sort(compareEntries), evidence };
}
