import { StoreError } from './errors.ts';
import { END_OF_TIME, requireString, type QueryContext } from './query-context.ts';
import { quoteString, readSqlFile, renderSql } from './sql-template.ts';

/**
 * Which part of the store to reconcile. Tables are compared over whole hours (whole days for the
 * daily confidence digests) around `[from, to)`, since rollup rows cover an hour or a day.
 */
export interface ReconciliationQuery {
  /** Rows at or after (default: the beginning). */
  from?: Date;
  /** Rows before (default: no limit). */
  to?: Date;
  /**
   * One integrity stream (default: every row, with or without a stream). Tables and rollups that
   * do not record the stream are then not checked and are listed in `skipped`.
   */
  stream?: string;
  /**
   * Findings reported per table at most; the table's `findings` count is the full number.
   * @default 1000
   */
  limit?: number;
  /** Only these tables (names as in {@link RECONCILED_TABLES}); default every one. */
  tables?: readonly string[];
  /**
   * Rows one comparison statement aims at: larger tables are compared in time windows (audit
   * tables) or key buckets (the trace-range lookup) of about this many rows. The engine holds a
   * few hundred bytes per key while it groups (measured on chdb: ≈ 320 MB for a million
   * decisions, 730 MB for 1.25 million traces).
   * @default 2000000
   */
  rowsPerStatement?: number;
}

/** How a stored row differs from what `otel_traces` derives to. */
export type ReconciliationCode = 'extra' | 'missing' | 'different';

/**
 * A row of an `audit_*` table or rollup that is not reproducible from `otel_traces`: `extra` (no
 * stored span derives to its key), `missing` (spans derive to a key the table lacks) or
 * `different` (the key is there, its columns are not what any stored copy of the span derives to).
 */
export interface ReconciliationFinding {
  table: string;
  code: ReconciliationCode;
  /** The decision the row is about, where the table has one. */
  decisionId?: string;
  /** The span the row was derived from, where the table records it. */
  spanId?: string;
  /** The integrity stream of that span, where the table records it and it has one. */
  stream?: string;
  /** The row's key as text (rollups and tables without a decision or span id): `(k1, k2, …)`. */
  key?: string;
  message: string;
}

/** What was compared in one table. */
export interface ReconciledTable {
  table: string;
  /** Rows of the table compared (a rollup: its keys). */
  rows: number;
  /** Rows `otel_traces` derives to over the same range (a rollup: its keys). */
  derived: number;
  /** Rows or keys that differ (all of them; `findings` lists at most `limit` per table). */
  findings: number;
}

/** Result of {@link reconcileAuditTables}. */
export interface AuditReconciliation {
  findings: ReconciliationFinding[];
  tables: ReconciledTable[];
  /** Tables not compared for this query, and why. */
  skipped: { table: string; reason: string }[];
}

/**
 * A table filled row for row from `otel_traces` by a materialized view. `select` is that view's
 * SELECT (the same file the migration renders), keyed like the table's ReplacingMergeTree.
 */
interface DerivedTable {
  table: string;
  select: string;
  /**
   * The derived table whose inserts the view reads, where it is not `otel_traces` itself: its rows are then
   * derived from the spans through that table's own SELECT, or read from it where it was just proven.
   */
  source?: string;
  key: readonly string[];
  time: string;
  stream: string;
  decisionId?: string;
  /** The span id column, where the table has one (audit_decisions_by_confidence's findings name the decision). */
  spanId?: string;
}

const DERIVED_TABLES: readonly DerivedTable[] = [
  {
    table: 'audit_decisions',
    select: 'audit-decisions-select.sql',
    key: ['decision_id'],
    time: 'time',
    stream: 'integrity_stream',
    decisionId: 'decision_id',
    spanId: 'span_id',
  },
  {
    table: 'audit_decisions_by_confidence',
    select: 'audit-decisions-by-confidence-select.sql',
    source: 'audit_decisions',
    key: ['decision_id'],
    time: 'time',
    stream: 'integrity_stream',
    decisionId: 'decision_id',
  },
  {
    table: 'audit_oversight',
    select: 'audit-oversight-select.sql',
    key: ['decision_id', 'span_id'],
    time: 'time',
    stream: 'integrity_stream',
    decisionId: 'decision_id',
    spanId: 'span_id',
  },
  {
    table: 'audit_feedback',
    select: 'audit-feedback-select.sql',
    key: ['decision_id', 'span_id'],
    time: 'time',
    stream: 'integrity_stream',
    decisionId: 'decision_id',
    spanId: 'span_id',
  },
  {
    table: 'audit_deployments',
    select: 'audit-deployments-select.sql',
    key: ['model_id', 'time', 'span_id'],
    time: 'time',
    stream: 'integrity_stream',
    spanId: 'span_id',
  },
  {
    table: 'audit_checkpoints',
    select: 'audit-checkpoints-select.sql',
    key: ['stream', 'tree_size', 'span_id'],
    time: 'time',
    stream: 'stream',
    spanId: 'span_id',
  },
  {
    table: 'audit_checkpoint_spans',
    select: 'audit-checkpoint-spans-select.sql',
    key: ['stream', 'tree_size', 'span_id'],
    time: 'time',
    stream: 'stream',
    spanId: 'span_id',
  },
  {
    table: 'audit_decision_links',
    select: 'audit-decision-links-select.sql',
    key: ['decision_id', 'span_id'],
    time: 'time',
    stream: 'integrity_stream',
    decisionId: 'decision_id',
    spanId: 'span_id',
  },
];

/** How one aggregate column of a rollup is compared. */
type ValueKind =
  /** Equal values. */
  | 'exact'
  /** Sums of floats: equal up to rounding (summation order differs between blocks). */
  | 'float'
  /** Quantile digest: p50 and p90 within {@link QUANTILE_TOLERANCE} (t-digests depend on how they were merged). */
  | 'quantiles'
  /** Distinct set (uniqExact state): same size, and the union is no larger. */
  | 'set';

