import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';

/** What a timeline entry is; see `sql/decision-timeline.sql`. */
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

const TIMELINE_SQL = `
  SELECT kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, decision_id AS decisionId,
    trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, name, service,
    status_code AS statusCode, toString(duration_ns) AS durationNanos, attributes
  FROM {{read:decision_timeline}}(decision_id = {decision_id:String}, trace_id = {trace_id:String})`;

/**
 * The decision timeline by decision id or by trace id (exactly one of them): the decision(s),
 * every span of the trace, oversight and feedback linked from anywhere, earlier deployments of
 * the model, incidents that reference it and the covering checkpoint. Empty when nothing matches.
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
  return ctx.rows<TimelineEntry>(TIMELINE_SQL, { decision_id: decisionId, trace_id: traceId });
}
