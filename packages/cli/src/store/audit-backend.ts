import type { Store } from '@decisiontrail/clickhouse';

/** The `Store` methods the CLI calls; the serve query endpoint answers exactly these names (see CONTRACTS.md). */
export const STORE_QUERY_NAMES = [
  'decisionTimeline',
  'timelineEvidence',
  'decisions',
  'findDecisions',
  'subjectDecisions',
  'periodReport',
  'integrityCoverage',
  'oversightRates',
  'accuracy',
  'driftSignal',
  'degradationSignal',
  'adversarialSignals',
  'createIncident',
  'getIncident',
  'listIncidents',
  'updateIncident',
  'recordErasure',
  'listErasures',
  'listQuarantine',
  'spansForVerification',
  'verificationSlices',
  'unsignedAuditRecords',
  'reconcileAuditTables',
  'witnessEvidence',
  'checkpointLinks',
] as const;

/** Name of one store query the CLI uses. */
export type StoreQueryName = (typeof STORE_QUERY_NAMES)[number];

/** The store as the CLI sees it: the same methods whether it is opened here or reached through serve. */
export type AuditQueries = Pick<Store, StoreQueryName>;

/** An open connection to the store. */
export interface AuditBackend {
  /** How the store is reached, for messages. */
  readonly via: string;
  readonly queries: AuditQueries;
  /**
   * The verifier's reader of the store's binary rows (`Store.verificationRecords`), when the store is opened in
   * this process; through serve, `verify` reads `spansForVerification` instead.
   */
  readonly verificationRecords?: Store['verificationRecords'];
  close(): Promise<void>;
}
