import { decisionFilterParams, type DecisionFilter } from './decision-queries.ts';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { readSqlFile } from './sql-template.ts';

const FAIRNESS_SQL = readSqlFile('fairness-metrics.sql');

/** A rate with its sample size and 95 % Wilson score interval (`null` rate and interval when n is 0). */
export interface RateEstimate {
  rate: number | null;
  /** The numerator: how many of the `n` the rate counts (selected, correct, wrong, true or false positives). */
  count: number;
  /** The denominator the rate is computed over. */
  n: number;
  low: number | null;
  high: number | null;
}

/** Per fairness group: the rates a bias review compares, each with its sample size and interval. */
export interface GroupFairness {
  group: string;
  decisions: number;
  /** Share of decisions with the positive outcome (demographic parity). */
  selectionRate: RateEstimate;
  /** Over labelled decisions (their latest label). */
  accuracy: RateEstimate;
  errorRate: RateEstimate;
  /** True positive rate over labelled decisions whose ground truth is the positive outcome (equal opportunity). */
  truePositiveRate: RateEstimate;
  /** False positive rate over labelled decisions whose ground truth is not the positive outcome. */
  falsePositiveRate: RateEstimate;
}

/** Fairness metrics of the decisions a filter selects. */
export interface FairnessMetrics {
  positiveOutcome: string;
  groups: GroupFairness[];
  /** Lowest group selection rate / highest; `null` with fewer than two groups or no selections at all. */
  selectionRateRatio: number | null;
  /** The ratio is below 0.8, the four-fifths rule of thumb. */
  failsFourFifths: boolean;
  /** Groups with fewer decisions than `minDecisions`: their rates are shown, but too uncertain to compare. */
  smallGroups: string[];
}

/** z for a two-sided 95 % interval. */
const Z = 1.959963984540054;

/** The Wilson score interval of `successes` out of `n` (95 %). */
export function wilsonInterval(successes: number, n: number): RateEstimate {
  if (n === 0) return { rate: null, count: successes, n, low: null, high: null };
  const p = successes / n;
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { rate: p, count: successes, n, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Selection rate, accuracy, error rate, TPR and FPR per `audit.fairness.group` with sample sizes and 95 %
 * intervals, and the four-fifths check of selection rates. Decisions without a group are left out.
 */
export async function fairnessMetrics(
  ctx: QueryContext,
  query: DecisionFilter & { positiveOutcome: string; minDecisions?: number },
): Promise<FairnessMetrics> {
  const positive = requireString(query.positiveOutcome, 'positiveOutcome');
  if (positive === '') throw new StoreError('INVALID_ARGUMENT', 'positiveOutcome must not be empty');
  const minDecisions = query.minDecisions ?? 30;
  if (!Number.isSafeInteger(minDecisions) || minDecisions < 1) {
    throw new StoreError('INVALID_ARGUMENT', 'minDecisions must be a positive integer');
  }
  const { positiveOutcome: _positive, minDecisions: _min, ...filter } = query;
  const rows = await ctx.rows<Record<string, string>>(FAIRNESS_SQL, {
    ...decisionFilterParams(filter),
    positive,
  });
  const groups = rows.map((row) => {
    const n = (name: string): number => Number(row[name]);
    return {
      group: row['fairnessGroup']!,
      decisions: n('decisions'),
      selectionRate: wilsonInterval(n('selected'), n('decisions')),
      accuracy: wilsonInterval(n('correct'), n('labelled')),
      errorRate: wilsonInterval(n('labelled') - n('correct'), n('labelled')),
      truePositiveRate: wilsonInterval(n('truePositives'), n('actualPositives')),
      falsePositiveRate: wilsonInterval(n('falsePositives'), n('actualNegatives')),
    };
  });
  const rates = groups.map((g) => g.selectionRate.rate!);
  const max = Math.max(...rates);
  const ratio = groups.length < 2 || max === 0 ? null : Math.min(...rates) / max;
  return {
    positiveOutcome: positive,
    groups,
    selectionRateRatio: ratio,
    failsFourFifths: ratio !== null && ratio < 0.8,
    smallGroups: groups.filter((g) => g.decisions < minDecisions).map((g) => g.group),
  };
}
