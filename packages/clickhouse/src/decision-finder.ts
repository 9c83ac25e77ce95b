import { DECISION_LISTING_COLUMNS, decisionFilterParams, type DecisionRow } from './decision-queries.ts';
import { StoreError } from './errors.ts';
import { END_OF_TIME, requireString, type QueryContext, type QueryParams } from './query-context.ts';

/** What a decision's integrity rests on; see sql/decision-integrity-status.sql. */
export type DecisionIntegrityStatus = 'sealed' | 'unsealed' | 'untrusted' | 'unsigned';

/** Ways {@link findDecisions} orders decisions. */
export type DecisionSort = 'time' | 'confidence';

/**
 * Which decisions to find, how to order them, and where the page starts. Every filter is optional; one that is
 * given matches exactly (a version of '' finds the decisions without a version).
 */
export interface DecisionSearch {
  /** Span start at or after this instant. @default the beginning of time */
  from?: Date;
  /** Span start before this instant. @default the end of DateTime64 */
  to?: Date;
  modelId?: string;
  modelVersion?: string;
  service?: string;
  outcome?: string;
  /** Decisions with (true) or without (false) an override by a person. */
  overridden?: boolean;
  /** Confidence at least this (decisions without a confidence never match a confidence bound). */
  minConfidence?: number;
  /** Confidence at most this. */
  maxConfidence?: number;
  subjectId?: string;
  fairnessGroup?: string;
  /**
   * The decisions an incident affected: the ones it names, and those of its model (and version, '' for any) in
   * its window. The caller resolves the incident (the CLI with its one rule for an incident's window).
   */
  incident?: { decisionIds: string[]; modelId: string; modelVersion: string; from: Date; to: Date };
  /**
   * The newest checkpoint size per stream that a trusted key signed, checked by the caller. Given, every row
   * carries its {@link DecisionIntegrityStatus} and `integrity` can filter on it.
   */
  sealed?: { stream: string; size: number }[];
  /** Only decisions of this integrity status; needs `sealed`. */
  integrity?: DecisionIntegrityStatus;
  /** @default 'time' */
  sort?: DecisionSort;
  /** @default 'desc' (newest or most confident first) */
  order?: 'asc' | 'desc';
  /** Page size, 1..1000. @default 50 */
  limit?: number;
  /** The `nextCursor` of the previous page, with the same filters and order. */
  cursor?: string;
}

/**
 * One decision of a page: its row without the input and output hashes (the timeline of the decision shows them),
 * which a page scattered over the store would decompress for every row of every granule it touches.
 */
export interface FoundDecision extends Omit<DecisionRow, 'inputHash' | 'outputHash'> {
  /** An oversight record with action override exists for it. */
  overridden: boolean;
  /** See {@link DecisionIntegrityStatus}; null when the search gave no `sealed` checkpoints. */
  integrity: DecisionIntegrityStatus | null;
}

/** One page of decisions and where the next one starts (null after the last page). */
export interface DecisionPage {
  decisions: FoundDecision[];
  nextCursor: string | null;
}

const STATUSES: readonly DecisionIntegrityStatus[] = ['sealed', 'unsealed', 'untrusted', 'unsigned'];
const STATUS = '{{include:decision-integrity-status.sql}}';

/** How a decision sorts by confidence: its confidence, -1 without one. */
const CONFIDENCE_KEY = 'ifNull(confidence, -1)';

/**
 * The confidence order's key over a source: audit_decisions_by_confidence stores it as a column (migration 20, whose
 * comment blames the expression key of migration 16 for the reverse read that did not happen; the cause was the
 * place of NaN in a descending order, see keysStatement).
 */
function confidenceKey(source: KeySource | 'rows'): string {
  return source === 'by-confidence' ? 'confidence_key' : CONFIDENCE_KEY;
}

/**
 * The optional filters of a search, by the flag its params set when the search gives the filter; each is in a
 * statement only when given. Folded away by its flag (`NOT {by_x:Bool} OR …`) a filter is still evaluated for every
 * row read (and an IN subquery's set still built): 30–40 ms of CPU over a 16-hour window at 10 M decisions, over
 * a search of the whole period ≈ 1.4 s. The period, model, version and service are sql/decision-filter.sql (LowCardinality
 * comparisons, cheap folded or not). Every column named here is in audit_decisions and audit_decisions_by_confidence
 * but the subject's, which only audit_decisions has.
 */
const OPTIONAL_FILTERS = {
  by_outcome: 'outcome = {outcome:String}',
  by_group: 'fairness_group = {fairness_group:String}',
  // Each confidence bound also on the confidence order's key (implied by the bound: a decision without a confidence
  // matches neither), a primary-key range of audit_decisions_by_confidence.
  by_min_confidence:
    'confidence >= {min_confidence:Float64} AND ifNull(confidence, -1) >= {min_confidence:Float64}',
  by_max_confidence:
    'confidence <= {max_confidence:Float64} AND ifNull(confidence, -1) <= {max_confidence:Float64}',
  by_overridden: '{{include:decision-finder-overridden.sql}}',
  // Implied by 'unsealed' (a leaf at or past its sealed stream's checkpoint size, so past the smallest of them): a
  // bound on one column, by which the engine skips every part (its column statistics) and granule that holds only
  // older leaves. The unsealed decisions are a store's newest, so a search for them reads the newest parts alone —
  // oldest first or by confidence, not the whole period.
  by_unsealed: 'integrity_seq >= {unsealed_from:UInt64}',
  // Implied by 'unsigned' (no stream): on its own, so the engine tests it against idx_integrity_stream (migration
  // 30) and skips every 1024 decisions of signed ones, where the status alone read the stream of every decision of
  // the period.
  by_unsigned: "integrity_stream = ''",
  by_incident: '{{include:decision-finder-incident.sql}}',
  // The two halves of an incident's decisions, which the ids' step reads apart (see orderedKeys).
  by_named: 'decision_id IN {incident_ids:Array(String)}',
  by_incident_model:
    "model_id = {incident_model:String} AND ({incident_version:String} = '' OR model_version = {incident_version:String})",
  // Before the status, the stream and leaf tests each status implies (unsigned: no stream; untrusted: a stream not
  // sealed; sealed and unsealed: a sealed one, the leaf below or at least at its size), which the engine evaluates
  // first, one after another, on what is left: a status few decisions have costs a scan of the stream column (and
  // of the leaf index), not the status of every row.
  by_integrity: `(({integrity:String} = 'unsigned') = (integrity_stream = '')
      AND ({integrity:String} IN ('sealed', 'unsealed')) = (integrity_stream IN {sealed_streams:Array(String)})
      AND ({integrity:String} NOT IN ('sealed', 'unsealed') OR ({integrity:String} = 'sealed') = (integrity_seq
        < transform(integrity_stream, {sealed_streams:Array(String)}, {sealed_sizes:Array(UInt64)}, toUInt64(0)))))
    AND ${STATUS} = {integrity:String}`,
  by_subject: 'subject_id = {subject_id:String}',
} as const;

