import { CAPTURE_MODES } from '@decisiontrail/core';
import { AUDIT_INPUT_CAPTURE_MODE_VALUES } from '@decisiontrail/semconv';
import { diag } from '@opentelemetry/api';
import { resolve } from 'node:path';
import { detectCodeCommit } from './code-commit.ts';
import { InstrumentationError } from './errors.ts';
import { decodeKeyMaterial, HmacHasher } from './privacy/hmac-hasher.ts';
import { FileKeyStore, type KeyStore } from './privacy/key-store.ts';
import { Redactor } from './privacy/redactor.ts';
import type {
  AuditConfig,
  CaptureMode,
  DecisionReference,
  ModelAuditConfig,
  RecordAdmission,
  RecordLossPolicy,
} from './types.ts';

/** {@link AuditConfig} with defaults and environment applied. */
export interface AuditSettings {
  /** Undefined when no HMAC key is configured: no hashes are recorded then. */
  hasher: HmacHasher | undefined;
  captureInput: CaptureMode;
  captureOutput: CaptureMode;
  redactor: Redactor;
  /** Created on first use so that configurations that never encrypt never touch the disk. */
  keyStore: () => KeyStore;
  models: Record<string, ModelAuditConfig>;
  defaultModel: ModelAuditConfig;
  onDecision: ((reference: DecisionReference) => void) | undefined;
  recordLossPolicy: RecordLossPolicy;
  recordAdmission: RecordAdmission | undefined;
}

const RECORD_LOSS_POLICIES: readonly RecordLossPolicy[] = ['fail-open', 'fail-closed'];

/** Environment variables read by {@link resolveAuditSettings}; documented in the README. */
export const ENVIRONMENT_VARIABLES = {
  hmacKey: 'DECISIONTRAIL_HMAC_KEY',
  hmacKeyId: 'DECISIONTRAIL_HMAC_KEY_ID',
  captureInput: 'DECISIONTRAIL_CAPTURE_INPUT',
  captureOutput: 'DECISIONTRAIL_CAPTURE_OUTPUT',
  keyStoreDir: 'DECISIONTRAIL_KEYSTORE_DIR',
  recordLossPolicy: 'DECISIONTRAIL_RECORD_LOSS_POLICY',
  captureMessageContent: 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
} as const;

/**
 * Applies defaults: explicit options win over DECISIONTRAIL_* variables, which win over
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT (`true` means `full` capture), which wins over `hash`.
 * Throws `INVALID_CONFIG` on a capture mode or record loss policy it does not know.
 */
export function resolveAuditSettings(
  config: AuditConfig = {},
  env: NodeJS.ProcessEnv = process.env,
): AuditSettings {
  const keyMaterial = config.hmacKey ?? nonEmpty(env[ENVIRONMENT_VARIABLES.hmacKey]);
  const hasher =
    keyMaterial === undefined
      ? undefined
      : new HmacHasher(
          decodeKeyMaterial(keyMaterial),
          config.hmacKeyId ?? nonEmpty(env[ENVIRONMENT_VARIABLES.hmacKeyId]),
        );
  const contentSwitch = nonEmpty(env[ENVIRONMENT_VARIABLES.captureMessageContent])?.toLowerCase();
  const fallbackMode: CaptureMode =
    contentSwitch === 'true' ? AUDIT_INPUT_CAPTURE_MODE_VALUES.FULL : AUDIT_INPUT_CAPTURE_MODE_VALUES.HASH;
  const captureInput = captureMode(
    config.captureInput ?? nonEmpty(env[ENVIRONMENT_VARIABLES.captureInput]) ?? fallbackMode,
  );
  const captureOutput = captureMode(
    config.captureOutput ?? nonEmpty(env[ENVIRONMENT_VARIABLES.captureOutput]) ?? fallbackMode,
  );
  let keyStore = config.keyStore;
  const keyStoreDir = nonEmpty(env[ENVIRONMENT_VARIABLES.keyStoreDir]) ?? './.decisiontrail/keys';
  return {
    hasher,
    captureInput,
    captureOutput,
    redactor: new Redactor(config.redactionRules),
    keyStore: () => (keyStore ??= new FileKeyStore(resolve(keyStoreDir))),
    models: config.models ?? {},
    defaultModel: withCodeCommit(
      config.defaultModel ?? {},
      config.codeCommit === undefined ? detectCodeCommit(env) : config.codeCommit || undefined,
    ),
    onDecision: config.onDecision,
    recordLossPolicy: recordLossPolicy(
      config.recordLossPolicy ?? nonEmpty(env[ENVIRONMENT_VARIABLES.recordLossPolicy]) ?? 'fail-open',
    ),
    recordAdmission: config.recordAdmission,
  };
}

/** The default model configuration with the process's code commit, unless it names its own. */
function withCodeCommit(model: ModelAuditConfig, codeCommit: string | undefined): ModelAuditConfig {
  if (codeCommit === undefined || model.provenance?.codeCommit !== undefined) return model;
  return { ...model, provenance: { ...model.provenance, codeCommit } };
}

function recordLossPolicy(value: string): RecordLossPolicy {
  if ((RECORD_LOSS_POLICIES as readonly string[]).includes(value)) return value as RecordLossPolicy;
  throw new InstrumentationError(
    'INVALID_CONFIG',
    `unknown record loss policy "${value}"; use one of ${RECORD_LOSS_POLICIES.join(', ')}`,
  );
}

function captureMode(value: string): CaptureMode {
  if ((CAPTURE_MODES as readonly string[]).includes(value)) return value as CaptureMode;
  throw new InstrumentationError(
    'INVALID_CONFIG',
    `unknown capture mode "${value}"; use one of ${CAPTURE_MODES.join(', ')}`,
  );
}

/** An environment variable's value, where an empty one counts as unset. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

let current: AuditSettings | undefined;
let warnedNoKey = false;

/**
 * Sets the configuration the manual API and every {@link AiAuditInstrumentation} without its own configuration use.
 * Call once at start-up; later calls replace it.
 */
export function configureAudit(config: AuditConfig = {}): void {
  current = resolveAuditSettings(config);
}

/** The process-wide settings, resolved from the environment on first use when {@link configureAudit} was not called. */
export function auditSettings(): AuditSettings {
  return (current ??= resolveAuditSettings());
}

/** Makes already resolved settings the process-wide ones (an instrumentation shares its configuration this way). */
export function replaceAuditSettings(settings: AuditSettings): void {
  current = settings;
}

/** Warns once per process that hashes are skipped; the decision is still recorded. */
export function warnNoHmacKey(): void {
  if (warnedNoKey) return;
  warnedNoKey = true;
  diag.warn(
    `@decisiontrail/instrumentation: no HMAC key (${ENVIRONMENT_VARIABLES.hmacKey}); inputs and outputs are recorded by size only`,
  );
}
