import {
  accuracy,
  confidenceDistribution,
  decisionFilterParams,
  oversightRates,
  periodBoundParams,
  DECISION_FILTER,
  type AccuracyStats,
  type DecisionFilter,
  type ExactDecisionFilter,
  type OversightRates,
} from './decision-queries.ts';
import { decisionSpanHashes } from './decision-span-hashes.ts';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';

/** Two windows of one model to compare. */
export interface DriftQuery {
  modelId: string;
  modelVersion?: string;
  service?: string;
  baseline: { from: Date; to: Date };
  current: { from: Date; to: Date };
  /** Confidence bins. @default 10 */
  buckets?: number;
  /** Decisions each window needs before a difference between them counts as a signal. @default 30 */
  minDecisions?: number;
}

/** Population stability of confidence and outcomes, with the distributions as evidence. */
export interface DriftSignal {
  signal: 'drift';
  /** PSI of the confidence histogram (`null` if either window has no confidence values). */
  psiConfidence: number | null;
  /** PSI of the outcome distribution (`null` if either window is empty). */
  psiOutcome: number | null;
  /**
   * Conventional PSI bands of the largest PSI among confidence, outcomes and the input features with enough data
   * (see `features`): < 0.1 none, < 0.25 moderate, otherwise significant — or, when a window holds fewer than
   * `minDecisions` decisions, `insufficient baseline` (the window before) or `insufficient data` (the window
   * compared), and no band is claimed.
   */
  level: 'none' | 'moderate' | 'significant' | 'insufficient baseline' | 'insufficient data';
  evidence: {
    baselineDecisions: number;
    currentDecisions: number;
    confidence: { lower: number; upper: number; baselineShare: number; currentShare: number }[];
    outcomes: { outcome: string; baselineShare: number; currentShare: number }[];
  };
  /**
   * Input drift of each numeric feature the model's decisions record (`audit.input.features`, allow-listed by the
   * team), in feature name order; empty when none records any. A feature that both windows recorded at least
   * `minDecisions` times counts in `level` like the confidence and outcome PSIs; one recorded less often only
   * carries its own `insufficient …` level.
   */
  features: FeatureDrift[];
}

/** Drift of one recorded input feature between the two windows. */
export interface FeatureDrift {
  feature: string;
  /** Decisions of each window that recorded the feature. */
  baselineDecisions: number;
  currentDecisions: number;
  /** PSI over the bins (`null` when either window has no value). */
  psi: number | null;
  /** Two-sample Kolmogorov–Smirnov statistic: the largest gap between the windows' distribution functions. */
  ks: number | null;
  /** As {@link DriftSignal.level}, from this feature's PSI and counts. */
  level: DriftSignal['level'];
  /**
   * `buckets` equal-width bins over the baseline's range (the first and last also take current values outside
   * it); when every baseline value is the same, three bins: below it, it, above it.
   */
  bins: { lower: number; upper: number; baselineShare: number; currentShare: number }[];
}

const INPUT_FEATURE_DRIFT_SQL = '{{include:input-feature-drift.sql}}';

/** The PSI band of a value, or the window short of data. */
function driftLevel(
  psi: number,
  baseline: number,
  current: number,
  minDecisions: number,
): DriftSignal['level'] {
  return baseline < minDecisions
    ? 'insufficient baseline'
    : current < minDecisions
      ? 'insufficient data'
      : psi >= 0.25
        ? 'significant'
        : psi >= 0.1
          ? 'moderate'
          : 'none';
}

