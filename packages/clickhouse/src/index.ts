export {
  EMBEDDED_MAX_COMPRESS_BLOCK_SIZE,
  EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE,
  EMBEDDED_VERTICAL_MERGE_MIN_ROWS,
  openStore,
  Store,
} from './store.ts';
export type {
  EmbeddedStoreOptions,
  ResolvedRetention,
  ResolvedStoreOptions,
  RetentionPolicy,
  ServerStoreOptions,
  StoreOptions,
} from './store-options.ts';
export { DEFAULT_DATA_DIR, DEFAULT_RETENTION, resolveStoreOptions, yearsInDays } from './store-options.ts';
export { StoreError } from './errors.ts';
export type { StoreErrorCode } from './errors.ts';
export { ClickHouseSink } from './clickhouse-sink.ts';
export type { SinkOptions } from './clickhouse-sink.ts';
export { encodeSpansForSink } from './encoded-spans.ts';
export type { EncodedSpans } from './encoded-spans.ts';
export { spanRecordToTraceRow, traceRowToSpanRecord, TRACE_ROW_COLUMNS } from './trace-row.ts';
export type { StoredTraceRow, TraceRow } from './trace-row.ts';
export {
  MIGRATIONS,
  migrationChecksum,
  migrationStatements,
  bootstrapStatements,
  renderContext,
} from './migrations.ts';
export type { Migration, MigrationResult } from './migrations.ts';
export { rbacStatements } from './rbac.ts';
export type { RbacOptions } from './rbac.ts';
export type { TimelineEntry, TimelineEntryKind } from './decision-timeline.ts';
export type { TimelineEvidence, TimelineEvidenceQuery } from './timeline-evidence.ts';
export type { TimelineWithEvidence } from './timeline-with-evidence.ts';
export type { IntegrityCoverage, StreamCoverage } from './integrity-coverage.ts';
export type {
  AccuracyStats,
  ConfidenceDistribution,
  DecisionFilter,
  DecisionRow,
  FairnessDisparity,
  OversightRates,
} from './decision-queries.ts';
export type { DeploymentSummary, ModelSummary, PeriodReport, PeriodReportQuery } from './period-report.ts';
export type { RecordLoss } from './record-losses.ts';
export type { ToolActionCount } from './tool-actions.ts';
export { RECORD_KEEPING_TARGETS } from './decision-coverage.ts';
export type { ModelRecordKeeping, RecordKeeping } from './decision-coverage.ts';
export { populationStabilityIndex } from './investigation-signals.ts';
export type {
  AdversarialQuery,
  AdversarialSignals,
  DegradationQuery,
  DegradationSignal,
  DriftQuery,
  DriftSignal,
  FeatureDrift,
} from './investigation-signals.ts';
export { reportingDeadlineDays } from './incidents.ts';
export type { Incident, IncidentStatus, IncidentUpdate, NewIncident } from './incidents.ts';
export type {
  ErasureRecord,
  QuarantinedSpan,
  QuarantineEntry,
  QuarantineQuery,
} from './quarantine-and-erasure.ts';
export type {
  DecisionIntegrityStatus,
  DecisionPage,
  DecisionSearch,
  DecisionSort,
  FoundDecision,
} from './decision-finder.ts';
export type { ProcessingActivity } from './processing-activities.ts';
export { confidenceText, signedTimelineEntry } from './signed-timeline-entry.ts';
export type { SignedEntryKind, SignedEntryOptions } from './signed-timeline-entry.ts';
export { wilsonInterval } from './fairness-metrics.ts';
export type { FairnessMetrics, GroupFairness, RateEstimate } from './fairness-metrics.ts';
export type { VerificationQuery } from './verification-spans.ts';
export type { VerificationRecord } from './verification-records.ts';
export type { UnsignedAuditRecords, VerificationSlice } from './verification-plan.ts';
export type {
  CheckpointLink,
  StoredCosignature,
  StreamHead,
  WitnessEvidence,
} from './witness-cosignatures.ts';
export { NOT_DERIVED_TABLES, RECONCILED_TABLES } from './audit-reconciliation.ts';
export type {
  AuditReconciliation,
  ReconciledTable,
  ReconciliationCode,
  ReconciliationFinding,
  ReconciliationQuery,
} from './audit-reconciliation.ts';
