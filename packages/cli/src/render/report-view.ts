import type { RecordLoss } from '@decisiontrail/clickhouse';
import type { AuditQueries } from '../store/audit-backend.ts';
import type { NoteVerifierKey } from '@decisiontrail/core';
import type { ReportDocument } from './report-document.ts';
import { reportIntegrity } from './report-integrity.ts';
import { reportRecordKeeping } from './report-record-keeping.ts';
import { formatCount } from './number-format.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Widths a time chart's bars may have: the smallest that fits the period in {@link MAX_BUCKETS} bars is used. */
const BUCKET_SIZES = [
  SECOND,
  5 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  HOUR,
  6 * HOUR,
  DAY,
  7 * DAY,
  30 * DAY,
];
const MAX_BUCKETS = 60;

/**
 * The bars of the report's time charts: the period cut into equal buckets from its start, the last one ending
 * with the period, as fine as {@link MAX_BUCKETS} bars allow — so a ten-minute period gets ten-second bars, not one
 * bar.
 */
export function chartBuckets(period: { from: Date; to: Date }): { from: Date; to: Date }[] {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const span = to - from;
  const size = BUCKET_SIZES.find((width) => span / width <= MAX_BUCKETS) ?? Math.ceil(span / MAX_BUCKETS);
  const buckets: { from: Date; to: Date }[] = [];
  for (let t = from; t < to; t += size)
    buckets.push({ from: new Date(t), to: new Date(Math.min(t + size, to)) });
  return buckets;
}

function nanosToIso(nanos: string): string | null {
  return nanos === '' || nanos === '0' ? null : new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();
}

/**
 * The report's loss lines: what producers' signed loss records say they could not keep, one line per stream and
 * reason. No loss record is not proof that nothing was lost (a producer without the durable span processor writes
 * none), so the empty case says only that.
 */
function lossRows(losses: readonly RecordLoss[]): { label: string; value: string }[] {
  const label = 'decisions lost before they were stored';
  if (losses.length === 0) return [{ label, value: 'none recorded (no audit.loss record in the period)' }];
  return losses.map((loss) => ({
    label,
    value:
      `${formatCount(loss.decisions)} decisions lost between ${nanosToIso(loss.firstUnixNano) ?? '?'} and ` +
      `${nanosToIso(loss.lastUnixNano) ?? '?'} (${formatCount(loss.records)} audit records, ${loss.reason}, stream ${loss.stream}; ` +
      `from ${loss.lossRecords} loss record${loss.lossRecords === 1 ? '' : 's'} — decisiontrail verify checks their signatures)`,
  }));
}

function retentionText(days: number | null): string {
  if (days === null) return 'kept forever';
  return days % 365 === 0 || days % 365 <= 3
    ? `${Math.round(days / 365)} years (${formatCount(days)} days)`
    : `${formatCount(days)} days`;
}

/** The report parameters as given on the command line. */
export interface ReportQuery {
  modelId: string;
  modelVersion: string | undefined;
  from: Date;
  to: Date;
  /** Outcome compared across fairness groups; default: the most frequent one. */
  outcome: string | undefined;
}

/**
 * Builds the report document from the store's period report plus the two series it does not carry: decisions and
 * overrides over time (one oversight query per bucket, at most 60 buckets) and accuracy per model version.
 */