/** Drift of every recorded input feature of a model between two windows (sql/input-feature-drift.sql). */
async function inputFeatureDrift(
  ctx: QueryContext,
  query: { modelId: string; modelVersion?: string | undefined; service?: string | undefined },
  baseline: { from: Date; to: Date },
  current: { from: Date; to: Date },
  buckets: number,
  minDecisions: number,
): Promise<FeatureDrift[]> {
  const b = periodBoundParams(baseline);
  const c = periodBoundParams(current);
  const rows = await ctx.rows<{
    name: string;
    baseline: string;
    current: string;
    ks: number | null;
    lo: number | null;
    hi: number | null;
    bins: [number, string, string][];
  }>(INPUT_FEATURE_DRIFT_SQL, {
    ...decisionFilterParams({ ...query, ...baseline }),
    b_from_ns: b.from_ns,
    b_to_ns: b.to_ns,
    c_from_ns: c.from_ns,
    c_to_ns: c.to_ns,
    buckets: String(buckets),
  });
  return rows.map((row) => {
    const baselineDecisions = Number(row.baseline);
    const currentDecisions = Number(row.current);
    const lo = row.lo;
    const hi = row.hi;
    const count = lo === null || hi === null ? 0 : lo === hi ? 3 : buckets;
    // Three bins around a constant baseline: below it, it, above it (±MAX_VALUE stands for unbounded in JSON).
    const constant = [
      { lower: -Number.MAX_VALUE, upper: lo ?? 0 },
      { lower: lo ?? 0, upper: lo ?? 0 },
      { lower: lo ?? 0, upper: Number.MAX_VALUE },
    ];
    const bounds = (i: number): { lower: number; upper: number } =>
      lo === hi
        ? constant[i]!
        : { lower: lo! + ((hi! - lo!) * i) / buckets, upper: lo! + ((hi! - lo!) * (i + 1)) / buckets };
    const inBaseline = Array.from({ length: count }, () => 0);
    const inCurrent = Array.from({ length: count }, () => 0);
    for (const [bin, nb, nc] of row.bins) {
      inBaseline[Number(bin)] = Number(nb);
      inCurrent[Number(bin)] = Number(nc);
    }
    const baselineShares = shares(inBaseline);
    const currentShares = shares(inCurrent);
    const psi =
      baselineDecisions > 0 && currentDecisions > 0
        ? populationStabilityIndex(baselineShares, currentShares)
        : null;
    return {
      feature: row.name,
      baselineDecisions,
      currentDecisions,
      psi,
      ks: baselineDecisions > 0 && currentDecisions > 0 ? row.ks : null,
      level: driftLevel(psi ?? 0, baselineDecisions, currentDecisions, minDecisions),
      bins: inBaseline.map((_, i) => ({
        ...bounds(i),
        baselineShare: baselineShares[i] ?? 0,
        currentShare: currentShares[i] ?? 0,
      })),
    };
  });
}

/** Shares below this are floored so empty bins do not make PSI infinite. */
const PSI_EPSILON = 1e-4;

/** Population stability index Σ (a − e)·ln(a / e) over matching bins of two share vectors. */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[]): number {
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] ?? 0, PSI_EPSILON);
    const a = Math.max(actual[i] ?? 0, PSI_EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total === 0 ? 0 : n / total));
}

async function outcomeCounts(ctx: QueryContext, filter: DecisionFilter): Promise<Map<string, number>> {
  const rows = await ctx.rows<{ outcome: string; n: string }>(
    `SELECT outcome, count() AS n FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER} GROUP BY outcome`,
    decisionFilterParams(filter),
  );
  return new Map(rows.map((row) => [row.outcome, Number(row.n)]));
}

/** Drift of a model's confidence and outcome distributions from a baseline window to a current one. */
export async function driftSignal(ctx: QueryContext, query: DriftQuery): Promise<DriftSignal> {
  const base = {
    modelId: requireString(query.modelId, 'modelId'),
    modelVersion: query.modelVersion,
    service: query.service,
  };
  const buckets = query.buckets ?? 10;
  const baselineFilter = { ...base, ...query.baseline };
  const currentFilter = { ...base, ...query.current };
  const baseline = await confidenceDistribution(ctx, { ...baselineFilter, buckets });
  const current = await confidenceDistribution(ctx, { ...currentFilter, buckets });
  const baselineOutcomes = await outcomeCounts(ctx, baselineFilter);
  const currentOutcomes = await outcomeCounts(ctx, currentFilter);

  const baselineConfidence = shares(baseline.buckets.map((b) => b.count));
  const currentConfidence = shares(current.buckets.map((b) => b.count));
  const hasConfidence = baseline.buckets.some((b) => b.count > 0) && current.buckets.some((b) => b.count > 0);
  const outcomeNames = [...new Set([...baselineOutcomes.keys(), ...currentOutcomes.keys()])].sort();
  const baselineOutcomeShares = shares(outcomeNames.map((o) => baselineOutcomes.get(o) ?? 0));
  const currentOutcomeShares = shares(outcomeNames.map((o) => currentOutcomes.get(o) ?? 0));
  const hasOutcomes = baseline.decisions > 0 && current.decisions > 0;

  const psiConfidence = hasConfidence
    ? populationStabilityIndex(baselineConfidence, currentConfidence)
    : null;
  const psiOutcome = hasOutcomes
    ? populationStabilityIndex(baselineOutcomeShares, currentOutcomeShares)
    : null;
  const minDecisions = minimumDecisions(query.minDecisions);
  const features = await inputFeatureDrift(ctx, base, query.baseline, query.current, buckets, minDecisions);
  const featurePsis = features.flatMap((f) =>
    f.psi !== null && f.baselineDecisions >= minDecisions && f.currentDecisions >= minDecisions
      ? [f.psi]
      : [],
  );
  const worst = Math.max(psiConfidence ?? 0, psiOutcome ?? 0, ...featurePsis);
  return {
    signal: 'drift',
    psiConfidence,
    psiOutcome,
    level: driftLevel(worst, baseline.decisions, current.decisions, minDecisions),
    features,
    evidence: {
      baselineDecisions: baseline.decisions,
      currentDecisions: current.decisions,
      confidence: baseline.buckets.map((b, i) => ({
        lower: b.lower,
        upper: b.upper,
        baselineShare: baselineConfidence[i] ?? 0,
        currentShare: currentConfidence[i] ?? 0,
      })),
      outcomes: outcomeNames.map((outcome, i) => ({
        outcome,
        baselineShare: baselineOutcomeShares[i] ?? 0,
        currentShare: currentOutcomeShares[i] ?? 0,
      })),
    },
  };
}

