import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_BATCH_INDEX,
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_CIPHERTEXT,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_OUTPUT_CIPHERTEXT,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import {
  DECISION_ATTRIBUTES,
  TIMELINE_DECISIONS,
  compareEntries,
  timelineEntry,
  timelineQuery,
  timelineRows,
  type TimelineEntry,
  type TimelineLookup,
} from './decision-timeline.ts';
import { StoreError } from './errors.ts';
import { signedTimelineEntry } from './signed-timeline-entry.ts';
import type { QueryContext } from './query-context.ts';
import {
  checkpointSpansSql,
  coveringCheckpointRows,
  DAY_NS,
  leafParams,
  SECOND_NS,
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
  /**
   * The timeline's rows. Unlike {@link decisionTimeline}'s, its decisions, reviews and feedback are built from their
   * signed spans in `otel_traces` (the rows the check reads), not from `audit_decisions`, `audit_oversight` and
   * `audit_feedback`: those tables only locate the spans here, and `verify` reconciles them.
   */
  entries: TimelineEntry[];
  /** What {@link timelineEvidence} returns for those rows' decisions, reviews, feedback and tool runs. */
  evidence: TimelineEvidence;
}

/** How the first statement finds the decisions' reviews, feedback and tool runs: by decision id or through the trace. */
const FOLLOW_UPS_OF = {
  decision: 'decision_id = {decision_id:String}',
  trace:
    'decision_id IN (SELECT decision_id FROM {{read:audit_decisions}} WHERE trace_id = {trace_id:String})',
} as const;

/**
 * First statement: where the spans are. The decisions' trace id, span id and time (with the model, to find its
 * deployments, and the stream and leaf index, to propose the checkpoints that prove them) from `audit_decisions`,
 * and every review, feedback and tool run `audit_decision_links` names for them — primary-key reads of the few
 * columns that locate a span, none of the values the timeline shows.
 */
function locateSql(by: TimelineLookup): string {
  return `
  SELECT 'decision' AS role, decision_id, trace_id, span_id, toString(toUnixTimestamp64Nano(time)) AS time_ns,
    model_id AS detail, integrity_stream AS stream, toString(integrity_seq) AS seq
  FROM {{read:audit_decisions}}
  WHERE ${TIMELINE_DECISIONS[by]}
  UNION ALL
  SELECT 'link', decision_id, trace_id, span_id, toString(toUnixTimestamp64Nano(time)), record_type,
    integrity_stream, ''
  FROM {{read:audit_decision_links}}
  WHERE ${FOLLOW_UPS_OF[by]}`;
}

interface LocatorRow {
  role: 'decision' | 'link';
  decision_id: string;
  trace_id: string;
  span_id: string;
  time_ns: string;
  /** A decision's model id; a link's record type. */
  detail: string;
  stream: string;
  seq: string;
}

/**
 * The second and third statements, one after the other (the third needs the leaves the second reads; on one connection
 * the engine ran them in a row when they were sent together, and side by side on two they gained no wall time quietly).
 * {@link tracesSql}: `otel_traces` read once for both the trace spans the timeline shows and the signed spans it shows
 * and checks — every row of the decisions' traces from a day before the first to a day after the last decision (every
 * copy of each decision span among them: the trace's other spans have no located time), every copy of each located
 * review and feedback span within a second of its located time, and the tool runs in the traces their links name (its
 * reads of reviews, feedback and tool runs only when there are any: a disjunct over an empty list still makes the
 * engine check the trace-id filter of every granule in its time range). {@link besideSql}: the checkpoint spans that
 * can prove the leaves of the decisions, reviews, feedback and tool runs the first read gives (by stream and leaf
 * index, {@link checkpointSpansSql}: primary-key reads), and the view's deployment and incident branches (as in
 * sql/decision-timeline-linked.sql). Until 2026-12-07 it was sent with the trace read, so a review's or feedback's
 * leaf was not known yet and its checkpoints were found by stream and time (`time` is not in the table's key: every
 * granule of the stream, ≈ 400 marks at 10 M — the timeline's slow tail, which was every decision with a review or
 * feedback). The view's checkpoint entry is built from those checkpoint spans
 * ({@link checkpointEntries}), not read apart.
 *
 * The trace rows travel whole as JSON in `span`, with the `ServiceName` column and the three values the audit tables'
 * views convert in SQL (confidence, leaf index, retention class) converted the same way; which of them the timeline
 * shows as a trace span or a tool run is decided from them by {@link traceRowRole}, by the rules of the linked
 * statement's branches (deciding it in the statement cost ≈ 9 of ≈ 30 ms CPU per timeline at 10 M under load).
 */
