import {
  accuracy,
  decisionFilterParams,
  periodBoundParams,
  fairnessFromCounts,
  oversightRates,
  type AccuracyStats,
  type ConfidenceDistribution,
  type DecisionFilter,
  type FairnessDisparity,
  type OversightRates,
} from './decision-queries.ts';
import { recordKeeping, type RecordKeeping } from './decision-coverage.ts';
import { listIncidents, type Incident } from './incidents.ts';
import type { QueryContext } from './query-context.ts';
import { recordLosses, type RecordLoss } from './record-losses.ts';
import { toolActionCounts, type ToolActionCount } from './tool-actions.ts';
import { readSqlFile } from './sql-template.ts';
import type { ResolvedRetention } from './store-options.ts';

/** A model version seen in the period. */
export interface ModelSummary {
  modelId: string;
  modelVersion: string;
  modelType: string;
  provider: string;
  decisions: number;
  firstDecisionUnixNano: string;
  lastDecisionUnixNano: string;
}

/** A deployment in or before the period. */
export interface DeploymentSummary {
  deploymentId: string;
  modelId: string;
  modelVersion: string;
  previousVersion: string;
  environment: string;
  weightsHash: string;
  timeUnixNano: string;
}

/**
 * The EU AI Act period report (Art. 12/19 logs, Art. 72 post-market monitoring, Art. 73
 * incidents): everything a provider or deployer is asked for about one model over one period.
 */
export interface PeriodReport {
  period: { from: string; to: string };
  filter: { modelId: string; modelVersion: string; service: string };
  generatedAt: string;
  models: ModelSummary[];
  /** Deployments of the reported models up to the end of the period. */
  deployments: DeploymentSummary[];
  totals: {
    decisions: number;
    byOutcome: Record<string, number>;
    byRiskLevel: Record<string, number>;
    byDecisionType: Record<string, number>;
    byAutomation: Record<string, number>;
  };
  accuracy: AccuracyStats;
  confidence: ConfidenceDistribution;
  fairness: FairnessDisparity;
  oversight: OversightRates;
  incidents: {
    total: number;
    open: number;
    /** Not reported and past their Art. 73 deadline at report time. */
    overdue: number;
    bySeverity: Record<string, number>;
    byCategory: Record<string, number>;
    items: Incident[];
  };
  retention: {
    /** Days per retention class (`null`: kept forever). */
    policyDays: ResolvedRetention;
    decisionsByClass: Record<string, number>;
  };
  /**
   * Decision coverage (stored against counted at the producers) and record completeness per model
   * version (EU AI Act Art. 12; targets 100 % and > 99 %).
   */
  recordKeeping: RecordKeeping;
  dataGovernance: {
    /** Decisions whose input is committed by HMAC hash. */
    withInputHash: number;
    withOutputHash: number;
    /** Decisions that name a (pseudonymous) data subject. */
    withSubject: number;
    /** Decisions inside a signed integrity stream. */
    withIntegrity: number;
    /** Integrity streams of the period with their latest signed checkpoint size. */
    streams: { stream: string; decisions: number; latestCheckpointSize: number }[];
    /** Erasure tombstones recorded in the period. */
    erasures: number;
    /** Spans refused into quarantine in the period. */
    quarantined: number;
  };
  /**
   * What producers could not keep, per stream and reason, from the signed loss records whose first drop lies in
   * the period (all models: a loss record cannot say whose the lost records were).
   */
  losses: RecordLoss[];
  /**
   * Agent actions per tool (EU AI Act Art. 12(2), Art. 26(5)): tool runs stored as `audit.action` spans and the
   * tool calls the period's decisions requested, as stored (see {@link toolActionCounts}).
   */
  actions: ToolActionCount[];
}

interface ReportCell {
  model_id: string;
  model_version: string;
  model_type: string;
  provider: string;
  outcome: string;
  risk_level: string;
  decision_type: string;
  automation: string;
  retention_class: string;
  fairness_group: string;
  integrity_stream: string;
  bucket: number;
  n: string;
  failed: string;
  with_input_hash: string;
  with_output_hash: string;
  with_subject: string;
  confidence_sum: number;
  first_ns: string;
  last_ns: string;
}