/** A deployment (by id) or a model and instant to look around. */
export interface DegradationQuery {
  deploymentId?: string;
  modelId?: string;
  at?: Date;
  /** Window length before and after. @default 7 days */
  windowMs?: number;
  /** Rate increase that counts as degradation. @default 0.05 */
  threshold?: number;
  /** Decisions (for the override rate) or labels (for the error rate) each window needs to compare it. @default 30 */
  minDecisions?: number;
}

/** Override and error rates before and after a deployment. */
export interface DegradationSignal {
  signal: 'degradation';
  /** A rate with enough data on both sides rose by more than the threshold. */
  degraded: boolean;
  /**
   * `degraded`, `not degraded`, or — when no rate has enough data on both sides to compare — `insufficient
   * baseline` (the window before the deployment is short of it) or `insufficient data` (the window after is).
   */
  verdict: 'degraded' | 'not degraded' | 'insufficient baseline' | 'insufficient data';
  /** The rates left out of the verdict, and why: each side's count against the minimum. */
  insufficient: { rate: 'override rate' | 'error rate'; before: number; after: number; minimum: number }[];
  modelId: string;
  deploymentId: string;
  at: string;
  /** after − before (`null` when a side has no data). */
  overrideRateDelta: number;
  errorRateDelta: number | null;
  evidence: {
    before: { from: string; to: string; oversight: OversightRates; accuracy: AccuracyStats };
    after: { from: string; to: string; oversight: OversightRates; accuracy: AccuracyStats };
  };
}

function minimumDecisions(value: number | undefined): number {
  const minimum = value ?? 30;
  if (!Number.isSafeInteger(minimum) || minimum < 1) {
    throw new StoreError('INVALID_ARGUMENT', 'minDecisions must be a positive integer');
  }
  return minimum;
}

