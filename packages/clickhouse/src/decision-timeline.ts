import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext, type QueryParams } from './query-context.ts';

/** What a timeline entry is; the `decision_timeline` view is the latest migration that replaces it. */
export type TimelineEntryKind =
  'decision' | 'span' | 'oversight' | 'feedback' | 'action' | 'deployment' | 'incident' | 'checkpoint';

/** One row of `decision_timeline`, ordered by time. */
export interface TimelineEntry {
  kind: TimelineEntryKind;
  /** Decimal nanoseconds since the epoch. */
  timeUnixNano: string;
  /**
   * The decision this entry belongs to ('' for trace spans, deployments and incidents). An `action` is a tool run
   * tied to the decision by its id, recorded in any trace.
   */
  decisionId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** Span name, oversight action, feedback source, deployment id, incident title or checkpoint origin. */
  name: string;
  service: string;
  statusCode: string;
  durationNanos: string;
  /**
   * Typed fields of the entry as strings: for `span` the span attributes; for the others the
   * columns of the audit table (e.g. `outcome`, `confidence`, `action`, `tree_size`, `note`).
   */
  attributes: Record<string, string>;
}

/** A timeline row's columns over the view's branch columns (also used by timeline-with-evidence.ts). */
export const OUTPUT_COLUMNS = `kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, decision_id AS decisionId,
    trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, name, service,
    status_code AS statusCode, toString(duration_ns) AS durationNanos, attributes`;

/**
 * The typed fields of a decision entry, in the order of `sql/decision-timeline-decision-row.sql`
 * (the view builds the same map in SQL; a test checks that both return the same rows).
 */
export const DECISION_ATTRIBUTES = [
  'model_id',
  'model_version',
  'model_type',
  'provider',
  'operation',
  'decision_type',
  'outcome',
  'confidence',
  'input_hash',
  'output_hash',
  'subject_id',
  'actor_id',
  'session_id',
  'fairness_group',
  'risk_level',
  'purpose',
  'automation',
  'error_type',
  'retention_class',
  'integrity_stream',
  'integrity_seq',
] as const;

/**
 * Which decisions a timeline is about, for the lookup asked: by decision id (primary key) or by trace id (skip index).
 * One condition for the lookup asked rather than both behind parameter tests the engine folds: analysing those cost
 * ≈ 0.65 of ≈ 5.7 ms CPU a statement (the checked timeline's locate, 1 M decisions, load ≈ 10, 80 interleaved runs).
 */
export const TIMELINE_DECISIONS = {
  decision: 'decision_id = {decision_id:String}',
  trace: 'trace_id = {trace_id:String}',
} as const;

/** How a timeline is asked for: by decision id or by trace id. */
export type TimelineLookup = keyof typeof TIMELINE_DECISIONS;

/**
 * The decisions of the timeline: the view's `decision` branch, its typed fields as columns. The
 * engine spends ≈ 2.5 ms analysing a 21-entry `map(…)`; the store builds the same map from the
 * columns instead (see {@link decisionEntry}). The input and output hashes are empty here: audit_decisions
 * does not hold them (migration 24), {@link withDecisionSpanHashes} takes them from the decision spans.
 */
function decisionsSql(by: TimelineLookup): string {
  return `
  SELECT 'decision' AS kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano,
    decision_id AS decisionId, trace_id AS traceId, span_id AS spanId, '' AS parentSpanId,
    span_name AS name, service, status_code AS statusCode, '0' AS durationNanos,
    ${DECISION_ATTRIBUTES.map((name) =>
      name === 'confidence'
        ? "ifNull(toString(confidence), '') AS confidence"
        : name === 'integrity_seq'
          ? 'toString(integrity_seq) AS integrity_seq'
          : name === 'input_hash' || name === 'output_hash'
            ? `'' AS ${name}`
            : name,
    ).join(', ')}
  FROM {{read:audit_decisions}} FINAL
  WHERE ${TIMELINE_DECISIONS[by]}`;
}

export type DecisionRow = Omit<TimelineEntry, 'attributes'> &
  Record<(typeof DECISION_ATTRIBUTES)[number], string>;

/** A timeline row's entry columns with the given attributes (the one place a row becomes a {@link TimelineEntry}). */
export function timelineEntry(
  row: Omit<TimelineEntry, 'attributes'>,
  attributes: Record<string, string>,
): TimelineEntry {
  return {
    kind: row.kind,
    timeUnixNano: row.timeUnixNano,
    decisionId: row.decisionId,
    traceId: row.traceId,
    spanId: row.spanId,
    parentSpanId: row.parentSpanId,
    name: row.name,
    service: row.service,
    statusCode: row.statusCode,
    durationNanos: row.durationNanos,
    attributes,
  };
}

/** A span as the timeline's hashes need it: its id and attributes (a SpanRecord, a stored copy). */
export interface DecisionSpanAttributes {
  spanId: string;
  attributes: Record<string, string>;
}

/**
 * The decisions' `input_hash` and `output_hash` attributes from their decision spans (the view's decision row takes
 * them the same way): each decision's span is the one with its span id that is a decision record of its decision id.
 */
export function withDecisionSpanHashes(
  decisions: readonly TimelineEntry[],
  spans: readonly DecisionSpanAttributes[],
): void {
  const bySpan = new Map(decisions.map((d) => [d.spanId, d]));
  for (const span of spans) {
    const decision = bySpan.get(span.spanId);
    if (
      decision === undefined ||
      span.attributes[ATTR_AUDIT_RECORD_TYPE] !== AUDIT_RECORD_TYPE_VALUES.DECISION ||
      span.attributes[ATTR_AUDIT_DECISION_ID] !== decision.decisionId
    )
      continue;
    decision.attributes['input_hash'] = span.attributes[ATTR_AUDIT_INPUT_HASH] ?? '';
    decision.attributes['output_hash'] = span.attributes[ATTR_AUDIT_OUTPUT_HASH] ?? '';
  }
}