function tracesSql(windows: number, actions: boolean): string {
  const dayAround = (first: string, last: string): string =>
    `Timestamp >= fromUnixTimestamp64Nano({${first}:Int64}) - toIntervalDay(1)
        AND Timestamp <= fromUnixTimestamp64Nano({${last}:Int64}) + toIntervalDay(1)`;
  // What the timeline's traces, reviews, feedback and tool runs are read by.
  const inTrace = `((has({traces:Array(String)}, TraceId) AND ${dayAround('first_ns', 'last_ns')})
      ${windows === 0 ? '' : `OR (has({follow_traces:Array(String)}, TraceId) AND has({follow_spans:Array(String)}, SpanId) AND (${withinWindows(windows)}))`}
      ${actions ? `OR (has({action_traces:Array(String)}, TraceId) AND ${dayAround('first_ns', 'action_last_ns')})` : ''})`;
  return `
  SELECT
    formatRowNoNewline('JSONEachRow', ${TRACE_ROW_COLUMNS}) AS span,
    ServiceName AS service,
    ifNull(toString(toFloat64OrNull(SpanAttributes[{{attr:AUDIT_DECISION_CONFIDENCE}}])), '') AS signed_confidence,
    toString(toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}])) AS signed_seq,
    {{retention_class:SpanAttributes}} AS signed_retention
  FROM {{read:otel_traces}}
  WHERE ${inTrace}
  -- In time order with a bound, so the engine reads the wide columns lazily: the trace-id and time columns of the
  -- granules first, then the other columns of the matching rows only (when a granule was ≈ 3,900 rows, every column
  -- of it deserialized cost ≈ 9 ms CPU of ≈ 35 at 10 M under load). The bound is a check, not a cut: a read that
  -- reaches it fails (see timelineWithEvidence). No PREWHERE: the lazy read already reads the filter's columns
  -- first, and choosing what to move there weighs the columns' sizes in every part of the table, ≈ 2.5 ms of plan
  -- optimisation at 10 M (289 parts) for the same bytes read (25 interleaved runs, load ≈ 12: 20.0 → 17.1 ms CPU).
  ORDER BY Timestamp
  LIMIT ${TRACE_ROWS_BOUND + 1}
  SETTINGS query_plan_optimize_lazy_materialization = 1,
    query_plan_max_limit_for_lazy_materialization = ${TRACE_ROWS_BOUND + 1},
    optimize_move_to_prewhere = 0`;
}

/** One row of {@link tracesSql}. */
interface TraceReadRow {
  span: string;
  service: string;
  signed_confidence: string;
  signed_seq: string;
  signed_retention: string;
}

/** The span attributes the linked statement's trace-span branch leaves out of a shown span's attributes. */
const CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_AUDIT_INPUT_CIPHERTEXT,
  ATTR_AUDIT_OUTPUT_CIPHERTEXT,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
]);

/** The record types of a decision's follow-ups, which the trace-span branch does not show as spans of its trace. */
const FOLLOW_UP_TYPES: ReadonlySet<string> = new Set([
  AUDIT_RECORD_TYPE_VALUES.OVERSIGHT,
  AUDIT_RECORD_TYPE_VALUES.FEEDBACK,
  AUDIT_RECORD_TYPE_VALUES.ACTION,
]);

/** What {@link traceRowRole} decides a trace row by: the first statement's decisions and tool-run links. */
interface TraceRowScope {
  ids: ReadonlySet<string>;
  traces: ReadonlySet<string>;
  decisionSpans: ReadonlySet<string>;
  actionTraces: ReadonlySet<string>;
  firstNs: bigint;
  lastNs: bigint;
  actionLastNs: bigint;
}