/** Number of confidence bins in the report (as in sql/report-cells.sql and the hourly rollup). */
const REPORT_BUCKETS = 10;

// The report's statements live in sql/report-*.sql; each reads its filter from sql/decision-filter.sql,
// sql/model-filter.sql or sql/report-rollup-hours.sql, so every filter is written once.
const REPORT_CELLS_SQL = readSqlFile('report-cells.sql');
const EXACT_QUANTILES_SQL = readSqlFile('report-exact-quantiles.sql');
const DUPLICATED_HOURS_SQL = readSqlFile('report-duplicated-hours.sql');
const ROLLUP_CELLS_SQL = readSqlFile('report-rollup-cells.sql');
const ROLLUP_QUANTILES_SQL = readSqlFile('report-rollup-quantiles.sql');
const OVERSIGHT_ROLLUP_SQL = readSqlFile('report-oversight-rollup.sql');
const OVERSIGHT_ROLLUP_ACTIONS_SQL = readSqlFile('report-oversight-rollup-actions.sql');
const OVERSIGHT_UNROLLED_SQL = readSqlFile('report-oversight-unrolled.sql');
const FEEDBACK_ROLLUP_SQL = readSqlFile('report-feedback-rollup.sql');
const FEEDBACK_CONFLICTS_SQL = readSqlFile('report-feedback-conflicts.sql');
const FEEDBACK_UNROLLED_SQL = readSqlFile('report-feedback-unrolled.sql');
const DEPLOYMENTS_SQL = readSqlFile('report-deployments.sql');
const SIDE_TABLES_SQL = readSqlFile('report-side-tables.sql');

/** sql/report-cells.sql over every hour of its range (not only the rollup's duplicated ones). */
const ALL_HOURS = { only_dup_hours: false, dup_hours: [] as number[] };

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The first characters of every UUIDv7 string of this millisecond and later ones, up to the next. */
function uuidv7Prefix(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

/** Splits [from, to) into whole hours (read from the rollup) and the partial hours at its edges. */
function splitByHours(filter: DecisionFilter): { hours: [number, number] | null; edges: [number, number][] } {
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  const hourFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const hourTo = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (hourFrom >= hourTo) return { hours: null, edges: [[from, to]] };
  const edges: [number, number][] = [];
  if (from < hourFrom) edges.push([from, hourFrom]);
  if (hourTo < to) edges.push([hourTo, to]);
  return { hours: [hourFrom, hourTo], edges };
}

function sumBy(
  cells: readonly ReportCell[],
  key: (cell: ReportCell) => string,
  value: (cell: ReportCell) => number = (c) => Number(c.n),
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const cell of cells) sums.set(key(cell), (sums.get(key(cell)) ?? 0) + value(cell));
  return sums;
}

function sorted(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function countBy(items: Incident[], key: 'severity' | 'category'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item[key]] = (counts[item[key]] ?? 0) + 1;
  return counts;
}

const minNs = (a: string, b: string): string => (BigInt(a) < BigInt(b) ? a : b);
const maxNs = (a: string, b: string): string => (BigInt(a) > BigInt(b) ? a : b);

function modelSummaries(cells: readonly ReportCell[]): ModelSummary[] {
  const models = new Map<string, ModelSummary>();
  for (const cell of cells) {
    const key = JSON.stringify([cell.model_id, cell.model_version]);
    const current = models.get(key);
    models.set(
      key,
      current === undefined
        ? {
            modelId: cell.model_id,
            modelVersion: cell.model_version,
            modelType: cell.model_type,
            provider: cell.provider,
            decisions: Number(cell.n),
            firstDecisionUnixNano: cell.first_ns,
            lastDecisionUnixNano: cell.last_ns,
          }
        : {
            ...current,
            decisions: current.decisions + Number(cell.n),
            firstDecisionUnixNano: minNs(current.firstDecisionUnixNano, cell.first_ns),
            lastDecisionUnixNano: maxNs(current.lastDecisionUnixNano, cell.last_ns),
          },
    );
  }
  return [...models.values()].sort((a, b) =>
    a.modelId === b.modelId ? (a.modelVersion < b.modelVersion ? -1 : 1) : a.modelId < b.modelId ? -1 : 1,
  );
}

