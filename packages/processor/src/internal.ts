// Internals for this package's tests, benchmarks and sibling packages' tests; not a stable API.
export { anyValueAsString } from './any-value.ts';
export { WriteAheadLog } from './write-ahead-log.ts';
export type { WalEntry, WriteAheadLogOptions } from './write-ahead-log.ts';
export {
  ExportTraceServiceRequestType,
  ExportTraceServiceResponseType,
  RpcStatusType,
} from './otlp-proto-schema.ts';
export { PolicyStage, REDACTED_VALUE } from './policy-stage.ts';
export { annotateCompleteness } from './completeness-check.ts';
export { parseQueryParameters } from './query-parameters.ts';
export type { StoreQueryName } from './query-parameters.ts';
export { StreamIntegrityChecker } from './integrity-checker.ts';
export { SpanWorker } from './span-worker.ts';
export type { SpanWorkerInit } from './span-worker.ts';
export { BODY_ENCODING } from './otlp-receiver.ts';
export { POLICY_APPLIED_ENCODING } from './policy-applied-entry.ts';
export { checkProtobufRequest, uint64Decimal } from './otlp-protobuf-decoder.ts';
export { BearerTokenSet } from './credentials.ts';
export { HttpAccess, hostHeaderName, servedHostNames } from './http-access.ts';
export { AuditPipeline } from './audit-pipeline.ts';
export { BatchPreparer } from './batch-preparer.ts';
export { QueueDrainer } from './queue-drainer.ts';