/**
 * Whether a row of the trace read is a tool run of the timeline's decisions (the linked statement's action branch: in
 * a trace a link names, from a day before the first decision to a day after the latest run linked, an action record
 * of one of the decisions), a span of their traces shown as such (its trace-span branch: within a day of the
 * decisions, not one of the decisions, not a review, feedback or tool run of them, not a row of a batch), or neither
 * (a row read for the check only).
 */
function traceRowRole(span: SpanRecord, scope: TraceRowScope): 'action' | 'span' | undefined {
  const time = BigInt(span.startTimeUnixNano);
  const type = span.attributes[ATTR_AUDIT_RECORD_TYPE] ?? '';
  const ofDecisions = scope.ids.has(span.attributes[ATTR_AUDIT_DECISION_ID] ?? '');
  if (
    scope.actionTraces.has(span.traceId) &&
    time >= scope.firstNs - DAY_NS &&
    time <= scope.actionLastNs + DAY_NS &&
    type === AUDIT_RECORD_TYPE_VALUES.ACTION &&
    ofDecisions
  )
    return 'action';
  if (
    scope.traces.has(span.traceId) &&
    time >= scope.firstNs - DAY_NS &&
    time <= scope.lastNs + DAY_NS &&
    !scope.decisionSpans.has(span.spanId) &&
    !(FOLLOW_UP_TYPES.has(type) && ofDecisions) &&
    !Object.hasOwn(span.attributes, ATTR_AUDIT_BATCH_INDEX)
  )
    return 'span';
  return undefined;
}

/** A span of the decisions' traces as the linked statement's trace-span branch shows it. */
function traceSpanEntry(span: SpanRecord, service: string): TimelineEntry {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(span.attributes))
    if (!CONTENT_ATTRIBUTES.has(key)) attributes[key] = value;
  return timelineEntry(
    {
      kind: 'span',
      timeUnixNano: span.startTimeUnixNano,
      decisionId: '',
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name: span.name,
      service,
      statusCode: span.statusCode,
      durationNanos: String(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)),
    },
    attributes,
  );
}

/** The most rows the timeline's trace read returns: a timeline whose traces hold more fails rather than shows part. */
const TRACE_ROWS_BOUND = 1_000_000;

/**
 * The checkpoints, deployments and incidents statement of the second step. Each branch gives only what it needs,
 * rather than one shape of every timeline column: a checkpoint span with its stream, size and first leaf
 * ({@link checkpointSpansSql}), a deployment's or incident's columns as one JSON string, which
 * {@link deploymentEntry} and {@link incidentEntry} make entries of as the view's branches do
 * (sql/decision-timeline-linked.sql). Planning a branch costs by the expressions it has: the seventeen timeline
 * columns of each branch (a `CAST(map(…))` among them) cost ≈ 1.8 of ≈ 11 ms CPU per statement (1 M decisions,
 * load ≈ 10, interleaved), and a shared `WITH` and outer `SELECT` over the branches ≈ 3.5 of ≈ 15 ms at 10 M before.
 */
function besideSql(leaves: number): string {
  return `${
    leaves === 0
      ? ''
      : `
    -- Checkpoint spans that can prove the shown leaves, with their stream, size and first leaf.
    SELECT 'checkpoint' AS role, service, stream, size, first, span FROM (${checkpointSpansSql(leaves)})

    UNION ALL
`
  }
    SELECT 'deployment' AS role, service, '' AS stream, '' AS size, '' AS first,
        formatRowNoNewline('JSONEachRow', toString(toUnixTimestamp64Nano(time)) AS time_ns, trace_id, span_id,
            deployment_id, model_id, model_version, previous_version, environment, changelog, weights_hash) AS span
    FROM {{read:audit_deployments}} FINAL
    WHERE has({models:Array(String)}, model_id) AND time <= fromUnixTimestamp64Nano({last_ns:Int64})

    UNION ALL

    SELECT 'incident' AS role, '' AS service, '' AS stream, '' AS size, '' AS first,
        formatRowNoNewline('JSONEachRow', toString(toUnixTimestamp64Nano(CAST(occurred_at, 'DateTime64(9)'))) AS time_ns,
            title, incident_id, severity, category, status, description,
            toString(report_deadline) AS report_deadline, ifNull(toString(reported_at), '') AS reported_at) AS span
    FROM {{read:audit_incidents}} FINAL
    WHERE deleted = 0 AND hasAny(decision_ids, {ids:Array(String)})
`;
}