function confidenceSummary(
  cells: readonly ReportCell[],
  quantiles: { p50: number | null; p90: number | null },
): ConfidenceDistribution {
  const decisions = cells.reduce((a, c) => a + Number(c.n), 0);
  const withValue = cells.filter((c) => c.bucket >= 0);
  const valued = withValue.reduce((a, c) => a + Number(c.n), 0);
  const byBucket = sumBy(withValue, (c) => String(c.bucket));
  return {
    decisions,
    missing: decisions - valued,
    mean: valued === 0 ? null : withValue.reduce((a, c) => a + c.confidence_sum, 0) / valued,
    p50: valued === 0 ? null : quantiles.p50,
    p90: valued === 0 ? null : quantiles.p90,
    buckets: Array.from({ length: REPORT_BUCKETS }, (_, i) => ({
      lower: i / REPORT_BUCKETS,
      upper: (i + 1) / REPORT_BUCKETS,
      count: byBucket.get(String(i)) ?? 0,
    })),
  };
}

/** Decision cells and confidence quantiles of the period: exact (FINAL scan) or from the rollup. */
async function decisionCells(
  ctx: QueryContext,
  filter: DecisionFilter,
  exact: boolean,
): Promise<{ cells: ReportCell[]; quantiles: { p50: number | null; p90: number | null } }> {
  const params = decisionFilterParams(filter);
  if (exact) {
    const cells = await ctx.rows<ReportCell>(REPORT_CELLS_SQL, { ...params, ...ALL_HOURS });
    const [quantiles] = await ctx.rows<{ p50: number | null; p90: number | null }>(
      EXACT_QUANTILES_SQL,
      params,
    );
    return { cells, quantiles: { p50: quantiles?.p50 ?? null, p90: quantiles?.p90 ?? null } };
  }
  const { hours, edges } = splitByHours(filter);
  const cells: ReportCell[] = [];
  for (const [from, to] of edges) {
    cells.push(
      ...(await ctx.rows<ReportCell>(REPORT_CELLS_SQL, {
        ...params,
        ...ALL_HOURS,
        ...periodBoundParams({ from: new Date(from), to: new Date(to) }),
      })),
    );
  }
  const [hourFrom, hourTo] = hours ?? [0, 0];
  const hourParams = { ...params, h_from_s: String(hourFrom / 1000), h_to_s: String(hourTo / 1000) };
  let duplicated: number[] = [];
  if (hours !== null) {
    const [found] = await ctx.rows<{ hours: number[] }>(DUPLICATED_HOURS_SQL, {
      ...hourParams,
      ...periodBoundParams({ from: new Date(hourFrom), to: new Date(hourTo) }),
    });
    duplicated = (found?.hours ?? []).map(Number);
  }
  const dupParams = {
    ...hourParams,
    dup_hours: duplicated,
    dup_from_ms: String(duplicated.length === 0 ? 0 : (duplicated[0] as number) * 1000),
    dup_to_ms: String(duplicated.length === 0 ? 0 : (duplicated.at(-1) as number) * 1000 + HOUR_MS),
  };
  if (hours !== null) cells.push(...(await ctx.rows<ReportCell>(ROLLUP_CELLS_SQL, dupParams)));
  if (duplicated.length > 0) {
    cells.push(
      ...(await ctx.rows<ReportCell>(REPORT_CELLS_SQL, {
        ...dupParams,
        only_dup_hours: true,
        ...periodBoundParams({
          from: new Date(Number(dupParams.dup_from_ms)),
          to: new Date(Number(dupParams.dup_to_ms)),
        }),
      })),
    );
  }
  const [edge1, edge2] = [edges[0] ?? [0, 0], edges[1] ?? [0, 0]];
  const dayFrom = Math.ceil(hourFrom / DAY_MS) * DAY_MS;
  const dayTo = Math.floor(hourTo / DAY_MS) * DAY_MS;
  const [daysStart, daysEnd] = dayFrom < dayTo ? [dayFrom, dayTo] : [0, 0];
  const [row] = await ctx.rows<{ qs: number[] }>(ROLLUP_QUANTILES_SQL, {
    ...dupParams,
    dup_days: [...new Set(duplicated.map((h) => Math.floor(h / 86_400) * 86_400))],
    d_from_s: String(daysStart / 1000),
    d_to_s: String(daysEnd / 1000),
    e1_from_ms: String(edge1[0]),
    e1_to_ms: String(edge1[1]),
    e2_from_ms: String(edge2[0]),
    e2_to_ms: String(edge2[1]),
  });
  const qs = row?.qs ?? [];
  return { cells, quantiles: { p50: qs[0] ?? null, p90: qs[1] ?? null } };
}