/**
 * The conditions of a search's statement over `source`: the period and model (sql/decision-filter.sql), then each
 * filter the search gives. In the ids' step the given filters (but the override's subquery) are its PREWHERE: the
 * engine reads their columns first and the rest (time, the id) only where they hold, and tests them one after
 * another on what is left — a status few decisions have costs a scan of one stream column, not of every id (1 M
 * decisions, a search none matches: 7 ms of CPU against 100 ms with every condition in WHERE).
 */
function conditionsOf(
  params: QueryParams,
  source: KeySource | 'rows',
): { prewhere: string[]; where: string[] } {
  const given = (Object.keys(OPTIONAL_FILTERS) as (keyof typeof OPTIONAL_FILTERS)[]).filter(
    (flag) =>
      params[flag] === true &&
      // The override is a fact about the id: the rows' step reads it for every row and the caller compares.
      !(source === 'rows' && flag === 'by_overridden'),
  );
  if (source === 'by-confidence' && given.includes('by_subject')) {
    throw new StoreError('QUERY_FAILED', 'audit_decisions_by_confidence has no subject to filter on');
  }
  // The override's set is built before any row is read wherever it stands; over audit_decisions it stays in WHERE,
  // after a window's time bounds. Over the side table in WHERE it made the engine read the period's time and
  // model columns for every row before testing it (10 M decisions: ≈ 300 against 70 ms of CPU in PREWHERE).
  const early = given.filter(
    (flag) => source !== 'rows' && (flag !== 'by_overridden' || source === 'by-confidence'),
  );
  const filter = (flag: keyof typeof OPTIONAL_FILTERS): string =>
    `(${OPTIONAL_FILTERS[flag].replaceAll(CONFIDENCE_KEY, confidenceKey(source))})`;
  // Over the side table, a period of all of time is left to the rows' step, which tests it on each decision's final
  // copy as every condition (no stored decision is outside it: a span's time is not before 1970, and one past 2106
  // is refused by the views' statistics): in the ids' statement it read the time column of every row read and ruled
  // out none (10 M decisions, whole-period pages by confidence: 2–7 ms of CPU of the statement's ≈ 15–30).
  const period =
    source === 'by-confidence' && wholePeriod(params)
      ? ['{{include:model-filter.sql}}', '{{include:service-filter.sql}}']
      : ['{{include:decision-filter.sql}}'];
  return {
    prewhere: early.map(filter),
    where: [...period, ...given.filter((flag) => !early.includes(flag)).map(filter)],
  };
}

/**
 * Where a page's decision ids are read, in the search's order: audit_decisions (in decision-id order: a time-ordered
 * page is read window by window, a confidence-ordered one sorted from the period's rows) or
 * audit_decisions_by_confidence (migrations 16 and 20: the columns the filters compare, in confidence order, so a page is
 * the first rows of a primary-key range). It has no subject, so a search by subject reads audit_decisions, whose
 * bloom filter finds the subject's few granules.
 */
type KeySource = 'decisions' | 'by-confidence';

// One statement per sort key, direction and source (ORDER BY cannot be a parameter); the cursor predicate is the
// keyset condition "after the last row of the previous page" in the same order. The decision id breaks ties.
const CURSORS: Record<DecisionSort, string> = {
  time: 'fromUnixTimestamp64Nano(toInt64({after_time_ns:String}))',
  // As the engine wrote the key (toString of a Float64): 'nan' and 'inf' bind as text, not as a JSON number.
  confidence: 'toFloat64({after_confidence:String})',
};

/** Whether a confidence key, as the engine writes it (`toString` of a Float64), is NaN. */
function isNaNKey(text: string): boolean {
  return /^-?nan$/i.test(text);
}

/**
 * The rows after a cursor in a search's order, by the order's key expression. A stored confidence that is not a
 * number (NaN: the views keep what a producer sent, `toFloat64OrNull('nan')`) sorts after every number both ways —
 * first highest first (NULLS FIRST), last lowest first — and a tuple comparison with NaN is false either way: after
 * a NaN cursor the rows are placed by a condition of their own; after a number, highest first, the tuple already
 * leaves the NaN rows out (they came first), and lowest first they are read once the numbers run out (see
 * orderedKeys), so the statement of every page with a number for its cursor stays the one it was. A key of ±inf
 * compares as a number.
 */
function afterCursor(key: string, sort: DecisionSort, order: 'asc' | 'desc', params: QueryParams): string {
  const tuple = `(${key}, decision_id) ${order === 'asc' ? '>' : '<'} (${CURSORS[sort]}, {after_id:String})`;
  if (sort === 'time') return tuple;
  if (isNaNKey(String(params.after_confidence))) {
    return order === 'desc'
      ? `(isNaN(${key}) AND decision_id < {after_id:String} OR NOT isNaN(${key}))`
      : `(isNaN(${key}) AND decision_id > {after_id:String})`;
  }
  return tuple;
}