/** One row of {@link besideSql}: a checkpoint span, or a deployment's or incident's columns as JSON in `span`. */
type BesideRow = CheckpointSpanRow & { role: 'checkpoint' | 'deployment' | 'incident' };

/** A deployment's columns as {@link besideSql} gives them. */
interface DeploymentColumns {
  time_ns: string;
  trace_id: string;
  span_id: string;
  deployment_id: string;
  model_id: string;
  model_version: string;
  previous_version: string;
  environment: string;
  changelog: string;
  weights_hash: string;
}

/** A deployment entry, as the view's deployment branch gives it (its attributes in that branch's order). */
function deploymentEntry(service: string, d: DeploymentColumns): TimelineEntry {
  return timelineEntry(
    {
      kind: 'deployment',
      timeUnixNano: d.time_ns,
      decisionId: '',
      traceId: d.trace_id,
      spanId: d.span_id,
      parentSpanId: '',
      name: d.deployment_id,
      service,
      statusCode: '',
      durationNanos: '0',
    },
    {
      deployment_id: d.deployment_id,
      model_id: d.model_id,
      model_version: d.model_version,
      previous_version: d.previous_version,
      environment: d.environment,
      changelog: d.changelog,
      weights_hash: d.weights_hash,
    },
  );
}

/** An incident's columns as {@link besideSql} gives them. */
interface IncidentColumns {
  time_ns: string;
  title: string;
  incident_id: string;
  severity: string;
  category: string;
  status: string;
  description: string;
  report_deadline: string;
  reported_at: string;
}

/** An incident entry, as the view's incident branch gives it (its attributes in that branch's order). */
function incidentEntry(i: IncidentColumns): TimelineEntry {
  return timelineEntry(
    {
      kind: 'incident',
      timeUnixNano: i.time_ns,
      decisionId: '',
      traceId: '',
      spanId: '',
      parentSpanId: '',
      name: i.title,
      service: '',
      statusCode: '',
      durationNanos: '0',
    },
    {
      incident_id: i.incident_id,
      severity: i.severity,
      category: i.category,
      status: i.status,
      description: i.description,
      report_deadline: i.report_deadline,
      reported_at: i.reported_at,
    },
  );
}

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

/** The record types whose spans the timeline shows as a decision, review or feedback entry. */
const ENTRY_KIND_OF: Readonly<Record<string, 'decision' | 'oversight' | 'feedback'>> = {
  [AUDIT_RECORD_TYPE_VALUES.DECISION]: 'decision',
  [AUDIT_RECORD_TYPE_VALUES.OVERSIGHT]: 'oversight',
  [AUDIT_RECORD_TYPE_VALUES.FEEDBACK]: 'feedback',
};

/**
 * A located span no stored row backs: shown by its location only (no value of an audit table), for the check to
 * fail as missing.
 */
function locatedEntry(kind: 'decision' | 'oversight' | 'feedback', at: LocatorRow): TimelineEntry {
  const attributes: Record<string, string> = {};
  if (kind === 'decision') for (const name of DECISION_ATTRIBUTES) attributes[name] = '';
  return timelineEntry(
    {
      kind,
      timeUnixNano: at.time_ns,
      decisionId: at.decision_id,
      traceId: at.trace_id,
      spanId: at.span_id,
      parentSpanId: '',
      name: '',
      service: '',
      statusCode: '',
      durationNanos: '0',
    },
    attributes,
  );
}

/**
 * The decision timeline with its read-time evidence (what {@link timelineEvidence} returns for the decisions,
 * reviews, feedback and tool runs it shows), in three statements: where the spans are, by decision id (or trace id)
 * from `audit_decisions` and `audit_decision_links` (ids, times, streams; no value shown); then `otel_traces` once for
 * the trace spans, the signed decision, review and feedback spans and the tool runs; then the checkpoints that can
 * prove their leaves, the deployments and the incidents (a fourth reads the checkpoints of leaves none of those
 * holds: a leaf whose checkpoint does not carry it).
 *
 * The decisions, reviews and feedback shown are their signed spans' values (the earliest copy of each span; a
 * conflicting copy is the check's to report): every review and feedback span of the decisions read, whether located by
 * its link or found in the decisions' traces. A located span with no stored row is shown by its location alone. So the
 * audit tables' values are not shown here and an edit of them changes nothing shown — `verify` reconciles those tables
 * with the spans and names any row that differs, is missing or extra. Empty when nothing matches.
 */
