import type { SpanRecord } from '@decisiontrail/core';
import { timelineRows } from './decision-timeline.ts';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { TRACE_ROW_COLUMNS, traceRowToSpanRecord, type StoredTraceRow } from './trace-row.ts';

/** The spans a timeline shows, as its rows name them (audit tables are only used to find the signed rows). */
export interface TimelineEvidenceQuery {
  /**
   * The decisions shown: their reviews and feedback are found by decision id in `audit_decision_links` (not
   * in audit_oversight / audit_feedback, whose rows the timeline shows) and read from otel_traces too.
   */
  decisionIds: string[];
  spans: {
    traceId: string;
    spanId: string;
    /** Decimal nanoseconds: where to look (a day either side). */
    timeUnixNano: string;
    /** The span's integrity stream and seq ('' when none), for the checkpoints that can prove it. */
    stream: string;
    seq: string;
  }[];
}

/** The signed rows behind a timeline. */
export interface TimelineEvidence {
  /**
   * Every stored copy of each shown span (exact duplicates included), and every stored review and feedback
   * span of the shown decisions, whether or not its audit table row is there.
   */
  spans: SpanRecord[];
  /**
   * For each shown leaf, the checkpoint(s) of its stream at the first tree size above it: every stored copy of
   * each checkpoint span, as `audit_checkpoint_spans` holds it ({@link checkpointSpansSql}). What a proof reads of a checkpoint is its signed note and the
   * leaves and range checked against the note's root, so a row there decides nothing by itself.
   */
  checkpoints: SpanRecord[];
}

/** A review or feedback span of a shown decision, as `audit_decision_links` locates it. */
const LINKS_SQL = `
  SELECT DISTINCT trace_id, span_id, toString(toUnixTimestamp64Nano(time)) AS time_ns
  FROM {{read:audit_decision_links}}
  WHERE decision_id IN {decision_ids:Array(String)}
    -- They happen after the decision: partitions before it are not read.
    AND time >= fromUnixTimestamp64Nano({first_ns:Int64}) - toIntervalDay(1)`;

/** A row of {@link checkpointSpansSql} or {@link firstCheckpointSpansSql}. */
export interface CheckpointSpanRow {
  service: string;
  stream: string;
  /** Decimal: its tree size. */
  size: string;
  /** Decimal: the first leaf it carries (0 when its leaf list is not well-formed). */
  first: string;
  /** The stored span as JSON of {@link TRACE_ROW_COLUMNS}. */
  span: string;
}

const CHECKPOINT_SPAN_COLUMNS = `service, stream, toString(tree_size) AS size, toString(first_leaf) AS first, span`;

/**
 * The checkpoint spans that can prove `leaves` leaves, leaf i being `{leaf_stream_i}` / `{leaf_seq_i}`
 * ({@link leafParams}), from `audit_checkpoint_spans` (migration 23: the stored span as one JSON column, and the first
 * leaf it carries): every copy of each checkpoint of the leaf's stream whose carried leaves hold it — its size above
 * the leaf's index, its first leaf at or below it. Each checkpoint of a stream carries the leaves added since the one
 * before, so that is the checkpoint at the first size above the leaf; one whose leaf list is not well-formed has
 * first leaf 0 and is proposed too. One primary-key read of the granule that holds them (the first leaf's minmax
 * index skips the later granules of the stream); until migration 23 each was found in `audit_checkpoints` and read
 * from its granule of `otel_traces` (≈ 4.5 k mixed spans: ≈ 12 ms of CPU per timeline at 10 M). Readers keep, per
 * leaf, the rows at the first size above it ({@link coveringCheckpoints}) and ask {@link firstCheckpointSpansSql} for
 * the leaves no row holds. A row only proposes: the span's signed note and the leaves and range recomputed against
 * its root decide.
 */
export function checkpointSpansSql(leaves: number): string {
  const each = Array.from(
    { length: leaves },
    (_, i) =>
      `(stream = {leaf_stream_${i}:String} AND tree_size > {leaf_seq_${i}:UInt64} AND first_leaf <= {leaf_seq_${i}:UInt64})`,
  );
  return `SELECT ${CHECKPOINT_SPAN_COLUMNS} FROM {{read:audit_checkpoint_spans}}
    WHERE ${each.length === 0 ? 'false' : each.join('\n      OR ')}`;
}

/**
 * Every copy of the checkpoint at the first tree size above each of `leaves` leaves ({@link leafParams}), whatever
 * leaves it carries: for a leaf whose checkpoint does not carry it (its leaf list cut or not well-formed, for the proof
 * to say so) and for leaves no checkpoint covers yet. The sizes are found from the key columns first (`LIMIT 1` in key
 * order), then the rows at those sizes by primary key.
 */