/** Whether a search's period is all of time: from the epoch (or before) to {@link END_OF_TIME}. */
function wholePeriod(params: QueryParams): boolean {
  return (
    BigInt(params.from_ns as string) <= 0n &&
    BigInt(params.to_ns as string) >= BigInt(END_OF_TIME.getTime()) * 1_000_000n
  );
}

/**
 * Whether the engine analyses a bound on the side table's key by a binary search: in 26.7 only when every other
 * condition is a plain comparison. An OR whose other side is a folded flag — the model, version and service of
 * sql/decision-filter.sql (`NOT {by_model:Bool} OR …`) when given, a sealed or unsealed status's leaf test —
 * made it a generic exclusion search over every mark (10 M, service loan-api: 3.7 against 0.2 ms; a plain
 * `service = …` got the binary search). The override's and an incident model's conditions have the same shape
 * (left out by it, not measured). What matches is the same either way.
 */
function keyRangeBySearch(params: QueryParams): boolean {
  return (
    params.by_model !== true &&
    params.by_version !== true &&
    params.by_service !== true &&
    params.by_overridden !== true &&
    params.by_incident_model !== true &&
    !(params.by_integrity === true && (params.integrity === 'sealed' || params.integrity === 'unsealed'))
  );
}

/** The ids of a page (and each one's sort key as the cursor writes it), without the rest of the row. */
function keysStatement(
  sort: DecisionSort,
  order: 'asc' | 'desc',
  source: KeySource,
  params: QueryParams,
  rowBudget: number | undefined,
): string {
  const cursor = CURSORS[sort];
  const key = sort === 'time' ? 'time' : confidenceKey(source);
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  // A float sorts NaN last both ways unless told otherwise, so the engine reads a float key in reverse only when
  // the order puts NaN first (where reading backwards finds it): without this a page by confidence, highest first,
  // sorted the whole period (10 M decisions: ≈ 0.9 s of CPU; 1 M, one statement: 75 ms against 7 ms).
  const nanPlace = sort === 'confidence' && order === 'desc' ? ' NULLS FIRST' : '';
  const value =
    sort === 'time' ? 'toString(toUnixTimestamp64Nano(time))' : `toString(${confidenceKey(source)})`;
  // Read without FINAL, which merges the parts by decision id before a row comes out (for the side table, every
  // part of the period; for a time window, every column read): a decision stored twice can appear twice here, a
  // stale copy where it used to sort, and the caller keeps the one its final copy confirms.
  const { prewhere, where } = conditionsOf(params, source);
  // In the statement, not the session: the embedded engine keeps a session's settings for the next statement.
  const settings: string[] = [];
  if (rowBudget !== undefined)
    settings.push(`max_rows_to_read = ${rowBudget}`, "read_overflow_mode = 'throw'");
  // idx_integrity_stream (migration 30) skips a block of 1024 decisions only where none has a stream the status
  // needs: for the unsigned, every signed block. For another status it skips only blocks without a signed decision
  // (a stretch stored before signing), and the engine analyses the whole index of the period first (10 M signed:
  // 39,070 of 39,070 granules kept; sealed and untrusted pages by confidence ≈ 5 ms of CPU less without it,
  // interleaved). A skip index only prunes; what matches is the same.
  // Likewise idx_time when the period is all of time and no window bounds the statement: it rules out no granule,
  // and its analysis over every granule cost as much as the rest of a direct attempt's row count (10 M,
  // credit-scorer by confidence: 11.4 against 5.2 ms of CPU, interleaved).
  const ignored = [
    ...(source === 'decisions' && params.by_integrity === true && params.by_unsigned !== true
      ? ['idx_integrity_stream']
      : []),
    ...(source === 'decisions' && params.windowed !== true && wholePeriod(params) ? ['idx_time'] : []),
  ];
  if (ignored.length > 0) settings.push(`ignore_data_skipping_indices = '${ignored.join(',')}'`);
  const from = `${source === 'decisions' ? '{{read:audit_decisions}}' : '{{read:audit_decisions_by_confidence}}'}${
    prewhere.length === 0 ? '' : `\n    PREWHERE ${prewhere.join('\n      AND ')}`
  }
    WHERE ${where.join('\n      AND ')}`;
  return `
    SELECT decision_id AS id, ${value} AS key
    FROM ${from}${
      // Each only when used, as the filters (a folded tuple comparison still read every row's decision id).
      params.has_cursor === true
        ? `${
            // Implied by the cursor's tuple, the key alone below it: a primary-key range of the side table, which
            // the tuple is not, so the engine skips what sorts before the cursor instead of reading it. A page
            // past a stretch of the order that the filters rule out read that stretch again every page (10 M,
            // outcome deny by confidence, highest first: the 5 M approvals above it, 55 against 20 ms of CPU).
            // Only where the engine finds the range by a binary search over each part's marks (≈ 0.2 ms at 10 M):
            // descending, and with no condition that keeps an OR with a folded flag (see keyRangeBySearch).
            // Otherwise it tested the bound against every mark (a generic exclusion search, 3.5–5.8 ms of CPU)
            // and the pages measured pruned nothing by it: 4–9 ms more per next page.
            source === 'by-confidence' &&
            sort === 'confidence' &&
            order === 'desc' &&
            !isNaNKey(String(params.after_confidence)) &&
            keyRangeBySearch(params)
              ? `\n      AND ${key} <= ${cursor}`
              : ''
          }\n      AND ${afterCursor(key, sort, order, params)}`
        : ''
    }${
      // A stretch of time to read first (see TIME_WINDOWS_NS): its partitions and idx_time's granules only.
      params.windowed === true
        ? `\n      AND time >= fromUnixTimestamp64Nano({window_from_ns:Int64})
      AND time < fromUnixTimestamp64Nano({window_to_ns:Int64})`
        : ''
    }
    ORDER BY ${key} ${direction}${nanPlace}, decision_id ${direction}
    LIMIT {limit:UInt32}${settings.length === 0 ? '' : `\n    SETTINGS ${settings.join(', ')}`}`;
}