/** Did override or error rates rise after a deployment? */
export async function degradationSignal(
  ctx: QueryContext,
  query: DegradationQuery,
): Promise<DegradationSignal> {
  const windowMs = query.windowMs ?? 7 * 86_400_000;
  const threshold = query.threshold ?? 0.05;
  if (!(windowMs > 0) || !(threshold >= 0))
    throw new StoreError('INVALID_ARGUMENT', 'windowMs and threshold must be positive');
  let modelId = query.modelId ?? '';
  let at = query.at;
  // The split to the nanosecond: a deployment's time is DateTime64(9), and a decision made earlier in its
  // millisecond was made before it.
  let atNano =
    at === undefined || !Number.isFinite(at.getTime()) ? undefined : BigInt(at.getTime()) * 1_000_000n;
  let deploymentId = '';
  if (query.deploymentId !== undefined) {
    const [deployment] = await ctx.rows<{ modelId: string; atNano: string; deploymentId: string }>(
      `SELECT model_id AS modelId, toString(toUnixTimestamp64Nano(time)) AS atNano, deployment_id AS deploymentId
       FROM {{read:audit_deployments}} FINAL WHERE deployment_id = {deployment_id:String}
       ORDER BY time LIMIT 1`,
      { deployment_id: requireString(query.deploymentId, 'deploymentId') },
    );
    if (deployment === undefined)
      throw new StoreError('NOT_FOUND', `no deployment ${JSON.stringify(query.deploymentId)}`);
    modelId = deployment.modelId;
    atNano = BigInt(deployment.atNano);
    // The millisecond it falls in (a Date holds no finer), for the windows' far ends and the signal's `at`.
    at = new Date(Number(atNano / 1_000_000n) - (atNano % 1_000_000n < 0n ? 1 : 0));
    deploymentId = deployment.deploymentId;
  }
  if (modelId === '' || at === undefined || atNano === undefined) {
    throw new StoreError('INVALID_ARGUMENT', 'give deploymentId, or modelId and at');
  }
  const before: ExactDecisionFilter = {
    modelId,
    from: new Date(at.getTime() - windowMs),
    to: at,
    toUnixNano: atNano,
  };
  const after: ExactDecisionFilter = {
    modelId,
    from: at,
    fromUnixNano: atNano,
    to: new Date(at.getTime() + windowMs),
  };
  const window = async (filter: typeof before) => ({
    from: filter.from.toISOString(),
    to: filter.to.toISOString(),
    oversight: await oversightRates(ctx, filter),
    accuracy: await accuracy(ctx, filter),
  });
  const b = await window(before);
  const a = await window(after);
  const overrideRateDelta = a.oversight.overrideRate - b.oversight.overrideRate;
  const errorRateDelta =
    a.accuracy.errorRate === null || b.accuracy.errorRate === null
      ? null
      : a.accuracy.errorRate - b.accuracy.errorRate;
  // A rate is compared only with enough behind it on both sides: 0 → 30 decisions is no baseline at all.
  const minimum = minimumDecisions(query.minDecisions);
  const rates = [
    {
      rate: 'override rate' as const,
      before: b.oversight.decisions,
      after: a.oversight.decisions,
      delta: overrideRateDelta,
    },
    {
      rate: 'error rate' as const,
      before: b.accuracy.labelled,
      after: a.accuracy.labelled,
      delta: errorRateDelta,
    },
  ];
  const comparable = rates.filter((r) => r.before >= minimum && r.after >= minimum && r.delta !== null);
  const degraded = comparable.some((r) => r.delta! > threshold);
  const insufficient = rates
    .filter((r) => !comparable.includes(r))
    .map(({ rate, before, after }) => ({ rate, before, after, minimum }));
  return {
    signal: 'degradation',
    degraded,
    verdict: degraded
      ? 'degraded'
      : comparable.length > 0
        ? 'not degraded'
        : rates.some((r) => r.before < minimum)
          ? 'insufficient baseline'
          : 'insufficient data',
    insufficient,
    modelId,
    deploymentId,
    at: at.toISOString(),
    overrideRateDelta,
    errorRateDelta,
    evidence: { before: b, after: a },
  };
}

/** Which decisions to search for adversarial patterns, and how sensitive to be. */
export interface AdversarialQuery extends DecisionFilter {
  /** Decision threshold of the model. @default 0.5 */
  threshold?: number;
  /** |confidence − threshold| at most this counts as near the threshold. @default 0.02 */
  band?: number;
  /** Burst window. @default 60 seconds */
  burstWindowSeconds?: number;
  /** Near-threshold decisions of one actor in one window that make a burst. @default 10 */
  minBurst?: number;
  /** Decisions of one actor on the same input hash that count as probing. @default 5 */
  minRepeats?: number;
}

/** Adversarial patterns, each with the decisions that show it. */
export interface AdversarialSignals {
  signal: 'adversarial';
  nearThresholdBursts: {
    actorId: string;
    windowStart: string;
    decisions: number;
    meanDistance: number;
    /** Up to 20 example decisions. */
    decisionIds: string[];
  }[];
  repeatedInputs: {
    actorId: string;
    inputHash: string;
    decisions: number;
    distinctOutcomes: number;
    firstUnixNano: string;
    lastUnixNano: string;
    decisionIds: string[];
  }[];
}