/** Oversight and feedback counts of one part of the period, added up into the report. */
interface FollowUpCounts {
  reviewed: number;
  overridden: number;
  byAction: Map<string, number>;
  labelled: number;
  correct: number;
}

function addActions(into: Map<string, number>, actions: Record<string, string | number>): void {
  for (const [action, n] of Object.entries(actions)) into.set(action, (into.get(action) ?? 0) + Number(n));
}

/** Oversight and feedback of the decisions of whole hours [hourFrom, hourTo): rollups plus the rows they lack. */
async function rolledUpFollowUps(
  ctx: QueryContext,
  filter: DecisionFilter,
  [hourFrom, hourTo]: [number, number],
): Promise<FollowUpCounts> {
  const params = {
    ...decisionFilterParams({ ...filter, from: new Date(hourFrom), to: new Date(hourTo) }),
    h_from_s: String(hourFrom / 1000),
    h_to_s: String(hourTo / 1000),
  };
  const [oversight] = await ctx.rows<{ reviewed: string; overridden: string }>(OVERSIGHT_ROLLUP_SQL, params);
  const actions = await ctx.rows<{ action: string; n: string }>(OVERSIGHT_ROLLUP_ACTIONS_SQL, params);
  const [unrolledOversight] = await ctx.rows<{
    reviewed: string;
    overridden: string;
    byAction: Record<string, string>;
  }>(OVERSIGHT_UNROLLED_SQL, params);
  const [feedback] = await ctx.rows<{
    labelled: string;
    correct: string;
    conflictCells: string[];
    conflictFrom: string;
    conflictTo: string;
  }>(FEEDBACK_ROLLUP_SQL, params);
  let correct = Number(feedback?.correct ?? 0);
  const cells = feedback?.conflictCells ?? [];
  if (feedback !== undefined && cells.length > 0) {
    const [resolved] = await ctx.rows<{ correct: string }>(FEEDBACK_CONFLICTS_SQL, {
      ...params,
      cells,
      id_from: uuidv7Prefix(Number(feedback.conflictFrom) * 1000),
      id_to: uuidv7Prefix(Number(feedback.conflictTo) * 1000 + HOUR_MS),
    });
    correct += Number(resolved?.correct ?? 0);
  }
  const [unrolledFeedback] = await ctx.rows<{
    labelled: string;
    correct: string;
    labelledRolled: string;
    correctRolled: string;
  }>(FEEDBACK_UNROLLED_SQL, params);
  const byAction = new Map<string, number>();
  for (const { action, n } of actions) byAction.set(action, Number(n));
  addActions(byAction, unrolledOversight?.byAction ?? {});
  return {
    reviewed: Number(oversight?.reviewed ?? 0) + Number(unrolledOversight?.reviewed ?? 0),
    overridden: Number(oversight?.overridden ?? 0) + Number(unrolledOversight?.overridden ?? 0),
    byAction,
    labelled:
      Number(feedback?.labelled ?? 0) +
      Number(unrolledFeedback?.labelled ?? 0) -
      Number(unrolledFeedback?.labelledRolled ?? 0),
    correct: correct + Number(unrolledFeedback?.correct ?? 0) - Number(unrolledFeedback?.correctRolled ?? 0),
  };
}