/**
 * The rows of a page's ids, each still matching the search, read from the decision's final copy in audit_decisions
 * (granules of 256 rows since migration 27: a page's scattered ids cost ≈ 35 ms of CPU at 1 M decisions); whether a
 * person overrode the decision is a fact about the id, read here and compared by the caller.
 *
 * The override is read from the final copies of the oversight records (`audit_oversight FINAL`: a later copy of a
 * record can turn an override into a review) — outside a search for overridden decisions, of those ids alone that
 * audit_overrides holds a row for. Its views write a row for every copy of an override record stored (migration 25),
 * so an id without one has no override; a row is only a candidate, which the final copy confirms or not. Most
 * pages' ids have none, and the oversight records are then hardly read (10 M decisions, 65 ids of which one
 * overridden: 6.6 against 8.9 ms of CPU). A search for overridden decisions reads them directly: every id of its
 * page has a row there (50 overridden ids: 15 against 21 ms with the narrow table first).
 *
 * `overrideRuledOut`: the ids came through the set of the overridden decisions' hashes with `overridden` false
 * (sql/decision-finder-overridden.sql), so none of them is overridden and nothing is read for it.
 *
 * Without the skip indexes: the primary key finds each id's granule, and every granule it finds holds an id its
 * ids' step matched (a skip index could only rule out one whose every copy stopped matching), but the engine
 * loaded and tested each index the conditions name over them — the model's set, the time's and the stream's
 * minmax (10 M decisions, 50 ids, interleaved: ≈ 6 ms of CPU of a page of one model version or an integrity
 * status). A skip index only prunes; what matches is the same.
 */
const rowsStatement = (params: QueryParams, overrideRuledOut: boolean): string => `
  SELECT ${DECISION_LISTING_COLUMNS}, toString(${CONFIDENCE_KEY}) AS confidenceKey,
    if({with_integrity:Bool}, ${STATUS}, '') AS integrity, ${
      overrideRuledOut
        ? 'false'
        : `decision_id IN (
      SELECT decision_id FROM {{read:audit_oversight}} FINAL
      WHERE decision_id IN ${
        params.by_overridden === true && params.overridden === true
          ? '{ids:Array(String)}'
          : `(
          SELECT decision_id FROM {{read:audit_overrides}} WHERE decision_id IN {ids:Array(String)})`
      }
        AND action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}
    )`
    } AS overridden
  FROM {{read:audit_decisions}} FINAL
  WHERE decision_id IN {ids:Array(String)} AND ${conditionsOf(params, 'rows').where.join('\n    AND ')}
  SETTINGS use_skip_indexes = 0`;

/**
 * The newest and oldest stored decision times (decimal nanoseconds): where a time-ordered search starts reading.
 * Over the whole table, so the parts' own time ranges answer it without reading a granule.
 */
const TIME_ANCHOR_SQL = `
  SELECT toString(toUnixTimestamp64Nano(max(time))) AS newest, toString(toUnixTimestamp64Nano(min(time))) AS oldest,
    count() > 0 AS found
  FROM {{read:audit_decisions}}`;

/**
 * audit_decisions is ordered by decision id, not time, so `ORDER BY time … LIMIT n` over the whole table reads
 * every row (1 M decisions: ≈ 100 ms of CPU; 10 M: ten times that). A time-ordered page is instead read from the
 * stretch of time next to where it starts — an hour, then 16 hours, ≈ 11 days, ≈ 6 months, ≈ 7 years, then
 * everything — and the first stretch that holds a full page is the answer: every decision it leaves out is later
 * in the order than all it holds. A stretch's partitions and idx_time's granules are all that is read of it; a
 * search whose matches are rare reads at most the whole table once more than before, in decreasing stretches.
 */
const TIME_WINDOWS_NS: readonly bigint[] = [1n, 16n, 256n, 4096n, 65536n].map(
  (hours) => hours * 3_600_000_000_000n,
);

/**
 * A confidence-ordered page whose period holds at most this many stored rows (after the index of time has pruned
 * audit_decisions) is sorted from those rows; past it, audit_decisions_by_confidence is read in order instead.
 * The engine counts the rows a statement would read before reading any (max_rows_to_read), so a period too long
 * costs only that count. The page's rows are then read whole from audit_decisions, a granule of 2048 rows for each
 * one the period's granules scatter it over, where the side table holds them in order: at 10 M decisions a day's
 * period (110 k rows, 54 granules) cost 66 ms of CPU sorted here against 45 from the side table. But a search the
 * side table cannot narrow — the unsealed decisions, ≈ 100 k rows after the engine skipped the parts of older
 * leaves, the page in a few granules — costs ≈ 40 ms here against ≈ 300 there: 64 granules at most.
 */
export const DIRECT_CONFIDENCE_ROWS = 131_072;

/** An id of a page in order, with its sort key as the cursor writes it. */
interface KeyRow {
  id: string;
  key: string;
}

type PageRow = Omit<FoundDecision, 'overridden' | 'integrity'> & {
  integrity: string;
  overridden: boolean | number;
  /** The confidence order's key as the engine writes it, which JSON cannot carry for NaN (it reads `null`). */
  confidenceKey: string;
};

/** One statement of a search's ids: within a window of time (both bounds in ns), or over all of it (null). */
async function keyRows(
  ctx: QueryContext,
  params: QueryParams,
  plan: { sort: DecisionSort; order: 'asc' | 'desc'; source: KeySource },
  window: [bigint, bigint] | null,
  rowBudget?: number,
): Promise<KeyRow[]> {
  const bound = {
    ...params,
    windowed: window !== null,
    window_from_ns: String(window?.[0] ?? 0n),
    window_to_ns: String(window?.[1] ?? 0n),
  };
  const statement = keysStatement(plan.sort, plan.order, plan.source, bound, rowBudget);
  return ctx.rows<KeyRow>(statement, bound);
}