interface RollupValue {
  column: string;
  kind: ValueKind;
  /** Per-key aggregate of the stored column, the same text on both sides (not for 'set'). */
  read?: string;
}

/**
 * A rollup filled by materialized views from a derived table (or from `otel_traces`). Its rows are
 * partial aggregates of insert blocks; per key they add up to the view's SELECT over every row the
 * source ever received, which is what the expected side computes from `otel_traces`.
 */
interface RollupTable {
  table: string;
  /** The filling views' SELECTs (the files the migrations render). */
  selects: readonly string[];
  /** What those SELECTs read: a derived table (rendered from its own SELECT) or otel_traces itself. */
  source: string;
  keys: readonly string[];
  /** Key column of the rollup's time, and the unit the range is widened to. */
  time: { column: string; unit: 'hour' | 'day' };
  /** Key column holding the integrity stream, when the rollup has one. */
  stream?: string;
  /**
   * Where the source rows of a time range are found: by their own time (bounded scan of
   * otel_traces) or only by the rollup key (decision hours named by the decision id, trace ranges).
   */
  bySourceTime: boolean;
  values: readonly RollupValue[];
  /**
   * A rollup with a row per key of its source (one per trace) is compared in buckets of this
   * column's hash, of about `rowsPerStatement` keys each.
   */
  bucketKey?: string;
}

/**
 * Largest difference of a rollup's p50/p90 from the recomputed digest's that is not a finding. A t-digest merged
 * from the partial states of other insert blocks is not the one-pass digest: measured on the engine, 1,500 uniform
 * confidences split into 2–10 blocks gave p50/p90 up to 0.042 away from the one-pass digest, more than 0.02 in 33
 * of 100 trials (a crash and replay changes the blocks, and with 0.02 an untouched store read as tampered). So a
 * digest edit smaller than this is not detected, and a distribution whose p50 or p90 sits between two point masses
 * can differ by more: the counts and sums beside the digest are compared exactly.
 */
const QUANTILE_TOLERANCE = 0.1;

const ROLLUP_TABLES: readonly RollupTable[] = [
  {
    table: 'audit_decision_stats',
    selects: ['audit-decision-stats-select.sql'],
    source: 'audit_decisions',
    keys: [
      'hour',
      'model_id',
      'model_version',
      'service',
      'outcome',
      'risk_level',
      'decision_type',
      'automation',
      'retention_class',
      'fairness_group',
      'integrity_stream',
      'bucket',
    ],
    time: { column: 'hour', unit: 'hour' },
    stream: 'integrity_stream',
    bySourceTime: true,
    values: [
      // `any` in the rollup: the value of some decision of the cell (they agree within a model).
      { column: 'model_type', kind: 'exact', read: 'any(model_type)' },
      { column: 'provider', kind: 'exact', read: 'any(provider)' },
      { column: 'decisions', kind: 'exact', read: 'sum(decisions)' },
      { column: 'failed', kind: 'exact', read: 'sum(failed)' },
      { column: 'with_input_hash', kind: 'exact', read: 'sum(with_input_hash)' },
      { column: 'with_output_hash', kind: 'exact', read: 'sum(with_output_hash)' },
      { column: 'with_subject', kind: 'exact', read: 'sum(with_subject)' },
      { column: 'confidence_sum', kind: 'float', read: 'sum(confidence_sum)' },
      { column: 'first_time', kind: 'exact', read: 'min(first_time)' },
      { column: 'last_time', kind: 'exact', read: 'max(last_time)' },
      {
        column: 'confidence_quantiles',
        kind: 'quantiles',
        read: 'quantilesTDigestMerge(0.5, 0.9)(confidence_quantiles)',
      },
    ],
  },
  {
    table: 'audit_confidence_stats',
    selects: ['audit-confidence-rollup-select.sql', 'audit-confidence-daily-rollup-select.sql'],
    source: 'audit_decisions',
    keys: ['width_s', 'start', 'model_id', 'model_version', 'service', 'retention_class'],
    time: { column: 'start', unit: 'day' },
    bySourceTime: true,
    values: [
      {
        column: 'confidence_quantiles',
        kind: 'quantiles',
        read: 'quantilesTDigestMerge(0.5, 0.9)(confidence_quantiles)',
      },
    ],
  },
  {
    table: 'audit_oversight_stats',
    selects: ['audit-oversight-rollup-select.sql'],
    source: 'audit_oversight',
    keys: ['hour', 'model_id', 'model_version', 'action', 'retention_class'],
    time: { column: 'hour', unit: 'hour' },
    bySourceTime: false,
    values: [
      { column: 'decisions', kind: 'set' },
      { column: 'records', kind: 'set' },
    ],
  },
  {
    table: 'audit_feedback_stats',
    selects: ['audit-feedback-rollup-select.sql'],
    source: 'audit_feedback',
    keys: ['hour', 'model_id', 'model_version', 'retention_class'],
    time: { column: 'hour', unit: 'hour' },
    bySourceTime: false,
    values: [
      { column: 'labelled', kind: 'set' },
      { column: 'labels', kind: 'exact', read: 'sum(labels)' },
      { column: 'correct_labels', kind: 'exact', read: 'sum(correct_labels)' },
    ],
  },
  {
    table: 'otel_traces_trace_id_ts',
    selects: ['otel-traces-trace-id-ts-select.sql'],
    source: 'otel_traces',
    keys: ['TraceId'],
    time: { column: 'Start', unit: 'hour' },
    bySourceTime: false,
    bucketKey: 'TraceId',
    values: [
      // The view's min/max of DateTime64 land in DateTime columns (whole seconds).
      { column: 'Start', kind: 'exact', read: 'toDateTime(min(Start))' },
      { column: 'End', kind: 'exact', read: 'toDateTime(max(End))' },
    ],
  },
];

