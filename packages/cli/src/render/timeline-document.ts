import type { DecisionProvenance } from './decision-provenance.ts';

/** What `decisiontrail timeline` shows, as one typed object; `--json` prints exactly this. */
export interface TimelineDocument {
  /** The id that was asked for and what it turned out to be. */
  query: { id: string; kind: 'decision' | 'trace' };
  /** The decision at the centre, or null for a trace without a decision span. */
  decision: TimelineDecision | null;
  /** Everything that happened, oldest first. */
  entries: TimelineEntry[];
  /**
   * Whether what is shown comes from signed bytes that were checked: the worst status of the decision, review,
   * feedback and action entries (each carries its own in {@link TimelineEntry.integrity}).
   */
  verification: { status: IntegrityStatus; detail: string };
}

/**
 * `verified`: the entry's values come from its otel_traces row, whose leaf recomputes and is included under a
 * checkpoint signed by a trusted key, with no conflicting copy; `failed`: a check failed (named by `check`);
 * `untrusted`: its checkpoint is signed by no trusted key; `unsigned`: the span has no integrity stream;
 * `unsealed`: no checkpoint in the store proves it yet; `unchecked`: not checked (no key, or --no-verify).
 */
export type IntegrityStatus = 'verified' | 'failed' | 'untrusted' | 'unsigned' | 'unsealed' | 'unchecked';

/** The read-time check of one decision, review, feedback or action entry. */
export interface EntryIntegrity {
  status: IntegrityStatus;
  /**
   * The check that decided: `inclusion`, `field`, `conflicting-copy`, `missing-span`, `leaf`, `leaf-mismatch`,
   * `checkpoint`, `untrusted-key`, `no-stream`, `no-checkpoint`, `no-key`.
   */
  check: string;
  /** For `field`: the displayed fields whose stored value differs from the signed span. */
  fields?: string[];
  detail: string;
}

/** The decision's own facts. */
export interface TimelineDecision {
  id: string;
  time: string;
  traceId: string;
  spanId: string;
  service: string;
  modelId: string;
  modelVersion: string;
  outcome: string;
  confidence: number | null;
  riskLevel: string;
  purpose: string;
  subjectId: string;
  actorId: string;
  inputHash: string;
  outputHash: string;
  /** The outcome after the last override, or null when nobody overrode it. */
  finalOutcome: string | null;
  /**
   * The required attributes the decision lacks, recomputed by its semantic convention from the stored span the
   * read-time check read (`missing`, empty when complete), and what serve's completeness check flagged at ingest
   * (`audit.completeness.missing`; null when it flagged nothing). Null when the span was not read (--no-verify).
   */
  completeness: { missing: string[]; flaggedAtIngest: string[] | null } | null;
  /**
   * Where the model came from — weights and config hashes, training data set, code commit, seed, inference
   * parameters — from the decision's stored span (the weights hash else from its version's deployment), each
   * with where it was recorded or null when nothing recorded it. Null when the span was not read (--no-verify).
   */
  provenance: DecisionProvenance | null;
}

/** One row of the timeline. */
export interface TimelineEntry {
  time: string;
  kind: 'span' | 'decision' | 'oversight' | 'feedback' | 'action' | 'deployment' | 'incident' | 'checkpoint';
  title: string;
  /** Short facts, `key: value` pairs in display order. */
  details: { label: string; value: string }[];
  spanId: string | null;
  durationMs: number | null;
  /** `ok`, `error` or `unset` for spans (an unknown stored status code as is). */
  status: string | null;
  /**
   * The read-time check of a decision, review, feedback or action entry (absent for other kinds, or with
   * --no-verify).
   */
  integrity?: EntryIntegrity;
}