/** A time-ordered page's ids, read window by window from where it starts (see {@link TIME_WINDOWS_NS}). */
async function timeOrderedKeys(
  ctx: QueryContext,
  params: QueryParams,
  order: 'asc' | 'desc',
): Promise<KeyRow[]> {
  const plan = { sort: 'time', order, source: 'decisions' } as const;
  if (overriddenOnly(params)) return overriddenKeys(ctx, params, 'time', order);
  // A subject's decisions are few, and the subject's index finds them wherever they are; named ones are a
  // primary-key lookup.
  if (params.by_subject === true || params.by_named === true) return keyRows(ctx, params, plan, null);
  const [stored] = await ctx.rows<{ newest: string; oldest: string; found: boolean | number }>(
    TIME_ANCHOR_SQL,
    {},
  );
  if (stored === undefined || !stored.found) return [];
  const bigMin = (a: bigint, b: bigint): bigint => (a < b ? a : b);
  const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
  const from = BigInt(params.from_ns as string);
  const to = BigInt(params.to_ns as string);
  // What is left of the search lies between the cursor (or the period's first decision in the order) and the
  // period's last stored one. Each window reads from the start on by `span` and leaves no bound on the other side,
  // so what it returns is right whatever the anchor is; the anchor only decides how much is read.
  const newest = bigMin(BigInt(stored.newest), to - 1n);
  const oldest = bigMax(BigInt(stored.oldest), from);
  if (newest < oldest) return [];
  const cursor = params.has_cursor === true ? BigInt(params.after_time_ns as string) : undefined;
  const limit = Number(params.limit);
  for (const span of TIME_WINDOWS_NS) {
    const window: [bigint, bigint] =
      order === 'desc' ? [(cursor ?? newest) - span, to] : [from, (cursor ?? oldest) + span + 1n];
    const rows = await keyRows(ctx, params, plan, window);
    // A window reaching past the period's oldest (newest) stored decision holds all that is left of the search,
    // so its rows are the page, full or not.
    if (rows.length >= limit || (order === 'desc' ? window[0] <= oldest : window[1] > newest)) return rows;
  }
  return keyRows(ctx, params, plan, null);
}

/** Whether a statement failed because it would read more rows than its max_rows_to_read. */
function tooManyRows(error: unknown): boolean {
  const cause = error instanceof StoreError ? error.cause : error;
  return cause instanceof Error && /TOO_MANY_ROWS|Limit for rows/i.test(cause.message);
}

/**
 * The filters a confidence-ordered search's direct attempt (see {@link DIRECT_CONFIDENCE_ROWS}) cannot skip a
 * granule or part of audit_decisions by: no index or key of the table holds their columns (idx_model is the
 * model's, idx_integrity_stream the unsigned status's, the integrity sequence's bound the unsealed one's; the
 * override's set is of hashes, which the primary key cannot use).
 */
const NOT_NARROWING: ReadonlySet<string> = new Set([
  'by_outcome',
  'by_group',
  'by_min_confidence',
  'by_max_confidence',
  'by_overridden',
  'by_integrity',
  'by_version',
  'by_service',
]);

/**
 * Whether a direct attempt would count every stored decision: a search of the whole period whose every filter is
 * one of {@link NOT_NARROWING} (the engine counts the rows of the parts and granules it cannot rule out).
 */
function unnarrowed(params: QueryParams): boolean {
  return (
    wholePeriod(params) &&
    params.windowed !== true &&
    [...(Object.keys(OPTIONAL_FILTERS) as string[]), 'by_model', 'by_version', 'by_service'].every(
      (flag) => params[flag] !== true || NOT_NARROWING.has(flag),
    )
  );
}

/**
 * Whether audit_decisions holds more than `rows` rows, from its parts' row counts (no granule read): a direct
 * attempt of a search that cannot narrow the table (see {@link unnarrowed}) counts that many before it throws. At
 * 10 M decisions the attempt cost 10–12 ms of CPU per page (its plan over every part), this statement ≈ 3.
 */
async function storedOver(ctx: QueryContext, rows: number): Promise<boolean> {
  const [stored] = await ctx.rows<{ over: boolean | number }>(
    'SELECT count() > {rows:UInt64} AS over FROM {{read:audit_decisions}}',
    { rows },
  );
  return stored?.over === true || stored?.over === 1;
}

/**
 * A confidence-ordered page's ids: sorted from the period's rows of audit_decisions when they are few (a subject's,
 * or at most `directRows`), else read in order from audit_decisions_by_confidence. A search that cannot narrow
 * audit_decisions (see {@link unnarrowed}) of a store holding more than `directRows` goes to the side table without
 * the direct attempt, which would count every stored decision and throw (10 M decisions, whole-period pages by
 * confidence, interleaved: 3–7 ms of CPU less per page); a smaller store's is still sorted from audit_decisions.
 */
async function confidenceOrderedKeys(
  ctx: QueryContext,
  params: QueryParams,
  order: 'asc' | 'desc',
  directRows: number,
): Promise<KeyRow[]> {
  const plan = { sort: 'confidence', order } as const;
  if (overriddenOnly(params)) return overriddenKeys(ctx, params, 'confidence', order);
  if (params.by_subject === true || params.by_named === true) {
    return keyRows(ctx, params, { ...plan, source: 'decisions' }, null);
  }
  if (directRows > 0 && !(unnarrowed(params) && (await storedOver(ctx, directRows)))) {
    try {
      return await keyRows(ctx, params, { ...plan, source: 'decisions' }, null, directRows);
    } catch (error) {
      if (!tooManyRows(error)) throw error;
    }
  }
  return keyRows(ctx, params, { ...plan, source: 'by-confidence' }, null);
}

/**
 * Whether a search's ids can come from audit_overrides (migration 25): the overridden decisions, filtered by
 * nothing the table does not hold (it has the period's, model's, version's and service's columns).
 */
function overriddenOnly(params: QueryParams): boolean {
  return (
    params.by_overridden === true &&
    params.overridden === true &&
    (Object.keys(OPTIONAL_FILTERS) as (keyof typeof OPTIONAL_FILTERS)[]).every(
      (flag) => flag === 'by_overridden' || params[flag] !== true,
    )
  );
}