/**
 * Tables that are not derived from `otel_traces` and so are not reconciled: `audit_incidents`
 * (written by `incident`), `audit_erasures` (by `erase`), `audit_quarantine` (spans the
 * processor refused, which by definition never reached `otel_traces`) and `audit_cosignatures`
 * (witnesses' cosignatures of checkpoints, each checked against its witness's key when read) — and
 * `audit_routed_spans` (migration 26), a `Null` table that holds nothing: the spans routed through it to the audit
 * views that read it are reconciled in the tables those views fill.
 */
export const NOT_DERIVED_TABLES: readonly string[] = [
  'audit_incidents',
  'audit_erasures',
  'audit_quarantine',
  'audit_cosignatures',
  'audit_routed_spans',
];

/**
 * The overridden decisions' keys (migration 25), filled from two sides: a row per copy of an override record,
 * with the decision's columns from whichever copy of the decision was stored when either arrived — or none yet
 * (pending). Which rows it holds depends on the order things arrived in, so it is not compared row for row with a
 * derivation; {@link reconcileOverrides} checks each row against the stored records and decisions instead.
 */
const OVERRIDES_TABLE = 'audit_overrides';

/** Every table {@link reconcileAuditTables} compares, in the order it compares them. */
export const RECONCILED_TABLES: readonly string[] = [
  ...DERIVED_TABLES.map((t) => t.table),
  OVERRIDES_TABLE,
  ...ROLLUP_TABLES.map((t) => t.table),
];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_LIMIT = 1000;

interface Range {
  fromMs: number;
  toMs: number;
  stream: string;
  limit: number;
  tables: ReadonlySet<string>;
  rowsPerStatement: number;
}

function resolveRange(query: ReconciliationQuery): Range {
  const fromMs = (query.from ?? new Date(0)).getTime();
  const toMs = (query.to ?? END_OF_TIME).getTime();
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new StoreError('INVALID_ARGUMENT', 'from and to must be valid dates');
  }
  if (toMs < fromMs) throw new StoreError('INVALID_ARGUMENT', 'to must not be before from');
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new StoreError('INVALID_ARGUMENT', 'limit must be a positive integer');
  }
  const tables = query.tables ?? RECONCILED_TABLES;
  if (!Array.isArray(tables) || tables.some((t) => typeof t !== 'string' || !RECONCILED_TABLES.includes(t))) {
    throw new StoreError('INVALID_ARGUMENT', `tables must name tables of: ${RECONCILED_TABLES.join(', ')}`);
  }
  const rowsPerStatement = query.rowsPerStatement ?? ROWS_PER_STATEMENT;
  if (!Number.isSafeInteger(rowsPerStatement) || rowsPerStatement < 1) {
    throw new StoreError('INVALID_ARGUMENT', 'rowsPerStatement must be a positive integer');
  }
  return {
    fromMs,
    toMs,
    stream: requireString(query.stream ?? '', 'stream'),
    limit,
    tables: new Set(tables),
    rowsPerStatement,
  };
}

function widen(range: Range, unit: 'hour' | 'day'): { fromMs: number; toMs: number } {
  const step = unit === 'hour' ? HOUR_MS : DAY_MS;
  return {
    fromMs: Math.floor(range.fromMs / step) * step,
    toMs: Math.min(Math.ceil(range.toMs / step) * step, END_OF_TIME.getTime()),
  };
}

const STREAM_ATTRIBUTE = 'SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}]';

/**
 * `otel_traces` bounded by span time and stream, as a subquery the views' SELECTs read in place of
 * the table. Bound by `{src_from_ms}`, `{src_to_ms}` and `{stream}`.
 */
function boundedTraces(ctx: QueryContext, byTime: boolean, filter = ''): string {
  return ctx.sql(
    `(SELECT * FROM {{read:otel_traces}}
      WHERE ({stream:String} = '' OR ${STREAM_ATTRIBUTE} = {stream:String})` +
      (byTime
        ? `
        AND Timestamp >= fromUnixTimestamp64Milli({src_from_ms:Int64})
        AND Timestamp < fromUnixTimestamp64Milli({src_to_ms:Int64})`
        : '') +
      (filter === '' ? '' : `\n        AND ${filter}`) +
      ')',
  );
}

/** Default of {@link ReconciliationQuery.rowsPerStatement}. */
const ROWS_PER_STATEMENT = 2_000_000;

/** Time windows covering what both sides hold of `[from, to)`, of about `rowsPerStatement` rows each. */
async function timeWindows(ctx: QueryContext, spec: DerivedTable, range: Range): Promise<[number, number][]> {
  const [extent] = await ctx.rows<{ n: string; lo: string | null; hi: string | null }>(
    `SELECT toString(max(n)) AS n, toString(min(lo)) AS lo, toString(max(hi)) AS hi FROM (
       SELECT count() AS n, toUnixTimestamp64Milli(min(${ident(spec.time)})) AS lo,
         toUnixTimestamp64Milli(max(${ident(spec.time)})) AS hi
       FROM {{read:${spec.table}}}
       WHERE ${ident(spec.time)} >= fromUnixTimestamp64Milli({src_from_ms:Int64})
         AND ${ident(spec.time)} < fromUnixTimestamp64Milli({src_to_ms:Int64})
       HAVING n > 0
       UNION ALL
       SELECT count() AS n, toUnixTimestamp64Milli(min(Timestamp)) AS lo, toUnixTimestamp64Milli(max(Timestamp)) AS hi
       FROM {{read:otel_traces}}
       WHERE Timestamp >= fromUnixTimestamp64Milli({src_from_ms:Int64})
         AND Timestamp < fromUnixTimestamp64Milli({src_to_ms:Int64})
       HAVING n > 0)`,
    { src_from_ms: String(range.fromMs), src_to_ms: String(range.toMs) },
  );
  const rows = Number(extent?.n ?? 0);
  if (rows === 0 || extent?.lo == null || extent.hi == null) return [[range.fromMs, range.toMs]];
  const count = Math.max(1, Math.ceil(rows / range.rowsPerStatement));
  if (count === 1) return [[range.fromMs, range.toMs]];
  const [lo, hi] = [Math.max(range.fromMs, Number(extent.lo)), Math.min(range.toMs, Number(extent.hi) + 1)];
  const step = Math.ceil((hi - lo) / count);
  const windows: [number, number][] = [];
  for (let start = range.fromMs, i = 0; i < count; i++) {
    const end = i === count - 1 ? range.toMs : lo + (i + 1) * step;
    windows.push([start, end]);
    start = end;
  }
  return windows;
}

