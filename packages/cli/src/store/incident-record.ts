import type { AuditIncidentCategory, AuditIncidentSeverity } from '@decisiontrail/semconv';

/** An incident as the CLI shows it. Times are ISO strings. */
export interface IncidentRecord {
  id: string;
  title: string;
  status: 'open' | 'closed';
  severity: AuditIncidentSeverity;
  category: AuditIncidentCategory;
  modelId: string;
  modelVersion: string;
  /** The window of affected decisions. */
  windowFrom: string;
  windowTo: string;
  /** When the provider became aware: the Art. 73 clock starts here. */
  awareAt: string;
  openedAt: string;
  updatedAt: string;
  closedAt: string | null;
  notes: string;
}

/** Fields set when opening an incident. */
export type NewIncident = Omit<IncidentRecord, 'id' | 'status' | 'openedAt' | 'updatedAt' | 'closedAt'>;

/** Fields an update may change. */
export type IncidentUpdate = Partial<Omit<IncidentRecord, 'id' | 'openedAt' | 'updatedAt'>>;