/**
 * The ids of a page of overridden decisions in either order, from audit_overrides: its decided rows in order (without
 * FINAL: a row is a candidate the caller confirms), and the decisions of its pending rows read from audit_decisions
 * by id (their overrides were stored first, and the decision's own view has not written the decided row, or wrote
 * it before the pending row), merged in order. A search of one model (and version) reads that model's range of the
 * table's projection by model, version and confidence key (migration 34); one of no model reads every row, ≈ 150 k
 * at 10 M decisions. By time too: the table holds each decision's time, so a search whose overridden decisions are
 * rare in its period (one model version over 30 days) reads these rows instead of widening windows of
 * audit_decisions.
 */
async function overriddenKeys(
  ctx: QueryContext,
  params: QueryParams,
  sort: DecisionSort,
  order: 'asc' | 'desc',
): Promise<KeyRow[]> {
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const nanPlace = sort === 'confidence' && order === 'desc' ? ' NULLS FIRST' : '';
  const cursor = (key: string): string =>
    params.has_cursor === true ? `\n      AND ${afterCursor(key, sort, order, params)}` : '';
  const value = (key: string): string =>
    sort === 'time' ? `toString(toUnixTimestamp64Nano(${key}))` : `toString(${key})`;
  const rowKey = sort === 'time' ? 'time' : 'confidence_key';
  const decisionKey = sort === 'time' ? 'time' : CONFIDENCE_KEY;
  const limit = Number(params.limit);
  // A decision overridden twice (two records), or pending and decided until the rows merge, is a row per record
  // at the same key: read past the page by a few, and further when copies filled it. (DISTINCT in the statement
  // hashed every row's id: ≈ 60 against ≈ 15 ms of CPU at 10 M.) Every condition in WHERE, which the engine moves to
  // PREWHERE itself: with `PREWHERE decided` written out, a page of one model version from the projection cost 9.0
  // against 5.6 ms of CPU (150 k rows). The pending rows' ids come in the same statement, after the decided ones
  // (that statement alone was ≈ 4–5 ms at 10 M); `listed`, not `decided`, names which is which, because WHERE sees a
  // SELECT's aliases (`false AS decided` made `NOT decided` hold for every row).
  const none = sort === 'time' ? 'toDateTime64(0, 9)' : 'toFloat64(0)';
  let decided: KeyRow[];
  let pending: string[];
  for (let read = limit + 8; ; read *= 4) {
    const rows = await ctx.rows<KeyRow & { listed: boolean | number }>(
      `
      SELECT id, key, listed FROM (
        SELECT decision_id AS id, ${value(rowKey)} AS key, ${rowKey} AS sort_key, true AS listed
        FROM {{read:audit_overrides}}
        WHERE decided AND {{include:decision-filter.sql}}${cursor(rowKey)}
        ORDER BY ${rowKey} ${direction}${nanPlace}, decision_id ${direction}
        LIMIT {read:UInt32}
        UNION ALL
        SELECT DISTINCT decision_id AS id, '' AS key, ${none} AS sort_key, false AS listed
        FROM {{read:audit_overrides}}
        WHERE NOT decided
      )
      ORDER BY listed DESC, sort_key ${direction}${nanPlace}, id ${direction}`,
      { ...params, read },
    );
    const found = rows.filter((k) => k.listed === true || k.listed === 1);
    pending = rows.filter((k) => !(k.listed === true || k.listed === 1)).map((k) => k.id);
    decided = found
      .filter((k, i) => i === 0 || k.id !== found[i - 1]!.id || k.key !== found[i - 1]!.key)
      .map(({ id, key }) => ({ id, key }));
    if (decided.length >= limit || found.length < read) break;
  }
  decided = decided.slice(0, limit);
  let keys = decided;
  if (pending.length > 0) {
    const resolved = await ctx.rows<KeyRow>(
      `
      SELECT decision_id AS id, ${value(decisionKey)} AS key
      FROM {{read:audit_decisions}} FINAL
      WHERE decision_id IN {pending_ids:Array(String)} AND {{include:decision-filter.sql}}${cursor(decisionKey)}
      ORDER BY ${decisionKey} ${direction}${nanPlace}, decision_id ${direction}
      LIMIT {limit:UInt32}`,
      { ...params, pending_ids: pending },
    );
    const seen = new Set<string>();
    keys = [...decided, ...resolved]
      .sort(keyOrder(sort, order))
      .filter((k) => !seen.has(`${k.key} ${k.id}`) && seen.add(`${k.key} ${k.id}`) !== undefined)
      .slice(0, Number(params.limit));
  }
  return keys;
}

/** Tuning of {@link findDecisions} that tests set to take each path on a small store. */
export interface FinderTuning {
  /** See {@link DIRECT_CONFIDENCE_ROWS}; 0 always reads audit_decisions_by_confidence. */
  directConfidenceRows: number;
}

