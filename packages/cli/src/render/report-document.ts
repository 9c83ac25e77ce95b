import type { RateEstimate } from '@decisiontrail/clickhouse';

/**
 * The EU AI Act period report as the renderers (JSON, Markdown, HTML) see it: one typed object built from the
 * store's period-report query, so all three formats show the same numbers. Rates are fractions in 0..1, or null
 * when their denominator is zero (no decisions, no feedback).
 */
export interface ReportDocument {
  /** Report format version, bumped when fields change meaning. */
  schemaVersion: 1;
  generatedAt: string;
  period: { from: string; to: string };
  model: {
    id: string;
    /** The version filter given with --version, if any. */
    versionFilter: string | null;
    versions: ReportModelVersion[];
  };
  /** Deployments of the model up to the end of the period (Annex IV: changes to the system). */
  deployments: {
    time: string;
    version: string;
    previousVersion: string;
    environment: string;
    weightsHash: string;
  }[];
  totals: {
    decisions: number;
    reviewed: number;
    overridden: number;
    withFeedback: number;
    correct: number;
  };
  rates: {
    reviewRate: number | null;
    overrideRate: number | null;
    accuracy: number | null;
    errorRate: number | null;
  };
  outcomes: { outcome: string; count: number }[];
  /** Human-oversight actions (review, approve, override, reject, escalate) and how often each happened. */
  oversight: { action: string; count: number }[];
  /**
   * Agent actions per tool (Art. 12(2), Art. 26(5)): tool runs stored, how many failed, how many are tied to the
   * decision that requested them, and how many calls of the tool the period's decisions requested.
   */
  agentActions: { tool: string; ran: number; failed: number; linked: number; requested: number }[];
  decisionsOverTime: { start: string; decisions: number; overridden: number; overrideRate: number | null }[];
  confidenceHistogram: { lower: number; upper: number; count: number }[];
  accuracyByVersion: {
    version: string;
    decisions: number;
    withFeedback: number;
    accuracy: number | null;
    overrideRate: number | null;
  }[];
  /**
   * Per fairness group, as `decisiontrail fairness` computes them (one query, fairnessMetrics): the outcome taken as
   * positive (`--outcome`, default the most frequent), its rate (selection rate), accuracy, error rate, true and false
   * positive rates from the latest ground-truth label, each with its sample size and 95% Wilson interval.
   */
  fairness: {
    /** The outcome whose rate is compared across groups (the positive outcome of TPR and FPR). */
    outcome: string | null;
    groups: {
      group: string;
      decisions: number;
      outcomeCount: number;
      outcomeRate: number | null;
      selectionRate: RateEstimate;
      accuracy: RateEstimate;
      errorRate: RateEstimate;
      truePositiveRate: RateEstimate;
      falsePositiveRate: RateEstimate;
    }[];
    /** Lowest group rate divided by highest (the "four-fifths rule" ratio); null with fewer than two groups. */
    disparityRatio: number | null;
    /** The ratio is below 0.8. */
    failsFourFifths: boolean;
    /** Groups with fewer than 30 decisions: rates shown, too uncertain to compare. */
    smallGroups: string[];
  };
  incidents: {
    id: string;
    title: string;
    severity: string;
    category: string;
    status: string;
    awareAt: string;
    deadline: string;
  }[];
  retention: { recordClass: string; period: string }[];
  /**
   * Decision coverage and record completeness per model version (Art. 12), against the targets (coverage 100 %,
   * completeness > 99 %). A figure is null when it cannot be computed: coverage when no producer counted the
   * version's decisions (not measured), completeness when none is stored.
   */
  recordKeeping: {
    targets: { coverage: number; completeness: number };
    versions: {
      version: string;
      /** Decisions of the version stored in the period. */
      decisions: number;
      /** Stored of counted (0..1), or null: not measured. */
      coverage: number | null;
      /** Decisions the producers counted in the measured ranges, and how many of them are stored. */
      counted: number;
      storedOfCounted: number;
      /** Decisions stored in the period that no count covers. */
      notMeasured: number;
      streams: number;
      inconsistentStreams: number;
      /** Share of stored decisions not flagged incomplete at ingest, or null when none is stored. */
      completeness: number | null;
      incomplete: number;
      /** Per required attribute, the decisions that lacked it, most first. */
      missing: { attribute: string; decisions: number }[];
    }[];
    meaning: string;
  };
  dataGovernance: { label: string; value: string }[];
  /**
   * What the integrity of the period's decisions rests on (distinct decisions of audit_decisions): `sealed` by a
   * checkpoint a trusted key signed (leaves are not recomputed by the report, so this is not "verified"),
   * `unsealed` beyond the last such checkpoint, `untrusted` in streams no trusted key signed, `unsigned` without
   * a stream, `unchecked` when no trusted key is configured.
   */
  integrity: {
    decisions: number;
    sealed: number;
    unsealed: number;
    untrusted: number;
    unsigned: number;
    unchecked: number;
    streams: number;
    trustedKeys: number;
    meaning: string;
  };
}

/** One model version seen in the period with its provenance. */
export interface ReportModelVersion {
  version: string;
  decisions: number;
  firstSeen: string | null;
  lastSeen: string | null;
  provenance: { label: string; value: string }[];
}
