export {
  AiAuditInstrumentation,
  INSTRUMENTED_MODULES,
  LOADER_HOOK_SPECIFIERS,
  SUPPORTED_VERSIONS,
} from './instrumentation.ts';
export { AuditSampler } from './audit-sampler.ts';
export { configureAudit, ENVIRONMENT_VARIABLES } from './config.ts';
export { CODE_COMMIT_VARIABLES, detectCodeCommit } from './code-commit.ts';
export {
  getAuditContext,
  setAuditContext,
  withActor,
  withAuditContext,
  withFairnessGroup,
  withPurpose,
  withSession,
  withSubject,
} from './context.ts';
export {
  decision,
  decisionBatch,
  recordDeployment,
  recordFeedback,
  recordOversight,
} from './decision-api.ts';
export { formatDecisionReference, parseDecisionReference } from './decision-reference.ts';
export { withRequestingDecision } from './requested-actions.ts';
export type { AiSdkTelemetryIntegration } from './vercel-ai/telemetry-integration.ts';
export type { LangChainCallbackHandler } from './langchain/callback-handler.ts';
export { DecisionRefusedError, InstrumentationError } from './errors.ts';
export type { InstrumentationErrorCode } from './errors.ts';
export { FileKeyStore } from './privacy/key-store.ts';
export type { DataKey, KeyStore } from './privacy/key-store.ts';
export { decryptField, encryptForSubject, UNSCOPED_SUBJECT } from './privacy/subject-cipher.ts';
export type { EncryptedField } from './privacy/subject-cipher.ts';
export { Redactor } from './privacy/redactor.ts';
export { ONNX_METADATA_KEYS } from './onnx/inference-session.ts';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';
export type {
  ActorType,
  AiAuditInstrumentationConfig,
  AuditConfig,
  AuditContextValues,
  BatchDecisionOptions,
  CaptureMode,
  DecisionAutomation,
  DecisionHandle,
  DecisionOptions,
  DecisionReference,
  DecisionType,
  DeploymentOptions,
  FeedbackOptions,
  ModelAuditConfig,
  ModelProvenance,
  ModelType,
  OversightAction,
  OversightOptions,
  RecordAdmission,
  RecordLossPolicy,
  RedactionRule,
  RetentionClass,
  RiskLevel,
} from './types.ts';
export {
  applicationModuleLoader,
  otlpTraceExporterPackage,
  registerFromEnvironment,
  samplerFromEnvironment,
  START_SDK_VARIABLE,
} from './register-from-environment.ts';
export type {
  NodeSdkModule,
  OtlpTraceExporterModule,
  RegisterModuleLoader,
} from './register-from-environment.ts';
export { SIGNING_VARIABLES, signingFromEnvironment } from './zero-code-signing.ts';
export type { ZeroCodeSigning } from './zero-code-signing.ts';