/**
 * A view's SELECT rendered for reading: table names are those queries read (the Distributed
 * tables on a cluster) and each `{{source:x}}` is the given subquery.
 */
function viewSelect(ctx: QueryContext, file: string, sources: Record<string, string>): string {
  return renderSql(readSqlFile(file).trim(), { ...ctx.render, cluster: undefined, sources });
}

function derivedSelect(
  ctx: QueryContext,
  table: string,
  byTime: boolean,
  provenSources?: ReadonlySet<string>,
): string {
  const spec = DERIVED_TABLES.find((t) => t.table === table);
  if (spec === undefined) throw new StoreError('QUERY_FAILED', `no derivation for ${table}`);
  if (spec.source === undefined)
    return viewSelect(ctx, spec.select, { otel_traces: boundedTraces(ctx, byTime) });
  const source = provenSources?.has(spec.source)
    ? provenRows(ctx, spec.source)
    : `(${derivedSelect(ctx, spec.source, byTime)})`;
  return viewSelect(ctx, spec.select, { [spec.source]: source });
}

/**
 * A derived table just shown to hold exactly what otel_traces derives to, one span per key, read in place of that
 * derivation (FINAL, so a forged copy of a row counts once): the same rows, without reading each span's attribute
 * map again. Bound by `{src_from_ms}`, `{src_to_ms}` and `{stream}`.
 */
function provenRows(ctx: QueryContext, table: string): string {
  return ctx.sql(
    `(SELECT * FROM {{read:${table}}} FINAL
      WHERE ${rangeBounds('time')})`,
  );
}

/**
 * A reconciled range's rows of a table: its `time` column in [`{src_from_ms}`, `{src_to_ms}`), and its `stream`
 * column `{stream}` when a stream is asked for ('' for every stream).
 */
function rangeBounds(time: string, stream = 'integrity_stream'): string {
  return `${time} >= fromUnixTimestamp64Milli({src_from_ms:Int64})
      AND ${time} < fromUnixTimestamp64Milli({src_to_ms:Int64})
      AND ({stream:String} = '' OR ${stream} = {stream:String})`;
}

interface ColumnType {
  name: string;
  type: string;
}

/** The stored columns of a table (what its view inserts), in table order. */
async function storedColumns(ctx: QueryContext, table: string): Promise<ColumnType[]> {
  const columns = await ctx.rows<ColumnType>(
    `SELECT name, type FROM system.columns
     WHERE database = {database:String} AND table = {table:String}
       AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL')
     ORDER BY position`,
    { database: ctx.render.database, table },
  );
  if (columns.length === 0) throw new StoreError('QUERY_FAILED', `table ${table} not found`);
  return columns;
}

const ident = (name: string): string => `\`${name}\``;
const cast = (c: ColumnType): string => `CAST(${ident(c.name)}, ${quoteString(c.type)})`;

interface Candidate {
  k: string;
  side: number;
  h: string;
  decision_id: string;
  span_id: string;
  stream: string;
}

/**
 * One derived table: both sides as (key hash, row hash) in one grouped pass over the table and the
 * view's SELECT over otel_traces; keys whose rows are not all one identical hash on both sides are
 * read again (few) and classified.
 */
