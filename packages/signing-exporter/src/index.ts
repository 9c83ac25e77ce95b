// The producer side: the SDK span processor and exporter that sign each audit span into a
// stream, and the durable spool between them and the network. The model they write — span
// record, canonical form, Merkle log, checkpoints, verifiers — lives in @decisiontrail/core.
export { hrTimeToNanosString, spanRecordFromReadableSpan } from './readable-span-record.ts';
export { checkpointAttributes, integrityAttributes } from './integrity-attributes.ts';
export { SigningSpanExporter } from './signing-span-exporter.ts';
export type { SigningSpanExporterOptions } from './signing-span-exporter.ts';
export { DurableSpanProcessor } from './durable-span-processor.ts';
export type { DurableSpanProcessorOptions, DurableSpanProcessorStats } from './durable-span-processor.ts';
export { SPOOL_DROPPED_METRIC } from './spool-drop-metrics.ts';
// What a user of the exporter needs beside it — keys, the witness file, the record type and the
// verifier of what it wrote — is the model's own API, re-exported from @decisiontrail/core.
export {
  DEFAULT_KEY_NAME,
  DEFAULT_WITNESS_PATH,
  FileCheckpointWitness,
  SigningError,
  WITNESS_FILE_NAME,
  exportPublicKey,
  generateSigningKey,
  generateSigningKeyFile,
  loadSigningKey,
  loadVerifierKey,
  rotateSigningKeyFile,
  verifySpans,
} from '@decisiontrail/core';
export type {
  CheckpointWitness,
  SigningErrorCode,
  SigningKey,
  SpanRecord,
  VerificationReport,
} from '@decisiontrail/core';