/** Oversight and feedback of the decisions of [from, to) by joining them to the decisions (exact). */
async function joinedFollowUps(ctx: QueryContext, filter: DecisionFilter): Promise<FollowUpCounts> {
  const rates = await oversightRates(ctx, filter, { decisions: 0 });
  const stats = await accuracy(ctx, filter, { decisions: 0, failed: 0 });
  const byAction = new Map<string, number>();
  addActions(byAction, rates.byAction);
  return {
    reviewed: rates.reviewed,
    overridden: rates.overridden,
    byAction,
    labelled: stats.labelled,
    correct: stats.correct,
  };
}

/**
 * Human oversight and accuracy of the period's decisions. `exact`, or a service filter (oversight
 * and feedback spans do not carry the decision's service), joins every row to the decisions; else
 * whole hours come from the rollups and the partial hours at the edges from the join.
 */
async function followUps(
  ctx: QueryContext,
  filter: DecisionFilter,
  exact: boolean,
  totals: { decisions: number; failed: number },
): Promise<{ oversight: OversightRates; accuracy: AccuracyStats }> {
  if (exact || (filter.service ?? '') !== '') {
    return {
      oversight: await oversightRates(ctx, filter, totals),
      accuracy: await accuracy(ctx, filter, totals),
    };
  }
  const { hours, edges } = splitByHours(filter);
  const parts: FollowUpCounts[] = [];
  for (const [from, to] of edges) {
    parts.push(await joinedFollowUps(ctx, { ...filter, from: new Date(from), to: new Date(to) }));
  }
  if (hours !== null) parts.push(await rolledUpFollowUps(ctx, filter, hours));
  const sum = (value: (part: FollowUpCounts) => number): number => parts.reduce((a, p) => a + value(p), 0);
  const byAction = new Map<string, number>();
  for (const part of parts) addActions(byAction, Object.fromEntries(part.byAction));
  const reviewed = sum((p) => p.reviewed);
  const overridden = sum((p) => p.overridden);
  const labelled = sum((p) => p.labelled);
  const correct = sum((p) => p.correct);
  return {
    oversight: {
      decisions: totals.decisions,
      reviewed,
      overridden,
      reviewRate: totals.decisions === 0 ? 0 : reviewed / totals.decisions,
      overrideRate: totals.decisions === 0 ? 0 : overridden / totals.decisions,
      byAction: sorted(byAction),
    },
    accuracy: {
      decisions: totals.decisions,
      labelled,
      correct,
      incorrect: labelled - correct,
      accuracy: labelled === 0 ? null : correct / labelled,
      errorRate: labelled === 0 ? null : (labelled - correct) / labelled,
      failed: totals.failed,
    },
  };
}

/** A report's scope; `exact` reads every decision with FINAL instead of the hourly rollup. */
export type PeriodReportQuery = DecisionFilter & {
  /**
   * Count every decision from audit_decisions with FINAL (slower) instead of the hourly rollup plus
   * the partial hours at the period's edges. Both count a decision delivered twice in different
   * batches once: the rollup path reads the hours whose rollup cells add up to more than their
   * distinct decisions from audit_decisions too (DUPLICATED_HOURS_SQL), and approximates quantiles
   * with t-digests. With `exact`, oversight and accuracy are joined to the decisions by id; without
   * it they come from the oversight and feedback rollups, which count duplicates once but place a
   * decision in the hour its UUIDv7 id names and count follow-ups of decisions the store never
   * received.
   * @default false
   */
  exact?: boolean;
};