async function reconcileRows(
  ctx: QueryContext,
  spec: DerivedTable,
  range: Range,
  provenSources: ReadonlySet<string>,
): Promise<{ table: ReconciledTable; findings: ReconciliationFinding[]; oneCopyEach: boolean }> {
  const columns = await storedColumns(ctx, spec.table);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const keyColumns = spec.key.map((name) => byName.get(name) as ColumnType);
  const stored = (list: ColumnType[]) => `cityHash64(tuple(${list.map((c) => ident(c.name)).join(', ')}))`;
  const derived = (list: ColumnType[]) => `cityHash64(tuple(${list.map(cast).join(', ')}))`;
  const idColumns = `${spec.decisionId === undefined ? "''" : ident(spec.decisionId)} AS decision_id,
      ${spec.spanId === undefined ? "''" : ident(spec.spanId)} AS span_id, toString(${ident(spec.stream)}) AS stream`;
  const tableBounds = rangeBounds(ident(spec.time), ident(spec.stream));
  const sides = (extra: string) => `
      SELECT ${stored(keyColumns)} AS k, ${stored(columns)} AS h, 1 AS side${extra}
      FROM {{read:${spec.table}}} WHERE ${tableBounds}
      UNION ALL
      SELECT ${derived(keyColumns)} AS k, ${derived(columns)} AS h, 2 AS side${extra}
      FROM (${derivedSelect(ctx, spec.table, true, provenSources)})`;
  const findings: ReconciliationFinding[] = [];
  const table: ReconciledTable = { table: spec.table, rows: 0, derived: 0, findings: 0 };
  let [keysCompared, candidates] = [0, 0];
  // A row whose time was changed is compared in another window than its span: it is then missing
  // in one and extra in the other, both findings.
  for (const [fromMs, toMs] of await timeWindows(ctx, spec, range)) {
    const params = { stream: range.stream, src_from_ms: String(fromMs), src_to_ms: String(toMs) };
    const [summary] = await ctx.rows<{
      rows: string;
      derived: string;
      keys_compared: string;
      bad_keys: string;
      keys: string[];
    }>(
      `SELECT toString(sum(na)) AS rows, toString(sum(ne)) AS derived, toString(count()) AS keys_compared,
         toString(countIf(bad)) AS bad_keys,
         arrayMap(x -> toString(x), groupArrayIf(${range.limit})(k, bad)) AS keys
       FROM (
         SELECT k, countIf(side = 1) AS na, countIf(side = 2) AS ne,
           NOT (na > 0 AND ne > 0 AND min(h) = max(h)) AS bad
         FROM (${sides('')})
         GROUP BY k)`,
      params,
    );
    table.rows += Number(summary?.rows ?? 0);
    table.derived += Number(summary?.derived ?? 0);
    table.findings += Number(summary?.bad_keys ?? 0);
    keysCompared += Number(summary?.keys_compared ?? 0);
    candidates += Number(summary?.bad_keys ?? 0);
    // Keys past the limit are counted as they are, unclassified.
    const keys = (summary?.keys ?? []).slice(0, Math.max(0, range.limit - findings.length));
    if (keys.length === 0) continue;
    const rows = await ctx.rows<Candidate>(
      `SELECT toString(k) AS k, side, toString(h) AS h, decision_id, span_id, stream
       FROM (${sides(`, ${idColumns}`)})
       WHERE toString(k) IN {keys:Array(String)}`,
      { ...params, keys },
    );
    const byKey = new Map<string, Candidate[]>();
    for (const row of rows) byKey.set(row.k, [...(byKey.get(row.k) ?? []), row]);
    for (const [, group] of byKey) {
      const finding = classify(spec.table, group);
      if (finding === null) table.findings -= 1;
      else findings.push(finding);
    }
  }
  // Every key stored and derived alike, from exactly one span each (no copies of any kind).
  const oneCopyEach = candidates === 0 && table.derived === keysCompared;
  return { table, findings, oneCopyEach };
}

/**
 * A key's stored and derived rows: a finding unless every stored row equals what some stored copy
 * of the span derives to. Copies of a span that derive differently are not this check's finding
 * (the verifier reports conflicting copies); the table may hold any of them.
 */
function classify(table: string, group: Candidate[]): ReconciliationFinding | null {
  const stored = group.filter((row) => Number(row.side) === 1);
  const derived = group.filter((row) => Number(row.side) === 2);
  const expected = new Set(derived.map((row) => row.h));
  const wrong = stored.filter((row) => !expected.has(row.h));
  const ids = (row: Candidate) => ({
    ...(row.decision_id === '' ? {} : { decisionId: row.decision_id }),
    ...(row.span_id === '' ? {} : { spanId: row.span_id }),
    ...(row.stream === '' ? {} : { stream: row.stream }),
  });
  const name = (row: Candidate) =>
    row.decision_id === ''
      ? `span ${row.span_id}`
      : row.span_id === ''
        ? `decision ${row.decision_id}`
        : `decision ${row.decision_id} (span ${row.span_id})`;
  if (stored.length === 0) {
    const row = derived[0] as Candidate;
    return {
      table,
      code: 'missing',
      ...ids(row),
      message: `${table} has no row for ${name(row)}, which otel_traces holds`,
    };
  }
  if (derived.length === 0) {
    const row = stored[0] as Candidate;
    return {
      table,
      code: 'extra',
      ...ids(row),
      message: `${table} holds a row for ${name(row)} that no span in otel_traces derives to`,
    };
  }
  if (wrong.length === 0) return null;
  const row = wrong[0] as Candidate;
  return {
    table,
    code: 'different',
    ...ids(row),
    message:
      `${table} row for ${name(row)} differs from what its span in otel_traces derives to` +
      (wrong.length > 1 ? ` (${wrong.length} stored versions)` : ''),
  };
}

interface RollupRow {
  key: string;
  stream: string;
  na: string;
  ne: string;
  diff: string;
}

/** The expression that is true when the two sides' aggregate of one column differ, and its message. */
function valueComparison(value: RollupValue): { differs: string; message: string } {
  const c = readAlias(value);
  const a = `anyIf(${c}, side = 1)`;
  const e = `anyIf(${c}, side = 2)`;
  switch (value.kind) {
    case 'exact':
      return {
        differs: `${a} != ${e}`,
        message: `concat('${value.column} ', toString(${a}), ' (derived ', toString(${e}), ')')`,
      };
    case 'float':
      return {
        differs: `abs(${a} - ${e}) > 1e-9 * greatest(1, abs(${e}))`,
        message: `concat('${value.column} ', toString(${a}), ' (derived ', toString(${e}), ')')`,
      };
    case 'quantiles':
      return {
        // Resized: a key present on one side only has an empty array on the other.
        differs: `arrayExists((x, y) -> NOT (isNaN(x) AND isNaN(y)) AND NOT abs(x - y) <= ${QUANTILE_TOLERANCE},
          arrayResize(${a}, 2), arrayResize(${e}, 2))`,
        message: `concat('${value.column} p50/p90 ', toString(${a}), ' (derived ', toString(${e}), ')')`,
      };
    case 'set': {
      const na = `uniqExactMergeIf(${c}, side = 1)`;
      const ne = `uniqExactMergeIf(${c}, side = 2)`;
      return {
        differs: `${na} != ${ne} OR uniqExactMerge(${c}) != ${ne}`,
        message: `concat('${value.column} ', toString(${na}), ' distinct (derived ', toString(${ne}), ', together ', toString(uniqExactMerge(${c})), ')')`,
      };
    }
  }
}

/** Per-key aggregate of one column, the same on the stored and the derived side. */
function valueRead(value: RollupValue): string {
  if (value.kind === 'set') return `uniqExactMergeState(${ident(value.column)}) AS ${readAlias(value)}`;
  return `${value.read as string} AS ${readAlias(value)}`;
}

