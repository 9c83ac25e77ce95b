// The public surface of @decisiontrail/processor.
export { startProcessor, SERVE_FILE } from './processor.ts';
export type { ProcessorHandle, StartProcessorOptions } from './processor.ts';
export { CONFIG_ENV_OVERRIDES, SCOPES, defaultConfig, loadConfig, parseConfig } from './config.ts';
export type {
  AuthConfig,
  BearerTokenSource,
  ClientCertificateRule,
  ReceiverTlsConfig,
  Scope,
  CaptureMode,
  DecisionTrailConfig,
  KeysConfig,
  ParseConfigOptions,
  ProcessorConfig,
  StorageConfig,
  WitnessConfig,
  WitnessesConfig,
} from './config.ts';
export { WitnessSubmitter } from './witness-submitter.ts';
export type { WitnessStore, WitnessSubmitterOptions } from './witness-submitter.ts';
export { loadBearerTokens } from './credentials.ts';
export type { LoadedToken } from './credentials.ts';
export { ConfigError, OtlpDecodeError, ProcessorError } from './errors.ts';
export type { ConfigIssue, ProcessorErrorCode } from './errors.ts';
export { decodeJsonRequest } from './otlp-decoder.ts';
export { decodeProtobufRequest } from './otlp-protobuf-decoder.ts';
export type { DecodedRequest } from './otlp-decoder.ts';
export { ProcessorMetrics } from './metrics.ts';
export { openAuditStore, auditStoreFrom } from './audit-store.ts';
export type { AuditStore } from './audit-store.ts';
export { spanRecordToReadableSpan } from './otlp-forward-sink.ts';