function invalid(message: string): StoreError {
  return new StoreError('INVALID_ARGUMENT', message);
}

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${name} must be a finite number`);
  return value;
}

interface Cursor {
  sort: DecisionSort;
  order: 'asc' | 'desc';
  value: string;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.value, cursor.id])).toString(
    'base64url',
  );
}

function decodeCursor(text: string, sort: DecisionSort, order: 'asc' | 'desc'): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(requireString(text, 'cursor'), 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor is not one this store handed out');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === 'string')) {
    throw invalid('cursor is not one this store handed out');
  }
  const [cursorSort, cursorOrder, value, id] = parsed as string[];
  if (cursorSort !== sort || cursorOrder !== order) {
    throw invalid(`cursor belongs to a search sorted by ${cursorSort} ${cursorOrder}, not ${sort} ${order}`);
  }
  // A confidence key as the engine wrote it: a number, or a stored NaN / infinity ('nan', 'inf', '-inf').
  const valid =
    sort === 'time'
      ? /^\d{1,19}$/.test(value!)
      : Number.isFinite(Number(value)) || /^-?(nan|inf)$/i.test(value!);
  if (!valid) throw invalid('cursor is not one this store handed out');
  return { sort, order, value: value!, id: id! };
}

/** Bound parameters of a search; throws INVALID_ARGUMENT on anything malformed, before the store is read. */
function searchParams(search: DecisionSearch): {
  params: QueryParams;
  sort: DecisionSort;
  order: 'asc' | 'desc';
} {
  const sort = search.sort ?? 'time';
  if (sort !== 'time' && sort !== 'confidence') throw invalid('sort must be time or confidence');
  const order = search.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid('order must be asc or desc');
  const limit = search.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
    throw invalid('limit must be an integer in 1..1000');
  const optional = (value: unknown, name: string): [boolean, string] =>
    value === undefined ? [false, ''] : [true, requireString(value, name)];
  const [byOutcome, outcome] = optional(search.outcome, 'outcome');
  const [bySubject, subject] = optional(search.subjectId, 'subjectId');
  const [byGroup, group] = optional(search.fairnessGroup, 'fairnessGroup');
  const min = search.minConfidence === undefined ? undefined : finite(search.minConfidence, 'minConfidence');
  const max = search.maxConfidence === undefined ? undefined : finite(search.maxConfidence, 'maxConfidence');
  if (min !== undefined && max !== undefined && min > max)
    throw invalid('minConfidence must not exceed maxConfidence');
  if (search.overridden !== undefined && typeof search.overridden !== 'boolean') {
    throw invalid('overridden must be true or false');
  }
  const incident = search.incident;
  if (incident !== undefined && !Array.isArray(incident.decisionIds)) {
    throw invalid('incident.decisionIds must be a list');
  }
  const sealed = search.sealed ?? [];
  const unsealed = search.integrity === 'unsealed' && sealed.length > 0;
  for (const s of sealed) {
    requireString(s.stream, 'sealed.stream');
    if (!Number.isSafeInteger(s.size) || s.size < 0)
      throw invalid('sealed.size must be a non-negative integer');
  }
  if (search.integrity !== undefined) {
    if (!STATUSES.includes(search.integrity))
      throw invalid(`integrity must be one of ${STATUSES.join(', ')}`);
    if (search.sealed === undefined) throw invalid('integrity needs the trusted checkpoint sizes (sealed)');
  }
  const cursor = search.cursor === undefined ? undefined : decodeCursor(search.cursor, sort, order);
  const params: QueryParams = {
    ...decisionFilterParams({
      from: search.from ?? new Date(0),
      to: search.to ?? END_OF_TIME,
      ...(search.modelId === undefined ? {} : { modelId: search.modelId }),
      ...(search.modelVersion === undefined ? {} : { modelVersion: search.modelVersion }),
      ...(search.service === undefined ? {} : { service: search.service }),
    }),
    by_outcome: byOutcome,
    outcome,
    by_subject: bySubject,
    subject_id: subject,
    by_group: byGroup,
    fairness_group: group,
    by_min_confidence: min !== undefined,
    min_confidence: min ?? 0,
    by_max_confidence: max !== undefined,
    max_confidence: max ?? 0,
    by_overridden: search.overridden !== undefined,
    overridden: search.overridden ?? false,
    by_incident: incident !== undefined,
    incident_ids: (incident?.decisionIds ?? []).map((id, i) =>
      requireString(id, `incident.decisionIds[${i}]`),
    ),
    incident_model: requireString(incident?.modelId ?? '', 'incident.modelId'),
    incident_version: requireString(incident?.modelVersion ?? '', 'incident.modelVersion'),
    incident_from_ms: String(incident?.from.getTime() ?? 0),
    incident_to_ms: String(incident?.to.getTime() ?? 0),
    with_integrity: search.sealed !== undefined,
    by_integrity: search.integrity !== undefined,
    integrity: search.integrity ?? '',
    sealed_streams: sealed.map((s) => s.stream),
    sealed_sizes: sealed.map((s) => s.size),
    by_unsealed: unsealed,
    by_unsigned: search.integrity === 'unsigned',
    unsealed_from: unsealed ? Math.min(...sealed.map((s) => s.size)) : 0,
    has_cursor: cursor !== undefined,
    after_time_ns: sort === 'time' && cursor !== undefined ? cursor.value : '0',
    after_confidence: sort === 'confidence' && cursor !== undefined ? cursor.value : '0',
    after_id: cursor?.id ?? '',
    limit: String(limit),
  };
  if (
    incident !== undefined &&
    !(Number.isFinite(incident.from.getTime()) && Number.isFinite(incident.to.getTime()))
  ) {
    throw invalid('incident.from and incident.to must be valid dates');
  }
  return { params, sort, order };
}

/** A confidence key's number: the engine writes ±inf and NaN as 'inf', '-inf', 'nan', which Number() does not read. */
function confidenceOfKey(text: string): number {
  if (isNaNKey(text)) return Number.NaN;
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/** Compares two ids' rows in a search's order: by sort key, then decision id. */
function keyOrder(sort: DecisionSort, order: 'asc' | 'desc'): (a: KeyRow, b: KeyRow) => number {
  const sign = order === 'asc' ? 1 : -1;
  return (a, b) => {
    let byKey: number;
    if (sort === 'time') {
      const [x, y] = [BigInt(a.key), BigInt(b.key)];
      byKey = x > y ? 1 : x < y ? -1 : 0;
    } else {
      // NaN after every number, as the engine orders it both ways (see afterCursor).
      const [x, y] = [confidenceOfKey(a.key), confidenceOfKey(b.key)];
      byKey = Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : Number.isNaN(y) ? -1 : x > y ? 1 : x < y ? -1 : 0;
    }
    return sign * (byKey || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };
}

/**
 * A page's ids in the search's order. An incident's decisions are read in two halves and merged: the ones it names
 * by primary key, those of its model in its window by time. As one OR the engine could prune by neither, and a
 * window of time read from the newest decision reached back to the incident through everything in between.
 */
async function orderedKeys(
  ctx: QueryContext,
  params: QueryParams,
  sort: DecisionSort,
  order: 'asc' | 'desc',
  tuning: FinderTuning,
): Promise<KeyRow[]> {
  const readOnce = (p: QueryParams): Promise<KeyRow[]> =>
    sort === 'time'
      ? timeOrderedKeys(ctx, p, order)
      : confidenceOrderedKeys(ctx, p, order, tuning.directConfidenceRows);
  // Lowest first, a NaN confidence sorts after every number, where a cursor that is a number never reaches it (a
  // comparison with NaN is false): once a page's numbers run out it goes on with the NaN rows, by id.
  const read = async (p: QueryParams): Promise<KeyRow[]> => {
    const keys = await readOnce(p);
    const wanted = Number(p.limit);
    if (
      sort !== 'confidence' ||
      order !== 'asc' ||
      p.has_cursor !== true ||
      isNaNKey(String(p.after_confidence)) ||
      keys.length >= wanted
    ) {
      return keys;
    }
    const nan = await readOnce({
      ...p,
      after_confidence: 'nan',
      after_id: '',
      limit: String(wanted - keys.length),
    });
    return [...keys, ...nan];
  };
  if (params.by_incident !== true) return read(params);
  const halves: KeyRow[] = [];
  if ((params.incident_ids as string[]).length > 0) {
    halves.push(...(await read({ ...params, by_incident: false, by_named: true })));
  }
  if (params.incident_model !== '') {
    const from = BigInt(params.incident_from_ms as string) * 1_000_000n;
    const to = BigInt(params.incident_to_ms as string) * 1_000_000n;
    const period = {
      from_ns: String(from > BigInt(params.from_ns as string) ? from : params.from_ns),
      to_ns: String(to < BigInt(params.to_ns as string) ? to : params.to_ns),
    };
    if (BigInt(period.from_ns) < BigInt(period.to_ns)) {
      halves.push(...(await read({ ...params, ...period, by_incident: false, by_incident_model: true })));
    }
  }
  const seen = new Set<string>();
  return halves
    .sort(keyOrder(sort, order))
    .filter((k) => !seen.has(k.id) && seen.add(k.id) !== undefined)
    .slice(0, Number(params.limit));
}

/**
 * A page of decisions matching a search (GDPR access, an investigation, an incident's scope), newest first by
 * default, with a keyset cursor to the next page: pages never repeat or skip a decision while the filters stay
 * the same, even as new decisions arrive.
 *
 * Two steps: the page's ids in order (see {@link KeySource}), then their rows by primary key. A row is kept when
 * its decision's final copy still matches the search at the same place in the order; a decision whose copies
 * disagree (verify's conflicting copies) is listed where its final copy sorts, once.
 */
export async function findDecisions(
  ctx: QueryContext,
  search: DecisionSearch,
  tuning: FinderTuning = { directConfidenceRows: DIRECT_CONFIDENCE_ROWS },
): Promise<DecisionPage> {
  const searched = searchParams(search);
  const { sort, order } = searched;
  let params = searched.params;
  const limit = Number(params.limit);
  const decisions: FoundDecision[] = [];
  const seen = new Set<string>();
  // The sort key of the last decision listed, as its ids' step wrote it: the next page's cursor.
  let lastKey = '';
  const notOverridden = params.by_overridden === true && params.overridden === false;
  // The ids' step reads `limit` ids; one that its rows' step drops (a copy that no longer matches, one already
  // listed, an overridden one) leaves the page short, and the ids after the last one read fill it.
  for (
    let round = 0, keysRead = limit, wanted = limit;
    keysRead >= wanted && decisions.length < limit;
    round++
  ) {
    // A search for the decisions nobody overrode reads its first ids as if it had no such filter, a few more than
    // the page, and drops the overridden ones by what its rows' step reads (see rowsStatement): most decisions are
    // not overridden (≈ 1.5 % are at 10 M), and the set of every overridden decision's hash is built from every
    // oversight record's final copy before a row is tested (≈ 30 ms of CPU at 10 M). A page still short after it
    // (a search whose decisions are mostly overridden) is filled through that set.
    const unfiltered = notOverridden && round === 0;
    wanted = unfiltered ? limit + Math.ceil(limit / 16) + 4 : limit;
    const keyParams = unfiltered ? { ...params, by_overridden: false, limit: String(wanted) } : params;
    const keys = await orderedKeys(ctx, keyParams, sort, order, tuning);
    keysRead = keys.length;
    const fresh = keys.filter((k) => !seen.has(k.id));
    const ids = [...new Set(fresh.map((k) => k.id))];
    const rows =
      ids.length === 0
        ? []
        : await ctx.rows<PageRow>(rowsStatement(params, notOverridden && !unfiltered), { ...params, ids });
    const byId = new Map(rows.map((row) => [row.decisionId, row]));
    for (const { id, key } of fresh) {
      const row = byId.get(id);
      if (row === undefined || seen.has(id) || decisions.length === limit) continue;
      const { confidenceKey, ...shown } = row;
      // Both keys as the engine writes them (a stored NaN confidence is 'nan' here, null in the row's JSON).
      const rowKey = sort === 'time' ? row.timeUnixNano : confidenceKey;
      const overridden = row.overridden === true || row.overridden === 1;
      if (rowKey !== key) continue;
      if (params.by_overridden === true && overridden !== params.overridden) continue;
      seen.add(id);
      lastKey = key;
      decisions.push({
        ...shown,
        integritySeq: Number(row.integritySeq),
        overridden,
        integrity: row.integrity === '' ? null : (row.integrity as DecisionIntegrityStatus),
      });
    }
    const end = keys.at(-1);
    if (end === undefined) break;
    params = {
      ...params,
      has_cursor: true,
      after_time_ns: sort === 'time' ? end.key : '0',
      after_confidence: sort === 'confidence' ? end.key : '0',
      after_id: end.id,
    };
  }
  const lastFound = decisions.at(-1);
  const full = decisions.length === limit;
  return {
    decisions,
    nextCursor:
      !full || lastFound === undefined
        ? null
        : encodeCursor({
            sort,
            order,
            value: sort === 'time' ? lastFound.timeUnixNano : lastKey,
            id: lastFound.decisionId,
          }),
  };
}
