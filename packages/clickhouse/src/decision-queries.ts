import { decisionSpanHashes } from './decision-span-hashes.ts';
import { StoreError } from './errors.ts';
import {
  END_OF_TIME,
  periodParams,
  requireString,
  type QueryContext,
  type QueryParams,
} from './query-context.ts';

/** A typed `audit_decisions` row. */
export interface DecisionRow {
  decisionId: string;
  /** Span start, decimal nanoseconds since the epoch. */
  timeUnixNano: string;
  traceId: string;
  spanId: string;
  service: string;
  modelId: string;
  modelVersion: string;
  modelType: string;
  provider: string;
  operation: string;
  decisionType: string;
  outcome: string;
  confidence: number | null;
  inputHash: string;
  outputHash: string;
  subjectId: string;
  actorId: string;
  sessionId: string;
  fairnessGroup: string;
  riskLevel: string;
  purpose: string;
  automation: string;
  statusCode: string;
  errorType: string;
  retentionClass: string;
  integrityStream: string;
  integritySeq: number;
}

/**
 * Which decisions a statistic covers: a time range `[from, to)` and optionally a model, a version and a
 * service. A filter left out matches everything; one that is given matches exactly — `modelVersion: ''`
 * selects the decisions that name no version.
 */
export interface DecisionFilter {
  from: Date;
  to: Date;
  modelId?: string;
  modelVersion?: string;
  service?: string;
}

/**
 * A {@link DecisionFilter} whose bounds may be exact to the nanosecond (decimal nanoseconds since the epoch): a
 * split at a recorded instant — a deployment's DateTime64(9) time — must not be rounded to its millisecond, or a
 * decision made earlier in that millisecond counts as after it. A bound given here replaces `from` / `to`. Not
 * served (JSON dates carry milliseconds); the store's own signals use it.
 */
export interface ExactDecisionFilter extends DecisionFilter {
  fromUnixNano?: bigint;
  toUnixNano?: bigint;
}

/** The columns of {@link DecisionRow} before and after the two content hashes. */
const DECISION_COLUMNS_HEAD = `
  decision_id AS decisionId, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, trace_id AS traceId,
  span_id AS spanId, service, model_id AS modelId, model_version AS modelVersion, model_type AS modelType,
  provider, operation, decision_type AS decisionType, outcome, confidence`;
const DECISION_COLUMNS_TAIL = `
  subject_id AS subjectId, actor_id AS actorId, session_id AS sessionId,
  fairness_group AS fairnessGroup, risk_level AS riskLevel, purpose, automation, status_code AS statusCode,
  error_type AS errorType, retention_class AS retentionClass, integrity_stream AS integrityStream,
  toUInt32(integrity_seq) AS integritySeq`;

/**
 * SELECT list of {@link DecisionRow} over `audit_decisions`, the two hashes empty: audit_decisions does not hold them
 * (migration 24), {@link withSpanHashes} fills them in from the decision spans.
 */
const DECISION_COLUMNS = `${DECISION_COLUMNS_HEAD}, '' AS inputHash, '' AS outputHash, ${DECISION_COLUMNS_TAIL}`;

/** Decision ids per statement of {@link withSpanHashes}. */
const HASH_IDS_PER_STATEMENT = 10_000;

/** These rows with their input and output hashes, read from their decision spans (sql/decision-span-hashes.sql). */
async function withSpanHashes(ctx: QueryContext, rows: DecisionRow[]): Promise<DecisionRow[]> {
  for (let i = 0; i < rows.length; i += HASH_IDS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + HASH_IDS_PER_STATEMENT);
    const hashes = await decisionSpanHashes(
      ctx,
      chunk.map((row) => row.decisionId),
    );
    for (const row of chunk) {
      const found = hashes.get(row.decisionId);
      if (found === undefined) continue;
      row.inputHash = found.inputHash;
      row.outputHash = found.outputHash;
    }
  }
  return rows;
}

/**
 * SELECT list of a {@link DecisionRow} without `inputHash` and `outputHash` (a listing's row): the two 64-digit
 * hashes are a third of a row's bytes, which a read of scattered rows decompresses granule by granule.
 */
export const DECISION_LISTING_COLUMNS = `${DECISION_COLUMNS_HEAD}, ${DECISION_COLUMNS_TAIL}`;