/** Name of a column's per-key aggregate (not the column's own: an alias would shadow it in WHERE). */
const readAlias = (value: RollupValue): string => ident(`v_${value.column}`);

/** The rows a rollup's views read, derived from otel_traces over the range. */
function rollupSource(ctx: QueryContext, spec: RollupTable, provenSource: boolean): string {
  if (spec.source === 'otel_traces') return boundedTraces(ctx, false, bucketFilter(spec));
  if (provenSource) return provenRows(ctx, spec.source);
  return `(${derivedSelect(ctx, spec.source, spec.bySourceTime)})`;
}

/** The bucket a key falls in: bound by `{buckets}` and `{bucket}` ('' without a bucket key). */
function bucketFilter(spec: RollupTable): string {
  return spec.bucketKey === undefined
    ? ''
    : `cityHash64(${ident(spec.bucketKey)}) % {buckets:UInt64} = {bucket:UInt64}`;
}

/** How many buckets keep a statement near `rowsPerStatement` keys (1 without a bucket key). */
async function bucketCount(ctx: QueryContext, spec: RollupTable, range: Range): Promise<number> {
  if (spec.bucketKey === undefined) return 1;
  const [counts] = await ctx.rows<{ n: string }>(
    `SELECT toString(greatest((SELECT count() FROM {{read:${spec.table}}}), (SELECT count() FROM {{read:otel_traces}}))) AS n`,
  );
  return Math.max(1, Math.ceil(Number(counts?.n ?? 0) / range.rowsPerStatement));
}

/**
 * Rollup rows one statement compares at most, about: a key's aggregate states (t-digests, distinct sets) take
 * kilobytes while the engine groups both sides, so this is far below {@link ROWS_PER_STATEMENT}. Measured on the
 * 10 M-decision bench store: `audit_decision_stats` holds 2.6 M rows, and comparing them in one statement took
 * the process to 7.9 GiB.
 */
const ROLLUP_ROWS_PER_STATEMENT = 250_000;

/**
 * Time windows of a rollup compared one statement each, whole `unit`s covering `span`: as many as keep the
 * stored rows of each near {@link ROLLUP_ROWS_PER_STATEMENT} (scaled with `rowsPerStatement`). Each key's time
 * is in exactly one window, and both sides of a window read the source over that same window, so the windows
 * together compare what one statement over `span` would. A rollup found only through its key (not by its
 * source's time) is one window.
 */
async function rollupWindows(
  ctx: QueryContext,
  spec: RollupTable,
  span: { fromMs: number; toMs: number },
  range: Range,
): Promise<[number, number][]> {
  const whole: [number, number][] = [[span.fromMs, span.toMs]];
  if (!spec.bySourceTime || spec.bucketKey !== undefined) return whole;
  const column = ident(spec.time.column);
  const [extent] = await ctx.rows<{ n: string; lo: string | null; hi: string | null }>(
    `SELECT toString(count()) AS n, toString(toUnixTimestamp(min(${column}))) AS lo,
       toString(toUnixTimestamp(max(${column}))) AS hi
     FROM {{read:${spec.table}}}
     WHERE ${column} >= toDateTime(intDiv({src_from_ms:Int64}, 1000))
       AND ${column} < toDateTime(intDiv({src_to_ms:Int64}, 1000))
     HAVING count() > 0`,
    { src_from_ms: String(span.fromMs), src_to_ms: String(span.toMs) },
  );
  const perStatement = Math.max(
    1,
    Math.round((ROLLUP_ROWS_PER_STATEMENT * range.rowsPerStatement) / ROWS_PER_STATEMENT),
  );
  const count = Math.ceil(Number(extent?.n ?? 0) / perStatement);
  if (count <= 1 || extent?.lo == null || extent.hi == null) return whole;
  const step = spec.time.unit === 'hour' ? HOUR_MS : DAY_MS;
  // Whole units from the first stored key to the last; the first window reaches back to the range's start and the
  // last to its end, so keys only the source has are compared too.
  const lo = Math.max(span.fromMs, Math.floor((Number(extent.lo) * 1000) / step) * step);
  const hi = Math.min(span.toMs, (Math.floor((Number(extent.hi) * 1000) / step) + 1) * step);
  const units = Math.max(1, Math.round((hi - lo) / step));
  const width = Math.ceil(units / count) * step;
  const windows: [number, number][] = [];
  for (let start = span.fromMs, end = lo + width; start < span.toMs; start = end, end += width) {
    windows.push([start, end >= hi ? span.toMs : end]);
    if (end >= hi) break;
  }
  return windows;
}

/**
 * One rollup: per key, the stored rows' aggregate against the same aggregate of the views' SELECTs
 * over the derived rows, in one statement. Stored rows are partial aggregates of insert blocks, so
 * a decision stored twice is in the rollup twice and in the recomputation twice (reports count it
 * once; see period-report.ts).
 */
