/** What `decisiontrail timeline` shows, as one typed object; `--json` prints exactly this. */
export interface TimelineDocument {
  /** The id that was asked for and what it turned out to be. */
  query: { id: string; kind: 'decision' | 'trace' };
  /** The decision at the centre, or null for a trace without a decision span. */
  decision: TimelineDecision | null;
  /** Everything that happened, oldest first. */
  entries: TimelineEntry[];
  /** Whether the spans shown are covered by a valid signed checkpoint. */
  verification: { status: 'verified' | 'unsealed' | 'failed' | 'unchecked'; detail: string };
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
}

/** One row of the timeline. */
export interface TimelineEntry {
  time: string;
  kind: 'span' | 'decision' | 'oversight' | 'feedback' | 'deployment' | 'incident' | 'checkpoint';
  title: string;
  /** Short facts, `key: value` pairs in display order. */
  details: { label: string; value: string }[];
  spanId: string | null;
  durationMs: number | null;
  /** `ok`, `error` or `unset` for spans (an unknown stored status code as is). */
  status: string | null;
}