/** WHERE clause of a {@link DecisionFilter} over `audit_decisions` (all values bound): sql/decision-filter.sql. */
export const DECISION_FILTER = '{{include:decision-filter.sql}}';

const NS_PER_MS = 1_000_000n;
/** DateTime64(9) holds Int64 nanoseconds: bounds outside are clamped to the range (nothing is stored beyond it). */
const MIN_NANO = -(2n ** 63n);
const MAX_NANO = 2n ** 63n - 1n;

function nanoParam(exact: bigint | undefined, date: Date): string {
  const ns = exact ?? BigInt(date.getTime()) * NS_PER_MS;
  return String(ns < MIN_NANO ? MIN_NANO : ns > MAX_NANO ? MAX_NANO : ns);
}

/**
 * The period's bounds of sql/decision-filter.sql alone (milliseconds and nanoseconds), for a statement that
 * narrows a filter's period to a part of it (the period report's edges and hours).
 */
export function periodBoundParams(filter: {
  from: Date;
  to: Date;
  fromUnixNano?: bigint;
  toUnixNano?: bigint;
}): { from_ms: string; to_ms: string; from_ns: string; to_ns: string } {
  const period = periodParams(filter);
  const fromNano = nanoParam(filter.fromUnixNano, filter.from);
  const toNano = nanoParam(filter.toUnixNano, filter.to);
  if (BigInt(toNano) < BigInt(fromNano))
    throw new StoreError('INVALID_ARGUMENT', 'to must not be before from');
  return { ...period, from_ns: fromNano, to_ns: toNano };
}

/** Bound parameters of a {@link DecisionFilter} (for sql/decision-filter.sql and sql/model-filter.sql). */
export function decisionFilterParams(filter: ExactDecisionFilter): QueryParams {
  const given = (value: unknown, name: string): [boolean, string] =>
    value === undefined ? [false, ''] : [true, requireString(value, name)];
  const [byModel, modelId] = given(filter.modelId, 'modelId');
  const [byVersion, modelVersion] = given(filter.modelVersion, 'modelVersion');
  const [byService, service] = given(filter.service, 'service');
  return {
    ...periodBoundParams(filter),
    by_model: byModel,
    model_id: modelId,
    by_version: byVersion,
    model_version: modelVersion,
    by_service: byService,
    service,
  };
}

function limitParam(limit: number | undefined): string {
  const value = limit ?? 1000;
  if (!Number.isSafeInteger(value) || value < 1 || value > 1_000_000) {
    throw new StoreError('INVALID_ARGUMENT', 'limit must be an integer in 1..1000000');
  }
  return String(value);
}

/** Every decision about one data subject (GDPR Art. 15 access request), oldest first. */
export async function subjectDecisions(
  ctx: QueryContext,
  query: { subjectId: string; from?: Date; to?: Date; limit?: number },
): Promise<DecisionRow[]> {
  const subjectId = requireString(query.subjectId, 'subjectId');
  if (subjectId === '') throw new StoreError('INVALID_ARGUMENT', 'subjectId must not be empty');
  const rows = await ctx.rows<DecisionRow>(
    `SELECT ${DECISION_COLUMNS} FROM {{read:audit_decisions}} FINAL
     WHERE subject_id = {subject_id:String}
       AND time >= fromUnixTimestamp64Milli({from_ms:Int64}) AND time < fromUnixTimestamp64Milli({to_ms:Int64})
     ORDER BY time, decision_id LIMIT {limit:UInt32}`,
    {
      subject_id: subjectId,
      ...periodParams({ from: query.from ?? new Date(0), to: query.to ?? END_OF_TIME }),
      limit: limitParam(query.limit),
    },
  );
  return withSpanHashes(ctx, rows);
}

/** Decisions of a model (and version) in a period, oldest first. */
export async function decisionsByModel(
  ctx: QueryContext,
  query: DecisionFilter & { limit?: number },
): Promise<DecisionRow[]> {
  const rows = await ctx.rows<DecisionRow>(
    `SELECT ${DECISION_COLUMNS} FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}
     ORDER BY time, decision_id LIMIT {limit:UInt32}`,
    { ...decisionFilterParams(query), limit: limitParam(query.limit) },
  );
  return withSpanHashes(ctx, rows);
}