/** A decision row of {@link decisionsSql} as a timeline entry, its typed fields as attributes. */
export function decisionEntry(row: DecisionRow): TimelineEntry {
  const attributes: Record<string, string> = {};
  for (const name of DECISION_ATTRIBUTES) attributes[name] = row[name];
  return timelineEntry(row, attributes);
}

/**
 * The parameters the linked statement reads the decisions by, as `WITH` names (see {@link linkedParams}); every
 * statement that reads what is linked to the decisions starts with them.
 */
export const LINKED_WITH = `{ids:Array(String)} AS ids,
    {traces:Array(String)} AS traces,
    {decision_spans:Array(String)} AS decision_spans,
    {models:Array(String)} AS models,
    {decision_streams:Array(String)} AS decision_streams,
    arrayMap(s -> toUInt64(s), {decision_seqs:Array(String)}) AS decision_seqs,
    fromUnixTimestamp64Nano({first_ns:Int64}) AS first_time,
    fromUnixTimestamp64Nano({last_ns:Int64}) AS last_time`;

/** The values of {@link LINKED_WITH} for these decisions (at least one). */
export function linkedParams(decisions: readonly TimelineEntry[]) {
  const times = decisions.map((d) => BigInt(d.timeUnixNano));
  return {
    ids: decisions.map((d) => d.decisionId),
    traces: [...new Set(decisions.map((d) => d.traceId))],
    decision_spans: decisions.map((d) => d.spanId),
    models: [...new Set(decisions.map((d) => d.attributes['model_id'] ?? ''))],
    decision_streams: decisions.map((d) => d.attributes['integrity_stream'] ?? ''),
    decision_seqs: decisions.map((d) => d.attributes['integrity_seq'] ?? '0'),
    first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
    last_ns: String(times.reduce((a, b) => (b > a ? b : a))),
  };
}

/** Everything linked to them: the view's other branches, given the decisions as parameters. */
const LINKED_SQL = `
  WITH
    ${LINKED_WITH}
  SELECT ${OUTPUT_COLUMNS}
  FROM (
    {{include:decision-timeline-linked.sql}}

    UNION ALL

    {{include:decision-timeline-decision-spans.sql}}
  )`;

/**
 * Runs one of the timeline statements. Unlike `ctx.rows` it passes no client settings: on the
 * embedded engine those become a separate `SET` statement before every query (≈ 2 ms each), and
 * the timeline needs none (its 64-bit values are already strings).
 */
export async function timelineRows<T = TimelineEntry>(
  ctx: QueryContext,
  template: string,
  params: QueryParams,
): Promise<T[]> {
  try {
    const result = await ctx.client.query({
      query: ctx.sql(template),
      query_params: params,
      format: 'JSONEachRow',
    });
    return await result.json<T>();
  } catch (cause) {
    throw new StoreError('QUERY_FAILED', `query failed: ${(cause as Error).message}`, { cause });
  }
}

/** A timeline query's decision id and trace id, checked: exactly one of them given. */
export function timelineQuery(query: { decisionId?: string; traceId?: string }): {
  decisionId: string;
  traceId: string;
} {
  const decisionId = requireString(query?.decisionId ?? '', 'decisionId');
  const traceId = requireString(query?.traceId ?? '', 'traceId');
  if ((decisionId === '') === (traceId === '')) {
    throw new StoreError('INVALID_ARGUMENT', 'give exactly one of decisionId and traceId');
  }
  return { decisionId, traceId };
}

/** Timeline order: by time, then kind (as the view's `ORDER BY time, kind`). */
export function compareEntries(a: TimelineEntry, b: TimelineEntry): number {
  const at = BigInt(a.timeUnixNano);
  const bt = BigInt(b.timeUnixNano);
  if (at !== bt) return at < bt ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/**
 * The decision timeline by decision id or by trace id (exactly one of them): the decision(s),
 * every span of the trace, oversight and feedback linked from anywhere, earlier deployments of
 * the model, incidents that reference it and the covering checkpoint. Empty when nothing matches.
 *
 * Same rows as the `decision_timeline` view, read as two statements: the decisions first, then
 * everything linked to them with the decisions bound as parameters. The engine plans a statement
 * before it reads anything and the view's scalar subqueries are planned at every use, so this
 * halves the planning; a decision id that matches nothing costs one primary-key lookup.
 */
export async function decisionTimeline(
  ctx: QueryContext,
  query: { decisionId?: string; traceId?: string },
): Promise<TimelineEntry[]> {
  const { decisionId, traceId } = timelineQuery(query);
  const rows = await timelineRows<DecisionRow>(ctx, decisionsSql(decisionId === '' ? 'trace' : 'decision'), {
    decision_id: decisionId,
    trace_id: traceId,
  });
  const decisions = rows.map(decisionEntry);
  if (decisions.length === 0) return [];
  const rest = await timelineRows(ctx, LINKED_SQL, {
    ...linkedParams(decisions),
    decision_services: [...new Set(decisions.map((d) => d.service))],
    decision_names: [...new Set(decisions.map((d) => d.name))],
  });
  // The decision spans' rows carry the decisions' hashes (sql/decision-timeline-decision-spans.sql); not entries.
  withDecisionSpanHashes(
    decisions,
    rest.filter((row) => (row.kind as string) === 'decision_span'),
  );
  const linked = rest.filter((row) => (row.kind as string) !== 'decision_span');
  return [...decisions, ...linked].sort(compareEntries);
}