export function firstCheckpointSpansSql(leaves: number): string {
  const each = Array.from(
    { length: leaves },
    (_, i) => `(SELECT stream, tree_size FROM {{read:audit_checkpoint_spans}}
        WHERE stream = {leaf_stream_${i}:String} AND tree_size > {leaf_seq_${i}:UInt64}
        ORDER BY stream, tree_size LIMIT 1)`,
  );
  return `SELECT ${CHECKPOINT_SPAN_COLUMNS} FROM {{read:audit_checkpoint_spans}}
    WHERE (stream, tree_size) IN (SELECT * FROM (${each.join('\n      UNION ALL ')}))`;
}

/**
 * Of the rows {@link checkpointSpansSql} proposed for `leaves`, those at the first size above some leaf among the
 * rows that hold it (every copy at that size), and the leaves no row holds.
 */
export function coveringCheckpoints<T extends Pick<CheckpointSpanRow, 'stream' | 'size' | 'first'>>(
  leaves: readonly { stream: string; seq: string }[],
  rows: readonly T[],
): { kept: T[]; uncovered: { stream: string; seq: string }[] } {
  const kept = new Set<T>();
  const uncovered: { stream: string; seq: string }[] = [];
  for (const leaf of leaves) {
    const seq = BigInt(leaf.seq);
    const holding = rows.filter(
      (row) => row.stream === leaf.stream && BigInt(row.size) > seq && BigInt(row.first) <= seq,
    );
    if (holding.length === 0) {
      uncovered.push(leaf);
      continue;
    }
    const first = holding.reduce((a, row) => (BigInt(row.size) < a ? BigInt(row.size) : a), 2n ** 64n);
    for (const row of holding) if (BigInt(row.size) === first) kept.add(row);
  }
  return { kept: rows.filter((row) => kept.has(row)), uncovered };
}

/**
 * The checkpoint rows that can prove `leaves`: of the rows {@link checkpointSpansSql} proposed, those
 * {@link coveringCheckpoints} keeps, and for the leaves none holds every copy at the first size above them
 * ({@link firstCheckpointSpansSql}, one more statement, only then). In one order — by stream, tree size, then the
 * stored span — whatever order the engine's threads gave them in: the same timeline read twice gives the same
 * evidence, and an exported bundle the same bytes.
 */
export async function coveringCheckpointRows<T extends CheckpointSpanRow>(
  ctx: QueryContext,
  leaves: readonly { stream: string; seq: string }[],
  proposed: readonly T[],
): Promise<CheckpointSpanRow[]> {
  const { kept, uncovered } = coveringCheckpoints(leaves, proposed);
  if (uncovered.length === 0) return kept.sort(inEvidenceOrder);
  const first = await timelineRows<CheckpointSpanRow>(
    ctx,
    firstCheckpointSpansSql(uncovered.length),
    leafParams(uncovered),
  );
  // The second read gives every copy at its sizes: those replace what the first read gave at the same size.
  const sizes = new Set(first.map((row) => `${row.stream}\n${row.size}`));
  return [...kept.filter((row) => !sizes.has(`${row.stream}\n${row.size}`)), ...first].sort(inEvidenceOrder);
}

/** Stream, then tree size (as numbers), then the stored span's JSON. */
function inEvidenceOrder(a: CheckpointSpanRow, b: CheckpointSpanRow): number {
  if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1;
  const size = BigInt(a.size) - BigInt(b.size);
  if (size !== 0n) return size < 0n ? -1 : 1;
  return a.span < b.span ? -1 : a.span > b.span ? 1 : 0;
}

/** The parameters of {@link checkpointSpansSql} and {@link firstCheckpointSpansSql} for these leaves. */
export function leafParams(leaves: readonly { stream: string; seq: string }[]): Record<string, string> {
  return Object.fromEntries(
    leaves.flatMap((leaf, i) => [
      [`leaf_stream_${i}`, leaf.stream],
      [`leaf_seq_${i}`, leaf.seq],
    ]),
  );
}

/** Rows whose `Timestamp` falls in one of `windows` windows, window i being `{from_i}` to `{to_i}` ({@link windowParams}). */
export function withinWindows(windows: number): string {
  if (windows === 0) return 'false';
  return Array.from(
    { length: windows },
    (_, i) =>
      `Timestamp BETWEEN fromUnixTimestamp64Nano({from_${i}:Int64}) AND fromUnixTimestamp64Nano({to_${i}:Int64})`,
  ).join('\n      OR ');
}

/** The parameters of {@link withinWindows} for these windows. */
export function windowParams(windows: readonly (readonly [bigint, bigint])[]): Record<string, string> {
  return Object.fromEntries(
    windows.flatMap(([from, to], i) => [
      [`from_${i}`, String(from)],
      [`to_${i}`, String(to)],
    ]),
  );
}

/**
 * One statement over the spans to read (the shown ones and the decisions' linked reviews and feedback):
 * every copy in otel_traces (trace-id bloom filter, within a day of each span's time: one window per
 * group of nearby spans, so a late feedback does not widen the range read for the others), and the
 * checkpoint spans that can prove the shown leaves, by primary key ({@link checkpointSpansSql}). Each row is
 * the stored span as JSON of {@link TRACE_ROW_COLUMNS}, as the checkpoint table keeps it.
 */