/** Human-oversight coverage of the decisions a filter selects. */
export interface OversightRates {
  decisions: number;
  /** Decisions with at least one oversight record of any action. */
  reviewed: number;
  /** Decisions with at least one `override`. */
  overridden: number;
  reviewRate: number;
  overrideRate: number;
  /** Oversight records per action (review, approve, override, reject, escalate). */
  byAction: Record<string, number>;
}

/** Share of decisions reviewed and overridden by people. */
export async function oversightRates(
  ctx: QueryContext,
  filter: ExactDecisionFilter,
  known?: { decisions: number },
): Promise<OversightRates> {
  const [row] = await ctx.rows<{
    decisions?: string;
    reviewed: string;
    overridden: string;
    byAction: Record<string, string>;
  }>(
    `SELECT
       ${known === undefined ? `(SELECT count() FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}) AS decisions,` : ''}
       uniqExact(decision_id) AS reviewed,
       uniqExactIf(decision_id, action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}) AS overridden,
       sumMap(map(action, toUInt64(1))) AS byAction
     FROM {{read:audit_oversight}} FINAL
     WHERE decision_id IN (SELECT decision_id FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER})`,
    decisionFilterParams(filter),
  );
  const decisions = known?.decisions ?? Number(row?.decisions ?? 0);
  const reviewed = Number(row?.reviewed ?? 0);
  const overridden = Number(row?.overridden ?? 0);
  return {
    decisions,
    reviewed,
    overridden,
    reviewRate: decisions === 0 ? 0 : reviewed / decisions,
    overrideRate: decisions === 0 ? 0 : overridden / decisions,
    byAction: Object.fromEntries(
      Object.entries(row?.byAction ?? {}).map(([action, n]) => [action, Number(n)]),
    ),
  };
}

/** Accuracy from ground-truth feedback (the latest feedback per decision counts). */
export interface AccuracyStats {
  decisions: number;
  /** Decisions with feedback that says correct or incorrect. */
  labelled: number;
  correct: number;
  incorrect: number;
  /** correct / labelled, `null` without labels. */
  accuracy: number | null;
  /** incorrect / labelled, `null` without labels. */
  errorRate: number | null;
  /** Decisions whose span ended with status error (`STATUS_CODE_ERROR`, or `Error` as newer exporters write it). */
  failed: number;
}

/** Accuracy and error rate of the decisions a filter selects. */
export async function accuracy(
  ctx: QueryContext,
  filter: ExactDecisionFilter,
  known?: { decisions: number; failed: number },
): Promise<AccuracyStats> {
  // The period report already knows the totals: then only the feedback join runs.
  const totals =
    known === undefined
      ? `(SELECT count() FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}) AS decisions,
         (SELECT countIf(status_code IN ('STATUS_CODE_ERROR', 'Error')) FROM {{read:audit_decisions}} FINAL
          WHERE ${DECISION_FILTER}) AS failed,`
      : '';
  const [row] = await ctx.rows<{ decisions?: string; failed?: string; labelled: string; correct: string }>(
    `WITH f AS (
       SELECT decision_id, argMax(correct, time) AS is_correct
       FROM {{read:audit_feedback}} FINAL
       WHERE decision_id IN (SELECT decision_id FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER})
         AND correct IS NOT NULL
       GROUP BY decision_id)
     SELECT ${totals} count() AS labelled, countIf(is_correct) AS correct
     FROM f`,
    decisionFilterParams(filter),
  );
  const labelled = Number(row?.labelled ?? 0);
  const correct = Number(row?.correct ?? 0);
  return {
    decisions: known?.decisions ?? Number(row?.decisions ?? 0),
    labelled,
    correct,
    incorrect: labelled - correct,
    accuracy: labelled === 0 ? null : correct / labelled,
    errorRate: labelled === 0 ? null : (labelled - correct) / labelled,
    failed: known?.failed ?? Number(row?.failed ?? 0),
  };
}

/** Histogram and summary of decision confidence. */
export interface ConfidenceDistribution {
  decisions: number;
  /** Decisions without a confidence value. */
  missing: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  /** `buckets` equal-width bins over [0, 1]; values outside are clamped into the edge bins. */
  buckets: { lower: number; upper: number; count: number }[];
}