export async function buildReportDocument(
  queries: AuditQueries,
  query: ReportQuery,
  keys: readonly NoteVerifierKey[],
  now: Date = new Date(),
): Promise<ReportDocument> {
  // A period cannot end after the report that describes it: one that reaches into the future ends now.
  const to = new Date(Math.min(query.to.getTime(), now.getTime()));
  const from = new Date(Math.min(query.from.getTime(), to.getTime()));
  const filter = {
    from,
    to,
    modelId: query.modelId,
    ...(query.modelVersion === undefined ? {} : { modelVersion: query.modelVersion }),
  };
  const report = await queries.periodReport(filter);
  const coverage = await queries.integrityCoverage(filter);
  const decisionsOverTime = [];
  for (const bucket of chartBuckets(filter)) {
    const rates = await queries.oversightRates({ ...filter, ...bucket });
    decisionsOverTime.push({
      start: bucket.from.toISOString(),
      decisions: rates.decisions,
      overridden: rates.overridden,
      overrideRate: rates.decisions === 0 ? null : rates.overrideRate,
    });
  }
  const versions = [...new Set(report.models.map((m) => m.modelVersion))].sort();
  const accuracyByVersion = [];
  for (const version of versions) {
    const versionFilter = { ...filter, modelVersion: version };
    const [acc, oversight] = [
      await queries.accuracy(versionFilter),
      await queries.oversightRates(versionFilter),
    ];
    accuracyByVersion.push({
      version,
      decisions: acc.decisions,
      withFeedback: acc.labelled,
      accuracy: acc.accuracy,
      overrideRate: oversight.decisions === 0 ? null : oversight.overrideRate,
    });
  }
  const outcomes = Object.entries(report.totals.byOutcome)
    .map(([outcome, count]) => ({ outcome, count }))
    .sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome));
  // Decisions that state no outcome have none to compare: the default is the most frequent outcome stated.
  const compared = query.outcome ?? outcomes.find((o) => o.outcome !== '')?.outcome ?? null;
  // The fairness command's metrics (one home): the compared outcome is the positive one.
  const metrics =
    compared === null ? null : await queries.fairnessMetrics({ ...filter, positiveOutcome: compared });
  const groups = (metrics?.groups ?? []).map((g) => ({
    group: g.group,
    decisions: g.decisions,
    outcomeCount: g.selectionRate.count,
    outcomeRate: g.selectionRate.rate,
    selectionRate: g.selectionRate,
    accuracy: g.accuracy,
    errorRate: g.errorRate,
    truePositiveRate: g.truePositiveRate,
    falsePositiveRate: g.falsePositiveRate,
  }));
  const o = report.oversight;
  const a = report.accuracy;
  const g = report.dataGovernance;
  return {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    period: { from: from.toISOString(), to: to.toISOString() },
    model: {
      id: query.modelId,
      versionFilter: query.modelVersion ?? null,
      versions: report.models.map((m) => {
        const deployment = report.deployments.filter((d) => d.modelVersion === m.modelVersion).at(-1);
        const provenance = [
          ...(m.modelType ? [{ label: 'type', value: m.modelType }] : []),
          ...(m.provider ? [{ label: 'provider', value: m.provider }] : []),
          ...(deployment?.weightsHash ? [{ label: 'weights', value: deployment.weightsHash }] : []),
          ...(deployment?.environment ? [{ label: 'deployed to', value: deployment.environment }] : []),
        ];
        return {
          version: m.modelVersion,
          decisions: m.decisions,
          firstSeen: nanosToIso(m.firstDecisionUnixNano),
          lastSeen: nanosToIso(m.lastDecisionUnixNano),
          provenance,
        };
      }),
    },
    deployments: report.deployments.map((d) => ({
      time: nanosToIso(d.timeUnixNano) ?? '',
      version: d.modelVersion,
      previousVersion: d.previousVersion,
      environment: d.environment,
      weightsHash: d.weightsHash,
    })),
    totals: {
      decisions: report.totals.decisions,
      reviewed: o.reviewed,
      overridden: o.overridden,
      withFeedback: a.labelled,
      correct: a.correct,
    },
    rates: {
      reviewRate: o.decisions === 0 ? null : o.reviewRate,
      overrideRate: o.decisions === 0 ? null : o.overrideRate,
      accuracy: a.accuracy,
      errorRate: a.errorRate,
    },
    outcomes,
    oversight: Object.entries(o.byAction).map(([action, count]) => ({ action, count })),
    agentActions: report.actions.map(({ tool, ran, failed, linked, requested }) => ({
      tool,
      ran,
      failed,
      linked,
      requested,
    })),
    decisionsOverTime,
    confidenceHistogram: report.confidence.buckets,
    accuracyByVersion,
    fairness: {
      outcome: compared,
      groups,
      disparityRatio: metrics?.selectionRateRatio ?? null,
      failsFourFifths: metrics?.failsFourFifths ?? false,
      smallGroups: metrics?.smallGroups ?? [],
    },
    incidents: report.incidents.items.map((i) => ({
      id: i.incidentId,
      title: i.title,
      severity: i.severity,
      category: i.category,
      status: i.status,
      awareAt: i.occurredAt.toISOString(),
      deadline: i.reportDeadline.toISOString(),
    })),
    retention: Object.entries(report.retention.policyDays).map(([recordClass, days]) => ({
      recordClass,
      period: `${retentionText(days)}; ${formatCount(report.retention.decisionsByClass[recordClass] ?? 0)} decisions`,
    })),
    recordKeeping: reportRecordKeeping(report.recordKeeping),
    dataGovernance: [
      {
        label: 'decisions with an HMAC input hash',
        value: `${formatCount(g.withInputHash)} of ${formatCount(report.totals.decisions)}`,
      },
      {
        label: 'decisions with an HMAC output hash',
        value: `${formatCount(g.withOutputHash)} of ${formatCount(report.totals.decisions)}`,
      },
      { label: 'decisions naming a pseudonymous data subject', value: formatCount(g.withSubject) },
      { label: 'decisions in a signed integrity stream', value: formatCount(g.withIntegrity) },
      ...g.streams.map((s) => ({
        label: `stream ${s.stream}`,
        value: `${formatCount(s.decisions)} decisions; latest checkpoint size ${formatCount(s.latestCheckpointSize)}`,
      })),
      { label: 'erasures (crypto-shredding) in the period', value: formatCount(g.erasures) },
      { label: 'spans quarantined in the period', value: formatCount(g.quarantined) },
      ...lossRows(report.losses),
    ],
    integrity: reportIntegrity(coverage, keys, report.totals.decisions),
  };
}