export async function timelineWithEvidence(
  ctx: QueryContext,
  query: { decisionId?: string; traceId?: string },
  // The connection the checkpoints, deployments and incidents statement goes over (it runs after the trace read).
  side: QueryContext = ctx,
): Promise<TimelineWithEvidence> {
  const { decisionId, traceId } = timelineQuery(query);
  const located = await timelineRows<LocatorRow>(ctx, locateSql(decisionId === '' ? 'trace' : 'decision'), {
    decision_id: decisionId,
    trace_id: traceId,
  });
  // Without FINAL (a locator needs no collapsing; ≈ 1.5 ms at 10 M): a decision stored twice is located twice, and
  // two rows naming one span are one entry. Two rows of one decision id naming different spans are two entries.
  const decisionAt = new Map<string, LocatorRow>();
  const linkAt = new Map<string, LocatorRow>();
  for (const row of located) {
    const at = row.role === 'decision' ? decisionAt : linkAt;
    const key = `${row.trace_id}/${row.span_id}`;
    const earlier = at.get(key);
    if (earlier === undefined || BigInt(row.time_ns) < BigInt(earlier.time_ns)) at.set(key, row);
  }
  if (decisionAt.size === 0) return { entries: [], evidence: { spans: [], checkpoints: [] } };
  const decisions = [...decisionAt.values()];
  const links = [...linkAt.values()];
  const times = decisions.map((d) => BigInt(d.time_ns));
  const firstNs = times.reduce((a, b) => (b < a ? b : a));
  const linked = {
    ids: [...new Set(decisions.map((d) => d.decision_id))],
    traces: [...new Set(decisions.map((d) => d.trace_id))],
    decision_spans: decisions.map((d) => d.span_id),
    models: [...new Set(decisions.map((d) => d.detail))],
    first_ns: String(firstNs),
    last_ns: String(times.reduce((a, b) => (b > a ? b : a))),
  };
  // Reviews and feedback are read where their links put them: their copies within a second of that time.
  const follow = links.filter((link) => ENTRY_KIND_OF[link.detail] !== undefined);
  const windows = windowsAround(
    follow.map((f) => BigInt(f.time_ns)),
    SECOND_NS,
  );
  // Tool runs are read as the linked statement's action branch reads them: in the traces their links name.
  const actionLinks = links.filter(
    (link) => link.detail === AUDIT_RECORD_TYPE_VALUES.ACTION && BigInt(link.time_ns) >= firstNs - DAY_NS,
  );
  // A link's time is its run's start: the runs are read up to a day after the latest.
  const actionLastNs = actionLinks.reduce(
    (a, link) => (BigInt(link.time_ns) > a ? BigInt(link.time_ns) : a),
    0n,
  );
  const params = {
    ...linked,
    follow_traces: [...new Set(follow.map((f) => f.trace_id))],
    follow_spans: [...new Set(follow.map((f) => f.span_id))],
    action_traces: [...new Set(actionLinks.map((link) => link.trace_id))],
    action_last_ns: String(actionLastNs),
    ...windowParams(windows),
  };
  const traceRows = await timelineRows<TraceReadRow>(
    ctx,
    tracesSql(windows.length, actionLinks.length > 0),
    params,
  );
  if (traceRows.length > TRACE_ROWS_BOUND)
    throw new StoreError(
      'QUERY_FAILED',
      `timeline: the decisions' traces hold more than ${TRACE_ROWS_BOUND.toLocaleString('en-US')} spans within a day of them; not shown in part`,
    );
  const evidence: TimelineEvidence = { spans: [], checkpoints: [] };
  // The earliest copy of each shown trace span, tool run, decision, review and feedback, as the linked statement's
  // branches keep it (`ORDER BY SpanId, Timestamp LIMIT 1 BY SpanId`).
  const shown = new Map<string, TimelineEntry>();
  const actions = new Map<string, TimelineEntry>();
  const signed = new Map<string, TimelineEntry>();
  const earliest = (kept: Map<string, TimelineEntry>, key: string, entry: TimelineEntry): void => {
    const earlier = kept.get(key);
    if (earlier === undefined || BigInt(entry.timeUnixNano) < BigInt(earlier.timeUnixNano))
      kept.set(key, entry);
  };
  const ids = new Set(linked.ids);
  const scope: TraceRowScope = {
    ids,
    traces: new Set(linked.traces),
    decisionSpans: new Set(linked.decision_spans),
    actionTraces: new Set(params.action_traces),
    firstNs,
    lastNs: BigInt(linked.last_ns),
    actionLastNs,
  };
  for (const row of traceRows) {
    // A span of the timeline's traces, reviews, feedback or tool runs.
    const record = traceRowToSpanRecord(JSON.parse(row.span) as StoredTraceRow);
    evidence.spans.push(record);
    const converted = {
      confidence: row.signed_confidence,
      seq: row.signed_seq,
      retention: row.signed_retention,
    };
    const role = traceRowRole(record, scope);
    if (role === 'action')
      earliest(
        actions,
        record.spanId,
        signedTimelineEntry('action', record, { service: row.service, converted }),
      );
    else if (role === 'span') earliest(shown, record.spanId, traceSpanEntry(record, row.service));
    const kind = ENTRY_KIND_OF[record.attributes[ATTR_AUDIT_RECORD_TYPE] ?? ''];
    const key = `${record.traceId}/${record.spanId}`;
    if (kind === undefined || !ids.has(record.attributes[ATTR_AUDIT_DECISION_ID] ?? '')) continue;
    // A decision is the span its audit row locates; every review and feedback of the decisions read is shown.
    if (kind === 'decision' && !decisionAt.has(key)) continue;
    earliest(signed, key, signedTimelineEntry(kind, record, { service: row.service, converted }));
  }
  // Located spans no stored row backs.
  for (const [key, at] of decisionAt) if (!signed.has(key)) signed.set(key, locatedEntry('decision', at));
  for (const [key, at] of linkAt) {
    const kind = ENTRY_KIND_OF[at.detail];
    if (kind !== undefined && kind !== 'decision' && !signed.has(key))
      signed.set(key, locatedEntry(kind, at));
  }
  // The leaves to prove are the shown spans' own, known now that their spans are read: the checkpoints that can
  // prove them are read by primary key ({@link checkpointSpansSql}) with the deployments and incidents, and those of
  // leaves none of them holds by a statement of their own (see coveringCheckpointRows).
  const leafSet = new Map<string, { stream: string; seq: string }>();
  for (const entry of [...signed.values(), ...actions.values()]) {
    const stream = entry.attributes['integrity_stream'] ?? '';
    const seq = entry.attributes['integrity_seq'] ?? '';
    if (stream !== '' && SEQ.test(seq)) leafSet.set(`${stream}\n${seq}`, { stream, seq });
  }
  const leaves = [...leafSet.values()];
  const besideRows = await timelineRows<BesideRow>(side, besideSql(leaves.length), {
    ids: linked.ids,
    models: linked.models,
    last_ns: linked.last_ns,
    ...leafParams(leaves),
  });
  const proposed: CheckpointSpanRow[] = [];
  const entries: TimelineEntry[] = [];
  for (const { role, ...row } of besideRows) {
    if (role === 'checkpoint') proposed.push(row);
    else if (role === 'deployment') entries.push(deploymentEntry(row.service, JSON.parse(row.span)));
    else entries.push(incidentEntry(JSON.parse(row.span)));
  }
  const checkpoints = (await coveringCheckpointRows(ctx, leaves, proposed)).map((row) => ({
    record: traceRowToSpanRecord(JSON.parse(row.span) as StoredTraceRow),
    service: row.service,
  }));
  evidence.checkpoints.push(...checkpoints.map((checkpoint) => checkpoint.record));
  const decisionEntries = [...signed.values()].filter((entry) => entry.kind === 'decision');
  entries.push(
    ...signed.values(),
    ...shown.values(),
    ...actions.values(),
    ...checkpointEntries(decisionEntries, checkpoints),
  );
  return { entries: entries.sort(compareEntries), evidence };
}