function evidenceSql(windows: number, leaves: number): string {
  return `
  WITH
    {traces:Array(String)} AS traces,
    {span_ids:Array(String)} AS span_ids
  SELECT * FROM (
    SELECT 'span' AS role, '' AS service, '' AS stream, '0' AS size, '0' AS first,
      formatRowNoNewline('JSONEachRow', ${TRACE_ROW_COLUMNS}) AS span
    FROM {{read:otel_traces}}
    WHERE has(traces, TraceId) AND has(span_ids, SpanId)
      AND (${withinWindows(windows)})
    UNION ALL
    SELECT 'checkpoint' AS role, * FROM (${checkpointSpansSql(leaves)})
  )`;
}

/** A day in nanoseconds: how far either side of a time the timeline's reads look. */
export const DAY_NS = 86_400_000_000_000n;

/** A second in nanoseconds: how far either side of a span's located time the timeline looks for its copies. */
export const SECOND_NS = 1_000_000_000n;

/** `width` (a day unless given) either side of each time, overlapping ranges merged, in order. */
export function windowsAround(times: readonly bigint[], width: bigint = DAY_NS): [bigint, bigint][] {
  const windows: [bigint, bigint][] = [];
  for (const time of [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const from = time > width ? time - width : 0n;
    const last = windows.at(-1);
    if (last !== undefined && from <= last[1]) last[1] = time + width;
    else windows.push([from, time + width]);
  }
  return windows;
}

/** A leaf index as audit rows carry it: a decimal UInt64. */
export const SEQ = /^(0|[1-9][0-9]{0,18})$/u;

/**
 * The stored `otel_traces` rows behind the spans a timeline shows, every copy of each, and the
 * checkpoints that can prove them, for a reader to recompute their leaves and inclusion
 * (see `proveSpanInCheckpoint`) and to compare what the timeline displays with what was signed.
 * Two statements: the decisions' linked reviews and feedback (`audit_decision_links`, by primary key),
 * then the spans and checkpoints.
 */
export async function timelineEvidence(
  ctx: QueryContext,
  query: TimelineEvidenceQuery,
): Promise<TimelineEvidence> {
  if (!Array.isArray(query?.spans)) throw new StoreError('INVALID_ARGUMENT', 'spans must be an array');
  if (!Array.isArray(query.decisionIds))
    throw new StoreError('INVALID_ARGUMENT', 'decisionIds must be an array');
  const decisionIds = query.decisionIds.map((id, i) => requireString(id, `decisionIds[${i}]`));
  const spans = query.spans.map((span, i) => {
    const seq = requireString(span?.seq, `spans[${i}].seq`);
    const time = requireString(span?.timeUnixNano, `spans[${i}].timeUnixNano`);
    if (!/^[0-9]{1,19}$/u.test(time)) throw new StoreError('INVALID_ARGUMENT', `spans[${i}].timeUnixNano`);
    return {
      traceId: requireString(span.traceId, `spans[${i}].traceId`),
      spanId: requireString(span.spanId, `spans[${i}].spanId`),
      time: BigInt(time),
      stream: requireString(span.stream, `spans[${i}].stream`),
      seq,
    };
  });
  if (spans.length === 0) return { spans: [], checkpoints: [] };
  const leaves = spans.filter((span) => span.stream !== '' && SEQ.test(span.seq));
  const times = spans.map((span) => span.time);
  const wanted = spans.map((span) => ({ traceId: span.traceId, spanId: span.spanId, time: span.time }));
  if (decisionIds.length > 0) {
    const links = await timelineRows<{ trace_id: string; span_id: string; time_ns: string }>(ctx, LINKS_SQL, {
      decision_ids: decisionIds,
      first_ns: String(times.reduce((a, b) => (b < a ? b : a))),
    });
    for (const link of links) {
      wanted.push({ traceId: link.trace_id, spanId: link.span_id, time: BigInt(link.time_ns) });
    }
  }
  const windows = windowsAround(wanted.map((span) => span.time));
  const rows = await timelineRows<CheckpointSpanRow & { role: 'span' | 'checkpoint' }>(
    ctx,
    evidenceSql(windows.length, leaves.length),
    {
      traces: [...new Set(wanted.map((span) => span.traceId))],
      span_ids: [...new Set(wanted.map((span) => span.spanId))],
      ...leafParams(leaves),
      ...windowParams(windows),
    },
  );
  const spanOf = (row: { span: string }) => traceRowToSpanRecord(JSON.parse(row.span) as StoredTraceRow);
  const checkpoints = await coveringCheckpointRows(
    ctx,
    leaves,
    rows.filter((row) => row.role === 'checkpoint'),
  );
  return {
    spans: rows.filter((row) => row.role === 'span').map(spanOf),
    checkpoints: checkpoints.map(spanOf),
  };
}