async function reconcileRollup(
  ctx: QueryContext,
  spec: RollupTable,
  range: Range,
  provenSources: ReadonlySet<string>,
): Promise<{ table: ReconciledTable; findings: ReconciliationFinding[] }> {
  const span = widen(range, spec.time.unit);
  const keys = spec.keys.map(ident).join(', ');
  const reads = spec.values.map(valueRead).join(',\n        ');
  const timeBound = `${ident(spec.time.column)} >= toDateTime(intDiv({src_from_ms:Int64}, 1000))
        AND ${ident(spec.time.column)} < toDateTime(intDiv({src_to_ms:Int64}, 1000))`;
  // Only where the rollup's rows come from the same time range the table was proven over.
  const source = rollupSource(ctx, spec, spec.bySourceTime && provenSources.has(spec.source));
  // As the view's insert does: each column converted to the rollup's type.
  const columns = (await storedColumns(ctx, spec.table))
    .map((c) => `${cast(c)} AS ${ident(c.name)}`)
    .join(', ');
  const expected = spec.selects
    .map((file) => viewSelect(ctx, file, { [spec.source]: source }))
    .map((select) => `SELECT ${columns} FROM (${select}) WHERE ${timeBound}`)
    .join('\n      UNION ALL\n      ');
  const comparisons = spec.values.map(valueComparison);
  const differs = comparisons.map((c) => `(${c.differs})`).join(' OR ');
  const messages = comparisons.map((c) => `if(${c.differs}, ${c.message}, '')`).join(', ');
  const streamKey = spec.stream === undefined ? "''" : `toString(${ident(spec.stream)})`;
  const streamBound =
    spec.stream === undefined ? '' : `AND ({stream:String} = '' OR ${ident(spec.stream)} = {stream:String})`;
  const bucket = bucketFilter(spec);
  const tableBound = `${timeBound} ${streamBound}${bucket === '' ? '' : ` AND ${bucket}`}`;
  const buckets = await bucketCount(ctx, spec, range);
  const windows = await rollupWindows(ctx, spec, span, range);
  const table: ReconciledTable = { table: spec.table, rows: 0, derived: 0, findings: 0 };
  const items: RollupRow[] = [];
  for (const [fromMs, toMs] of windows)
    for (let i = 0; i < buckets; i++) {
      const [summary] = await ctx.rows<{
        rows: string;
        derived: string;
        bad_keys: string;
        items: RollupRow[];
      }>(
        `SELECT toString(countIf(na > 0)) AS rows, toString(countIf(ne > 0)) AS derived, toString(countIf(bad)) AS bad_keys,
       groupArrayIf(${range.limit})(CAST((key, stream, toString(na), toString(ne), diff),
         'Tuple(key String, stream String, na String, ne String, diff String)'), bad) AS items
     FROM (
       SELECT toString(tuple(${keys})) AS key, ${streamKey} AS stream,
         countIf(side = 1) AS na, countIf(side = 2) AS ne,
         na = 0 OR ne = 0 OR ${differs} AS bad,
         arrayStringConcat(arrayFilter(x -> x != '', [${messages}]), '; ') AS diff
       FROM (
         SELECT 1 AS side, ${keys},
           ${reads}
         FROM {{read:${spec.table}}} WHERE ${tableBound}
         GROUP BY ${keys}
         UNION ALL
         SELECT 2 AS side, ${keys},
           ${reads}
         FROM (${expected}) WHERE 1 ${streamBound}
         GROUP BY ${keys})
       GROUP BY ${keys})`,
        {
          stream: range.stream,
          src_from_ms: String(fromMs),
          src_to_ms: String(toMs),
          ...(bucket === '' ? {} : { buckets: String(buckets), bucket: String(i) }),
        },
      );
      table.rows += Number(summary?.rows ?? 0);
      table.derived += Number(summary?.derived ?? 0);
      table.findings += Number(summary?.bad_keys ?? 0);
      items.push(...(summary?.items ?? []).slice(0, Math.max(0, range.limit - items.length)));
    }
  const findings = items.map((item): ReconciliationFinding => {
    const code: ReconciliationCode =
      Number(item.na) === 0 ? 'missing' : Number(item.ne) === 0 ? 'extra' : 'different';
    const what =
      code === 'missing'
        ? `has no row for key ${item.key}, which otel_traces derives to`
        : code === 'extra'
          ? `holds key ${item.key}, which nothing in otel_traces derives to`
          : `key ${item.key} differs from its recomputation from otel_traces: ${item.diff}`;
    return {
      table: spec.table,
      code,
      key: item.key,
      ...(item.stream === '' ? {} : { stream: item.stream }),
      message: `${spec.table} ${what}`,
    };
  });
  return { table, findings };
}

/**
 * audit_overrides against the override records (every copy the spans hold, the records' time in the range: derived
 * from otel_traces, or audit_oversight where it was just proven to hold one span per key) and the decisions of
 * audit_decisions (every copy stored). A row is right when its record columns (decision, span, time, retention
 * class, stream) are those of a copy of an override record, and its decision columns are those of a stored copy of
 * the decision (decided) or empty with the record's service (pending: the finder reads such a decision from
 * audit_decisions). `extra`: no override record has the row's decision and span (a forged row, or one whose record
 * was changed); `different`: the record is there but a column is not what any copy gives (an edited confidence,
 * time, model or flag); `missing`: an override record without a row. One grouped pass over both sides, as
 * {@link reconcileRows}. A decided row taken from a copy of the decision that audit_decisions has since merged away
 * (copies that disagree, which the verifier reports) is `different` until audit_overrides merges too.
 */
