import { DECISION_COLUMNS, decisionFilterParams, type DecisionRow } from './decision-queries.ts';
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

/** One decision of a page. */
export interface FoundDecision extends DecisionRow {
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
const WHERE = '{{include:decision-finder-where.sql}}';
const STATUS = '{{include:decision-integrity-status.sql}}';

// One statement per sort key and direction (ORDER BY cannot be a parameter); the cursor predicate is the
// keyset condition "after the last row of the previous page" in the same order. The decision id breaks ties.
const SORT_KEYS: Record<DecisionSort, { key: string; cursor: string }> = {
  time: { key: 'time', cursor: 'fromUnixTimestamp64Nano(toInt64({after_time_ns:String}))' },
  confidence: { key: 'ifNull(confidence, -1)', cursor: '{after_confidence:Float64}' },
};

function statement(sort: DecisionSort, order: 'asc' | 'desc'): string {
  const { key, cursor } = SORT_KEYS[sort];
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const after = order === 'asc' ? '>' : '<';
  return `
    SELECT ${DECISION_COLUMNS}, if({with_integrity:Bool}, ${STATUS}, '') AS integrity
    FROM {{read:audit_decisions}} FINAL
    WHERE ${WHERE}
      AND (NOT {has_cursor:Bool} OR (${key}, decision_id) ${after} (${cursor}, {after_id:String}))
      -- A stretch of time to read first (see TIME_WINDOWS_NS in decision-finder.ts): its partitions and idx_time's granules only.
      AND (NOT {windowed:Bool} OR (time >= fromUnixTimestamp64Nano({window_from_ns:Int64})
        AND time < fromUnixTimestamp64Nano({window_to_ns:Int64})))
    ORDER BY ${key} ${direction}, decision_id ${direction}
    LIMIT {limit:UInt32}`;
}

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

type PageRow = Omit<FoundDecision, 'overridden' | 'integrity'> & { integrity: string };

/** One statement of a search: the page within a window of time (both bounds in ns), or over all of it (null). */
function pageRows(
  ctx: QueryContext,
  params: QueryParams,
  sort: DecisionSort,
  order: 'asc' | 'desc',
  window: [bigint, bigint] | null,
): Promise<PageRow[]> {
  return ctx.rows<PageRow>(statement(sort, order), {
    ...params,
    windowed: window !== null,
    window_from_ns: String(window?.[0] ?? 0n),
    window_to_ns: String(window?.[1] ?? 0n),
  });
}

/** A time-ordered page, read window by window from where it starts (see {@link TIME_WINDOWS_NS}). */
async function timeOrderedRows(
  ctx: QueryContext,
  params: QueryParams,
  order: 'asc' | 'desc',
): Promise<PageRow[]> {
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
  const cursor = params.has_cursor === true ? BigInt(params.after_time_ns as string) : undefined;
  const limit = Number(params.limit);
  for (const span of TIME_WINDOWS_NS) {
    const window: [bigint, bigint] =
      order === 'desc' ? [(cursor ?? newest) - span, to] : [from, (cursor ?? oldest) + span + 1n];
    const rows = await pageRows(ctx, params, 'time', order, window);
    // A window reaching past the period's oldest (newest) stored decision holds all that is left of the search,
    // so its rows are the page, full or not.
    if (rows.length >= limit || (order === 'desc' ? window[0] <= oldest : window[1] > newest)) return rows;
  }
  return pageRows(ctx, params, 'time', order, null);
}

/** Which of the page's decisions a person overrode (a primary-key lookup of the page's ids). */
const OVERRIDDEN_SQL = `
  SELECT DISTINCT decision_id AS id FROM {{read:audit_oversight}} FINAL
  WHERE decision_id IN {ids:Array(String)} AND action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}`;

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
  const valid = sort === 'time' ? /^\d{1,19}$/.test(value!) : Number.isFinite(Number(value));
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
    has_cursor: cursor !== undefined,
    after_time_ns: sort === 'time' && cursor !== undefined ? cursor.value : '0',
    after_confidence: sort === 'confidence' && cursor !== undefined ? Number(cursor.value) : 0,
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

/**
 * A page of decisions matching a search (GDPR access, an investigation, an incident's scope), newest first by
 * default, with a keyset cursor to the next page: pages never repeat or skip a decision while the filters stay
 * the same, even as new decisions arrive.
 */
export async function findDecisions(ctx: QueryContext, search: DecisionSearch): Promise<DecisionPage> {
  const { params, sort, order } = searchParams(search);
  const rows =
    sort === 'time'
      ? await timeOrderedRows(ctx, params, order)
      : await pageRows(ctx, params, sort, order, null);
  const overridden =
    rows.length === 0
      ? new Set<string>()
      : new Set(
          (await ctx.rows<{ id: string }>(OVERRIDDEN_SQL, { ids: rows.map((r) => r.decisionId) })).map(
            (r) => r.id,
          ),
        );
  const decisions = rows.map((row) => ({
    ...row,
    integritySeq: Number(row.integritySeq),
    overridden: overridden.has(row.decisionId),
    integrity: row.integrity === '' ? null : (row.integrity as DecisionIntegrityStatus),
  }));
  const last = decisions.at(-1);
  const full = decisions.length === Number(params.limit);
  return {
    decisions,
    nextCursor:
      !full || last === undefined
        ? null
        : encodeCursor({
            sort,
            order,
            value: sort === 'time' ? last.timeUnixNano : String(last.confidence ?? -1),
            id: last.decisionId,
          }),
  };
}
