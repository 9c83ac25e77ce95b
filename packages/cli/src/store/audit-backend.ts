import type { SpanRecord } from '@decisiontrail/signing-exporter';
import type { ReportDocument } from '../render/report-document.ts';
import type { TimelineDocument } from '../render/timeline-document.ts';
import type { IncidentRecord, IncidentUpdate, NewIncident } from './incident-record.ts';

/** Parameters of the period report. */
export interface PeriodReportQuery {
  modelId: string;
  version: string | undefined;
  from: Date;
  to: Date;
  /** Outcome compared across fairness groups; default: the most frequent one. */
  outcome: string | undefined;
}

/** A decision touched by an incident or an erasure. */
export interface DecisionSummary {
  decisionId: string;
  time: string;
  traceId: string;
  modelId: string;
  modelVersion: string;
  outcome: string;
  confidence: number | null;
  overridden: boolean;
}

/** An investigation signal (drift, degradation, adversarial pattern) with the evidence behind it. */
export interface InvestigationSignal {
  kind: string;
  summary: string;
  score: number | null;
  evidence: { label: string; value: string }[];
}

/** A GDPR erasure as recorded in the store. */
export interface ErasureTombstone {
  subjectId: string;
  erasedAt: string;
  keyIds: string[];
  affectedDecisions: number;
}

/**
 * What the CLI asks of the store. Two implementations: directly over `@decisiontrail/clickhouse` (embedded engine or
 * a server) and through the query endpoint of a running `decisiontrail serve` that holds the embedded store.
 */
export interface AuditBackend {
  /** How the store is reached, for messages. */
  readonly via: string;
  modelExists(modelId: string): Promise<boolean>;
  timeline(id: string): Promise<TimelineDocument | null>;
  periodReport(query: PeriodReportQuery): Promise<ReportDocument>;
  /** Every stored span record in the range (checkpoints included), for verification and bundles. */
  spansForVerification(query: {
    from: Date | undefined;
    to: Date | undefined;
    stream: string | undefined;
  }): Promise<SpanRecord[]>;
  /** Span records of one trace. */
  traceSpans(traceId: string): Promise<SpanRecord[]>;
  listIncidents(filter: { status: 'open' | 'closed' | undefined }): Promise<IncidentRecord[]>;
  getIncident(id: string): Promise<IncidentRecord | null>;
  createIncident(incident: NewIncident): Promise<IncidentRecord>;
  updateIncident(id: string, update: IncidentUpdate): Promise<IncidentRecord>;
  /** Decisions of the incident's model, version and window. */
  incidentDecisions(
    incident: IncidentRecord,
    limit: number,
  ): Promise<{ total: number; decisions: DecisionSummary[] }>;
  /** Signals computed over the incident's model and window. */
  incidentSignals(incident: IncidentRecord): Promise<InvestigationSignal[]>;
  subjectDecisions(subjectId: string): Promise<(DecisionSummary & { encryptionKeyIds: string[] })[]>;
  recordErasure(tombstone: ErasureTombstone): Promise<void>;
  listErasures(): Promise<ErasureTombstone[]>;
  close(): Promise<void>;
}