async function reconcileOverrides(
  ctx: QueryContext,
  range: Range,
  provenSources: ReadonlySet<string>,
): Promise<{ table: ReconciledTable; findings: ReconciliationFinding[] }> {
  const params = {
    stream: range.stream,
    src_from_ms: String(range.fromMs),
    src_to_ms: String(range.toMs),
    limit: String(range.limit),
  };
  const records = provenSources.has('audit_oversight')
    ? provenRows(ctx, 'audit_oversight')
    : `(${derivedSelect(ctx, 'audit_oversight', true)})`;
  // The record's columns as one hash; '\x01' in place of the service on a decided row (it has the decision's).
  const recordHash = (time: string, service: string) =>
    `cityHash64(decision_id, span_id, ${time}, retention_class, integrity_stream, ${service})`;
  const rows = await ctx.rows<{
    decision_id: string;
    span_id: string;
    stream: string;
    na_text: string;
    ne_text: string;
    n: string;
    stored: string;
    derived: string;
    bad: boolean | number;
  }>(
    `SELECT decision_id, span_id, stream, toString(na) AS na_text, toString(ne) AS ne_text,
       toString(countIf(bad) OVER ()) AS n, toString(sum(na) OVER ()) AS stored, toString(sum(ne) OVER ()) AS derived,
       bad
     FROM (
       SELECT decision_id, span_id, any(stream) AS stream, countIf(side = 1) AS na, countIf(side = 2) AS ne,
         NOT (na > 0 AND ne > 0
           AND hasAll(groupUniqArrayIf(h, side = 2), groupArrayIf(h, side = 1))
           AND min(decision_ok) = 1) AS bad
       FROM (
         SELECT decision_id, span_id, toString(integrity_stream) AS stream, 1 AS side,
           ${recordHash('record_time', "if(decided, '\\x01', service)")} AS h,
           if(decided,
             cityHash64(decision_id, confidence_key, time, service, model_id, model_version) IN (
               SELECT cityHash64(decision_id, ifNull(confidence, -1), time, service, model_id, model_version)
               FROM {{read:audit_decisions}}
               WHERE decision_id IN (SELECT decision_id FROM {{read:${OVERRIDES_TABLE}}} WHERE decided)),
             confidence_key = 0 AND toUnixTimestamp64Nano(time) = 0 AND model_id = '' AND model_version = '')
             AS decision_ok
         FROM {{read:${OVERRIDES_TABLE}}}
         WHERE ${rangeBounds('record_time')}
         UNION ALL
         SELECT decision_id, span_id, toString(integrity_stream), 2,
           arrayJoin([${recordHash('time', "'\\x01'")}, ${recordHash('time', 'service')}]), true
         FROM ${records}
         WHERE action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}} AND ${rangeBounds('time')})
       GROUP BY decision_id, span_id)
     ORDER BY bad DESC, decision_id, span_id
     LIMIT {limit:UInt32}`,
    params,
  );
  const first = rows[0];
  const table: ReconciledTable = {
    table: OVERRIDES_TABLE,
    rows: Number(first?.stored ?? 0),
    // Each copy of a record is two rows of the derived side (two hashes).
    derived: Number(first?.derived ?? 0) / 2,
    findings: Number(first?.n ?? 0),
  };
  const findings = rows
    .filter((row) => Number(row.bad) === 1)
    .map((row): ReconciliationFinding => {
      const code: ReconciliationCode =
        Number(row.na_text) === 0 ? 'missing' : Number(row.ne_text) === 0 ? 'extra' : 'different';
      const what =
        code === 'missing'
          ? 'has no row for it, which audit_oversight holds an override record for'
          : code === 'extra'
            ? 'holds a row for it that no override record in otel_traces derives to'
            : 'holds a row for it whose columns are not what its override record and any stored copy of the decision give';
      return {
        table: OVERRIDES_TABLE,
        code,
        decisionId: row.decision_id,
        spanId: row.span_id,
        ...(row.stream === '' ? {} : { stream: row.stream }),
        message: `${OVERRIDES_TABLE} ${what}: decision ${row.decision_id} (span ${row.span_id})`,
      };
    });
  return { table, findings };
}

/**
 * Checks that every row of every table and rollup derived from `otel_traces` — the audit tables
 * (`audit_decisions`, `audit_oversight`, `audit_feedback`, `audit_deployments`,
 * `audit_checkpoints`, `audit_decision_links`; `audit_decisions_by_confidence`, filled from
 * `audit_decisions`' inserts, through that table's derivation), their rollups (`audit_decision_stats`, `audit_confidence_stats`,
 * `audit_oversight_stats`, `audit_feedback_stats`) and the trace-range lookup
 * (`otel_traces_trace_id_ts`) — is what the materialized views' own SELECTs derive from the spans
 * stored in `otel_traces`, inside the engine (grouped set comparison on a key plus a hash of the
 * columns; only differing keys come back). Whether the `otel_traces` rows themselves are authentic
 * is the verifier's check, not this one. Tables written by other means are not compared
 * ({@link NOT_DERIVED_TABLES}).
 *
 * Rows whose retention has expired are dropped from `otel_traces` and the audit tables by
 * partition, at different times: reconcile a range inside the retention period. Oversight and
 * feedback rows stored before migration 6 have no model columns while their spans name the model:
 * on a store upgraded from before it, those rows are `different` until rewritten.
 */
export async function reconcileAuditTables(
  ctx: QueryContext,
  query: ReconciliationQuery = {},
): Promise<AuditReconciliation> {
  const range = resolveRange(query);
  const result: AuditReconciliation = { findings: [], tables: [], skipped: [] };
  // Derived tables just shown to hold exactly what otel_traces derives to, one span per key, over
  // whole days (so over every hour and day a rollup key of the range covers). Their rollups are
  // then recomputed from the table (FINAL, so a forged copy of a row is not summed twice) instead
  // of deriving every span again: the same rows, without reading each span's attribute map.
  const provenSources = new Set<string>();
  const wholeDays = range.fromMs % DAY_MS === 0 && range.toMs % DAY_MS === 0;
  for (const spec of DERIVED_TABLES) {
    if (!range.tables.has(spec.table)) continue;
    const { table, findings, oneCopyEach } = await reconcileRows(ctx, spec, range, provenSources);
    if (oneCopyEach && wholeDays) provenSources.add(spec.table);
    result.tables.push(table);
    result.findings.push(...findings);
  }
  if (range.tables.has(OVERRIDES_TABLE)) {
    const { table, findings } = await reconcileOverrides(ctx, range, provenSources);
    result.tables.push(table);
    result.findings.push(...findings);
  }
  for (const spec of ROLLUP_TABLES) {
    if (!range.tables.has(spec.table)) continue;
    if (range.stream !== '' && spec.stream === undefined) {
      result.skipped.push({ table: spec.table, reason: 'it does not record the integrity stream' });
      continue;
    }
    const { table, findings } = await reconcileRollup(ctx, spec, range, provenSources);
    result.tables.push(table);
    result.findings.push(...findings);
  }
  return result;
}