/** Confidence distribution of the decisions a filter selects. */
export async function confidenceDistribution(
  ctx: QueryContext,
  filter: DecisionFilter & { buckets?: number },
): Promise<ConfidenceDistribution> {
  const buckets = filter.buckets ?? 10;
  if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > 1000) {
    throw new StoreError('INVALID_ARGUMENT', 'buckets must be an integer in 1..1000');
  }
  const params = { ...decisionFilterParams(filter), buckets: String(buckets) };
  const [summary] = await ctx.rows<{
    n: string;
    missing: string;
    mean: number | null;
    p50: number | null;
    p90: number | null;
  }>(
    `SELECT count() AS n, countIf(confidence IS NULL) AS missing,
       if(count(confidence) = 0, NULL, avg(confidence)) AS mean,
       if(count(confidence) = 0, NULL, quantileExact(0.5)(confidence)) AS p50,
       if(count(confidence) = 0, NULL, quantileExact(0.9)(confidence)) AS p90
     FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}`,
    params,
  );
  const counts = await ctx.rows<{ bucket: number; n: string }>(
    `SELECT toUInt32(least(greatest(toInt64(floor(assumeNotNull(confidence) * {buckets:UInt32})), 0), toInt64({buckets:UInt32}) - 1)) AS bucket,
       count() AS n
     FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER} AND confidence IS NOT NULL
     GROUP BY bucket ORDER BY bucket`,
    params,
  );
  const byBucket = new Map(counts.map((row) => [Number(row.bucket), Number(row.n)]));
  return {
    decisions: Number(summary?.n ?? 0),
    missing: Number(summary?.missing ?? 0),
    mean: summary?.mean ?? null,
    p50: summary?.p50 ?? null,
    p90: summary?.p90 ?? null,
    buckets: Array.from({ length: buckets }, (_, i) => ({
      lower: i / buckets,
      upper: (i + 1) / buckets,
      count: byBucket.get(i) ?? 0,
    })),
  };
}

/** Outcome rates per fairness group and their disparity. */
export interface FairnessDisparity {
  groups: { group: string; decisions: number; outcomes: Record<string, number> }[];
  /** Per outcome: rate in each group, and the spread between the lowest and highest rate. */
  outcomes: {
    outcome: string;
    rates: Record<string, number>;
    minRate: number;
    maxRate: number;
    /** maxRate − minRate (statistical parity difference). */
    difference: number;
    /** minRate / maxRate (disparate impact ratio; below 0.8 fails the four-fifths rule). `null` if maxRate is 0. */
    ratio: number | null;
  }[];
}

/** Outcome-rate disparity across `audit.fairness.group` values (decisions without a group are left out). */
export async function fairnessDisparity(
  ctx: QueryContext,
  filter: DecisionFilter,
): Promise<FairnessDisparity> {
  const rows = await ctx.rows<{ fairness_group: string; outcome: string; n: string }>(
    `SELECT fairness_group, outcome, count() AS n FROM {{read:audit_decisions}} FINAL
     WHERE ${DECISION_FILTER} AND fairness_group != ''
     GROUP BY fairness_group, outcome ORDER BY fairness_group, outcome`,
    decisionFilterParams(filter),
  );
  return fairnessFromCounts(rows);
}

/** Fairness disparity from decision counts per (fairness group, outcome); groups named '' are left out. */
export function fairnessFromCounts(
  rows: readonly { fairness_group: string; outcome: string; n: string | number }[],
): FairnessDisparity {
  const groups = new Map<string, Record<string, number>>();
  const outcomeNames = new Set<string>();
  for (const row of rows) {
    if (row.fairness_group === '') continue;
    const outcomes = groups.get(row.fairness_group) ?? {};
    outcomes[row.outcome] = (outcomes[row.outcome] ?? 0) + Number(row.n);
    groups.set(row.fairness_group, outcomes);
    outcomeNames.add(row.outcome);
  }
  const groupList = [...groups].map(([group, outcomes]) => ({
    group,
    decisions: Object.values(outcomes).reduce((a, b) => a + b, 0),
    outcomes,
  }));
  return {
    groups: groupList,
    outcomes: [...outcomeNames].sort().map((outcome) => {
      const rates = Object.fromEntries(
        groupList.map((g) => [g.group, (g.outcomes[outcome] ?? 0) / g.decisions]),
      );
      const values = Object.values(rates);
      const minRate = Math.min(...values);
      const maxRate = Math.max(...values);
      return {
        outcome,
        rates,
        minRate,
        maxRate,
        difference: maxRate - minRate,
        ratio: maxRate === 0 ? null : minRate / maxRate,
      };
    }),
  };
}