/** Builds the period report; every number comes from bound-parameter queries over the audit tables. */
export async function periodReport(ctx: QueryContext, query: PeriodReportQuery): Promise<PeriodReport> {
  const { exact = false, ...filter } = query;
  const params = decisionFilterParams(filter);
  const { cells, quantiles } = await decisionCells(ctx, filter, exact);
  const deployments = await ctx.rows<DeploymentSummary>(DEPLOYMENTS_SQL, params);
  const [sideTables] = await ctx.rows<{
    erasures: string;
    quarantined: string;
    checkpoints: [string, string][];
  }>(SIDE_TABLES_SQL, params);
  // An incident concerns the period when it occurred in it, or when the decisions it affected (its window) lie
  // in it: one opened the day after about the period's decisions belongs in the period's report.
  const incidents = (await listIncidents(ctx, { modelId: filter.modelId ?? '' })).filter(
    (incident) =>
      (incident.occurredAt >= filter.from && incident.occurredAt < filter.to) ||
      (incident.windowFrom !== null &&
        incident.windowTo !== null &&
        incident.windowFrom < filter.to &&
        incident.windowTo > filter.from),
  );
  const total = (value: (cell: ReportCell) => number): number => cells.reduce((a, c) => a + value(c), 0);
  const totalDecisions = total((c) => Number(c.n));
  const followUp = await followUps(ctx, filter, exact, {
    decisions: totalDecisions,
    failed: total((c) => Number(c.failed)),
  });
  const latestCheckpoint = new Map(
    (sideTables?.checkpoints ?? []).map(([stream, size]) => [stream, Number(size)]),
  );
  const models = modelSummaries(cells);
  const records = await recordKeeping(ctx, filter, models);
  const now = new Date();
  return {
    period: { from: filter.from.toISOString(), to: filter.to.toISOString() },
    filter: {
      modelId: filter.modelId ?? '',
      modelVersion: filter.modelVersion ?? '',
      service: filter.service ?? '',
    },
    generatedAt: now.toISOString(),
    models,
    deployments,
    totals: {
      decisions: totalDecisions,
      byOutcome: sorted(sumBy(cells, (c) => c.outcome)),
      byRiskLevel: sorted(sumBy(cells, (c) => c.risk_level)),
      byDecisionType: sorted(sumBy(cells, (c) => c.decision_type)),
      byAutomation: sorted(sumBy(cells, (c) => c.automation)),
    },
    accuracy: followUp.accuracy,
    confidence: confidenceSummary(cells, quantiles),
    fairness: fairnessFromCounts(cells),
    oversight: followUp.oversight,
    incidents: {
      total: incidents.length,
      open: incidents.filter((i) => i.status !== 'closed').length,
      overdue: incidents.filter((i) => i.reportedAt === null && i.reportDeadline < now).length,
      bySeverity: countBy(incidents, 'severity'),
      byCategory: countBy(incidents, 'category'),
      items: incidents,
    },
    retention: {
      policyDays: ctx.render.retention,
      decisionsByClass: sorted(sumBy(cells, (c) => c.retention_class)),
    },
    recordKeeping: records,
    dataGovernance: {
      withInputHash: total((c) => Number(c.with_input_hash)),
      withOutputHash: total((c) => Number(c.with_output_hash)),
      withSubject: total((c) => Number(c.with_subject)),
      withIntegrity: total((c) => (c.integrity_stream === '' ? 0 : Number(c.n))),
      streams: [
        ...sumBy(
          cells.filter((c) => c.integrity_stream !== ''),
          (c) => c.integrity_stream,
        ),
      ]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([stream, decisions]) => ({
          stream,
          decisions,
          latestCheckpointSize: latestCheckpoint.get(stream) ?? 0,
        })),
      erasures: Number(sideTables?.erasures ?? 0),
      quarantined: Number(sideTables?.quarantined ?? 0),
    },
    losses: await recordLosses(ctx, filter),
    actions: await toolActionCounts(ctx, filter),
  };
}
