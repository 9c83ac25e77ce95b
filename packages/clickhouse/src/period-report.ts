import {
  accuracy,
  confidenceDistribution,
  decisionFilterParams,
  fairnessDisparity,
  oversightRates,
  DECISION_FILTER,
  type AccuracyStats,
  type ConfidenceDistribution,
  type DecisionFilter,
  type FairnessDisparity,
  type OversightRates,
} from './decision-queries.ts';
import { listIncidents, type Incident } from './incidents.ts';
import { periodParams, type QueryContext } from './query-context.ts';
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
}

function toCounts(rows: { k: string; n: string }[]): Record<string, number> {
  return Object.fromEntries(rows.map((row) => [row.k, Number(row.n)]));
}

function countBy(items: Incident[], key: 'severity' | 'category'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item[key]] = (counts[item[key]] ?? 0) + 1;
  return counts;
}

/** Builds the period report; every number comes from bound-parameter queries over the audit tables. */
export async function periodReport(ctx: QueryContext, filter: DecisionFilter): Promise<PeriodReport> {
  const params = decisionFilterParams(filter);
  const grouped = (column: string): Promise<{ k: string; n: string }[]> =>
    ctx.rows<{ k: string; n: string }>(
      `SELECT ${column} AS k, count() AS n FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}
       GROUP BY k ORDER BY k`,
      params,
    );
  const models = await ctx.rows<{
    modelId: string;
    modelVersion: string;
    modelType: string;
    provider: string;
    decisions: string;
    firstDecisionUnixNano: string;
    lastDecisionUnixNano: string;
  }>(
    `SELECT model_id AS modelId, model_version AS modelVersion, any(model_type) AS modelType, any(provider) AS provider,
       count() AS decisions, toString(toUnixTimestamp64Nano(min(time))) AS firstDecisionUnixNano,
       toString(toUnixTimestamp64Nano(max(time))) AS lastDecisionUnixNano
     FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}
     GROUP BY model_id, model_version ORDER BY model_id, model_version`,
    params,
  );
  const deployments = await ctx.rows<DeploymentSummary>(
    `SELECT deployment_id AS deploymentId, model_id AS modelId, model_version AS modelVersion,
       previous_version AS previousVersion, environment, weights_hash AS weightsHash,
       toString(toUnixTimestamp64Nano(time)) AS timeUnixNano
     FROM {{read:audit_deployments}} FINAL
     WHERE time < fromUnixTimestamp64Milli({to_ms:Int64})
       AND ({model_id:String} = '' OR model_id = {model_id:String})
     ORDER BY model_id, time`,
    params,
  );
  const [governance] = await ctx.rows<{
    decisions: string;
    withInputHash: string;
    withOutputHash: string;
    withSubject: string;
    withIntegrity: string;
  }>(
    `SELECT count() AS decisions, countIf(input_hash != '') AS withInputHash, countIf(output_hash != '') AS withOutputHash,
       countIf(subject_id != '') AS withSubject, countIf(integrity_stream != '') AS withIntegrity
     FROM {{read:audit_decisions}} FINAL WHERE ${DECISION_FILTER}`,
    params,
  );
  const streams = await ctx.rows<{ stream: string; decisions: string; latestCheckpointSize: string }>(
    `SELECT d.stream AS stream, d.n AS decisions, toString(ifNull(c.size, 0)) AS latestCheckpointSize
     FROM (SELECT integrity_stream AS stream, count() AS n FROM {{read:audit_decisions}} FINAL
           WHERE ${DECISION_FILTER} AND integrity_stream != '' GROUP BY stream) AS d
     LEFT JOIN (SELECT stream, max(tree_size) AS size FROM {{read:audit_checkpoints}} GROUP BY stream) AS c
       ON d.stream = c.stream
     ORDER BY stream
     SETTINGS join_use_nulls = 1`,
    params,
  );
  const period = periodParams(filter);
  const [sideTables] = await ctx.rows<{ erasures: string; quarantined: string }>(
    `SELECT
       (SELECT count() FROM {{read:audit_erasures}} FINAL
        WHERE erased_at >= fromUnixTimestamp64Milli({from_ms:Int64}) AND erased_at < fromUnixTimestamp64Milli({to_ms:Int64})) AS erasures,
       (SELECT count() FROM {{read:audit_quarantine}}
        WHERE received_at >= fromUnixTimestamp64Milli({from_ms:Int64}) AND received_at < fromUnixTimestamp64Milli({to_ms:Int64})) AS quarantined`,
    period,
  );
  const incidents = (await listIncidents(ctx, { modelId: filter.modelId ?? '' })).filter(
    (incident) => incident.occurredAt >= filter.from && incident.occurredAt < filter.to,
  );
  const now = new Date();
  return {
    period: { from: filter.from.toISOString(), to: filter.to.toISOString() },
    filter: {
      modelId: filter.modelId ?? '',
      modelVersion: filter.modelVersion ?? '',
      service: filter.service ?? '',
    },
    generatedAt: now.toISOString(),
    models: models.map((m) => ({ ...m, decisions: Number(m.decisions) })),
    deployments,
    totals: {
      decisions: Number(governance?.decisions ?? 0),
      byOutcome: toCounts(await grouped('outcome')),
      byRiskLevel: toCounts(await grouped('risk_level')),
      byDecisionType: toCounts(await grouped('decision_type')),
      byAutomation: toCounts(await grouped('automation')),
    },
    accuracy: await accuracy(ctx, filter),
    confidence: await confidenceDistribution(ctx, filter),
    fairness: await fairnessDisparity(ctx, filter),
    oversight: await oversightRates(ctx, filter),
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
      decisionsByClass: toCounts(await grouped('retention_class')),
    },
    dataGovernance: {
      withInputHash: Number(governance?.withInputHash ?? 0),
      withOutputHash: Number(governance?.withOutputHash ?? 0),
      withSubject: Number(governance?.withSubject ?? 0),
      withIntegrity: Number(governance?.withIntegrity ?? 0),
      streams: streams.map((s) => ({
        stream: s.stream,
        decisions: Number(s.decisions),
        latestCheckpointSize: Number(s.latestCheckpointSize),
      })),
      erasures: Number(sideTables?.erasures ?? 0),
      quarantined: Number(sideTables?.quarantined ?? 0),
    },
  };
}
