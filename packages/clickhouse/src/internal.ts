// Internals for tests and sibling packages; not part of the public API.
export { QueryContext } from './query-context.ts';
export { findDecisions, type FinderTuning } from './decision-finder.ts';
export { VerificationDecoders } from './verification-decoder.ts';
export { decodeVerificationRows, verificationRecords } from './verification-records.ts';
export { applyMigration, rebuildTable, renderContext } from './migrations.ts';
export { timelineWithEvidence } from './timeline-with-evidence.ts';
export { coveringCheckpointRows } from './timeline-evidence.ts';
export { createStoreClient, EMBEDDED_ENGINE_ARGS } from './client-factory.ts';
