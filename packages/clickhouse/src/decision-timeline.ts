import { StoreError } from './errors.ts';
import { requireString, type QueryContext, type QueryParams } from './query-context.ts';

/** What a timeline entry is; see `sql/decision-timeline-view.sql`. */
export type TimelineEntryKind =
  'decision' | 'span' | 'oversight' | 'feedback' | 'deployment' | 'incident' | 'checkpoint';

/** One row of `decision_timeline`, ordered by time. */
export interface TimelineEntry {
  kind: TimelineEntryKind;
  /** Decimal nanoseconds since the epoch. */
  timeUnixNano: string;
  /** The decision this entry belongs to ('' for trace spans, deployments and incidents). */
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

const OUTPUT_COLUMNS = `kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, decision_id AS decisionId,
    trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, name, service,
    status_code AS statusCode, toString(duration_ns) AS durationNanos, attributes`;

/** The decisions of the timeline: the same rows as the view's `decision` branch. */
const DECISIONS_SQL = `
  SELECT ${OUTPUT_COLUMNS}
  FROM (
    SELECT {{include:decision-timeline-decision-row.sql}}
    FROM {{read:audit_decisions}} FINAL
    WHERE {{include:decision-timeline-decisions-where.sql}}
  )`;

/** Everything linked to them: the view's other branches, given the decisions as parameters. */
const LINKED_SQL = `
  WITH
    {ids:Array(String)} AS ids,
    {traces:Array(String)} AS traces,
    {decision_spans:Array(String)} AS decision_spans,
    {models:Array(String)} AS models,
    {decision_streams:Array(String)} AS decision_streams,
    arrayMap(s -> toUInt64(s), {decision_seqs:Array(String)}) AS decision_seqs,
    fromUnixTimestamp64Nano({first_ns:Int64}) AS first_time,
    fromUnixTimestamp64Nano({last_ns:Int64}) AS last_time
  SELECT ${OUTPUT_COLUMNS}
  FROM (
    {{include:decision-timeline-linked.sql}}
  )`;

/**
 * Runs one of the timeline statements. Unlike `ctx.rows` it passes no client settings: on the
 * embedded engine those become a separate `SET` statement before every query (≈ 2 ms each), and
 * the timeline needs none (its 64-bit values are already strings).
 */
async function timelineRows(
  ctx: QueryContext,
  template: string,
  params: QueryParams,
): Promise<TimelineEntry[]> {
  try {
    const result = await ctx.client.query({
      query: ctx.sql(template),
      query_params: params,
      format: 'JSONEachRow',
    });
    return await result.json<TimelineEntry>();
  } catch (cause) {
    throw new StoreError('QUERY_FAILED', `query failed: ${(cause as Error).message}`, { cause });
  }
}

/** Timeline order: by time, then kind (as the view's `ORDER BY time, kind`). */
function compareEntries(a: TimelineEntry, b: TimelineEntry): number {
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
  const decisionId = requireString(query.decisionId ?? '', 'decisionId');
  const traceId = requireString(query.traceId ?? '', 'traceId');
  if ((decisionId === '') === (traceId === '')) {
    throw new StoreError('INVALID_ARGUMENT', 'give exactly one of decisionId and traceId');
  }
  const decisions = await timelineRows(ctx, DECISIONS_SQL, {
    decision_id: decisionId,
    trace_id: traceId,
  });
  if (decisions.length === 0) return [];
  const times = decisions.map((d) => BigInt(d.timeUnixNano));
  const linked = await timelineRows(ctx, LINKED_SQL, {
    ids: decisions.map((d) => d.decisionId),
    traces: [...new Set(decisions.map((d) => d.traceId))],
    decision_spans: decisions.map((d) => d.spanId),
    models: [...new Set(decisions.map((d) => d.attributes.model_id ?? ''))],
    decision_streams: decisions.map((d) => d.attributes.integrity_stream ?? ''),
    decision_seqs: decisions.map((d) => d.attributes.integrity_seq ?? '0'),
    first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
    last_ns: String(times.reduce((a, b) => (b > a ? b : a))),
  });
  return [...decisions, ...linked].sort(compareEntries);
}