/** Order of two strings as the engine sorts them (by bytes; the same for the ASCII of ids and hex hashes). */
const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Bursts of near-threshold confidence and actors repeating the same input. */
export async function adversarialSignals(
  ctx: QueryContext,
  query: AdversarialQuery,
): Promise<AdversarialSignals> {
  const threshold = query.threshold ?? 0.5;
  const band = query.band ?? 0.02;
  const windowSeconds = query.burstWindowSeconds ?? 60;
  const minBurst = query.minBurst ?? 10;
  const minRepeats = query.minRepeats ?? 5;
  for (const [name, value] of Object.entries({ windowSeconds, minBurst, minRepeats })) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new StoreError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  }
  if (!Number.isFinite(threshold) || !Number.isFinite(band) || band < 0) {
    throw new StoreError('INVALID_ARGUMENT', 'threshold and band must be finite numbers');
  }
  const params = {
    ...decisionFilterParams(query),
    threshold: String(threshold),
    band: String(band),
    window_s: String(windowSeconds),
    min_burst: String(minBurst),
    min_repeats: String(minRepeats),
  };
  const bursts = await ctx.rows<{
    actorId: string;
    windowStartMs: string;
    decisions: string;
    meanDistance: number;
    decisionIds: string[];
  }>(
    `SELECT actor_id AS actorId,
       toString(toUInt64(toUnixTimestamp(toStartOfInterval(time, toIntervalSecond({window_s:UInt32})))) * 1000) AS windowStartMs,
       count() AS decisions, avg(abs(assumeNotNull(confidence) - {threshold:Float64})) AS meanDistance,
       arraySort(groupArray(20)(decision_id)) AS decisionIds
     FROM {{read:audit_decisions}} FINAL
     WHERE ${DECISION_FILTER} AND confidence IS NOT NULL
       AND abs(assumeNotNull(confidence) - {threshold:Float64}) <= {band:Float64}
     GROUP BY actorId, windowStartMs
     HAVING count() >= {min_burst:UInt32}
     ORDER BY decisions DESC, actorId, windowStartMs LIMIT 100`,
    params,
  );
  // The same input is the same input hash; audit_decisions keeps its 64-bit fingerprint (migration 24), so the
  // decisions are grouped by that, and each shown group's hash is read from the decision span of its first decision.
  const repeats = await ctx.rows<{
    actorId: string;
    decisions: string;
    distinctOutcomes: string;
    firstUnixNano: string;
    lastUnixNano: string;
    firstDecisionId: string;
    decisionIds: string[];
  }>(
    `SELECT actor_id AS actorId, count() AS decisions, uniqExact(outcome) AS distinctOutcomes,
       toString(toUnixTimestamp64Nano(min(time))) AS firstUnixNano, toString(toUnixTimestamp64Nano(max(time))) AS lastUnixNano,
       argMin(decision_id, (time, decision_id)) AS firstDecisionId,
       arraySort(groupArray(20)(decision_id)) AS decisionIds
     FROM {{read:audit_decisions}} FINAL
     WHERE ${DECISION_FILTER} AND has_input_hash AND actor_id != ''
     GROUP BY actor_id, input_fingerprint
     HAVING count() >= {min_repeats:UInt32}
     ORDER BY decisions DESC, actorId, input_fingerprint LIMIT 100`,
    params,
  );
  const hashes = await decisionSpanHashes(
    ctx,
    repeats.map((row) => row.firstDecisionId),
  );
  return {
    signal: 'adversarial',
    nearThresholdBursts: bursts.map((row) => ({
      actorId: row.actorId,
      windowStart: new Date(Number(row.windowStartMs)).toISOString(),
      decisions: Number(row.decisions),
      meanDistance: row.meanDistance,
      decisionIds: row.decisionIds,
    })),
    repeatedInputs: repeats
      .map(({ firstDecisionId, ...row }) => ({
        actorId: row.actorId,
        inputHash: hashes.get(firstDecisionId)?.inputHash ?? '',
        decisions: Number(row.decisions),
        distinctOutcomes: Number(row.distinctOutcomes),
        firstUnixNano: row.firstUnixNano,
        lastUnixNano: row.lastUnixNano,
        decisionIds: row.decisionIds,
      }))
      .sort(
        (a, b) =>
          b.decisions - a.decisions || byBytes(a.actorId, b.actorId) || byBytes(a.inputHash, b.inputHash),
      ),
  };
}
