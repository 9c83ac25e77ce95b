// decisiontrail.yaml has one description, the schema in @decisiontrail/core; serve reads it through these
// re-exports, which keep this package's public configuration API where its users import it.
export { CONFIG_ENV_OVERRIDES, SCOPES, defaultConfig, loadConfig, parseConfig } from '@decisiontrail/core';
export type {
  AuthConfig,
  BearerTokenSource,
  CaptureMode,
  ClientCertificateRule,
  DecisionTrailConfig,
  KeysConfig,
  ParseConfigOptions,
  ProcessorConfig,
  ReceiverTlsConfig,
  Scope,
  StorageConfig,
  WitnessConfig,
  WitnessesConfig,
} from '@decisiontrail/core';
