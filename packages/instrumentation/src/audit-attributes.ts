import {
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_ACTOR_TYPE,
  ATTR_AUDIT_DECISION_AUTOMATION,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_PURPOSE,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_DECISION_TYPE,
  ATTR_AUDIT_FAIRNESS_GROUP,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_CIPHERTEXT,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_INPUT_SIZE,
  ATTR_AUDIT_MODEL_CODE_COMMIT,
  ATTR_AUDIT_MODEL_CONFIG_HASH,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS,
  ATTR_AUDIT_MODEL_INFERENCE_SEED,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_ID,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  ATTR_AUDIT_OUTPUT_CIPHERTEXT,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OUTPUT_HASH_KEY_ID,
  ATTR_AUDIT_OUTPUT_SIZE,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_AUDIT_RETENTION_CLASS,
  ATTR_AUDIT_SUBJECT_ID,
  ATTR_SESSION_ID,
  AUDIT_ACTOR_TYPE_VALUES,
  AUDIT_DECISION_AUTOMATION_VALUES,
  AUDIT_INPUT_CAPTURE_MODE_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { type Attributes, diag, type Span } from '@opentelemetry/api';
import { type AuditSettings, warnNoHmacKey } from './config.ts';
import { auditText, auditTextBytes } from './audit-text.ts';
import { encryptForSubject } from './privacy/subject-cipher.ts';
import type {
  AuditContextValues,
  CaptureMode,
  DecisionReference,
  DecisionType,
  ModelAuditConfig,
  ModelProvenance,
  ModelType,
} from './types.ts';
import { uuidv7 } from './uuidv7.ts';

// Input and output share one enum; the input constant names it.
const CAPTURE = AUDIT_INPUT_CAPTURE_MODE_VALUES;

/** What the start of a decision span needs to know about the model. */
export interface DecisionModel {
  modelId: string;
  modelType: ModelType;
  /** Known before the call only when configured; LLM instrumentation fills it from the response otherwise. */
  version: string | undefined;
  defaultDecisionType: DecisionType;
}

/** The per-model configuration in force for `modelId`. */
export function modelConfigFor(settings: AuditSettings, modelId: string): ModelAuditConfig {
  const specific = settings.models[modelId];
  if (!specific) return settings.defaultModel;
  // Provenance merges field by field: a model naming its weights keeps the process's code commit.
  const provenance = { ...settings.defaultModel.provenance, ...specific.provenance };
  return { ...settings.defaultModel, ...specific, provenance };
}

/**
 * Adds the `audit.*` start attributes of a decision span to `attributes`, including `audit.record.type` (the
 * AuditSampler and the store key on it, so it must be present at span start) and a fresh decision id.
 * Returns the decision id.
 */
export function addDecisionStartAttributes(
  attributes: Attributes,
  model: DecisionModel,
  modelConfig: ModelAuditConfig,
  auditContext: AuditContextValues,
): string {
  const decisionId = uuidv7();
  addModelAttributes(attributes, model, modelConfig);
  // Both capture modes are required on every decision; `none` stands until a field is actually recorded.
  attributes[ATTR_AUDIT_INPUT_CAPTURE_MODE] = CAPTURE.NONE;
  attributes[ATTR_AUDIT_OUTPUT_CAPTURE_MODE] = CAPTURE.NONE;
  attributes[ATTR_AUDIT_DECISION_ID] = decisionId;
  addDecisionContextAttributes(attributes, auditContext);
  return decisionId;
}

/**
 * The start attributes every decision of one model shares: record type, decision type and automation, the model
 * and its configured version, risk level, purpose, retention and provenance.
 * The purpose of the audit context, when set, replaces the configured one ({@link addDecisionContextAttributes}).
 */
export function addModelAttributes(
  attributes: Attributes,
  model: DecisionModel,
  modelConfig: ModelAuditConfig,
): void {
  attributes[ATTR_AUDIT_RECORD_TYPE] = AUDIT_RECORD_TYPE_VALUES.DECISION;
  attributes[ATTR_AUDIT_DECISION_TYPE] = modelConfig.decisionType ?? model.defaultDecisionType;
  attributes[ATTR_AUDIT_DECISION_AUTOMATION] =
    modelConfig.automation ?? AUDIT_DECISION_AUTOMATION_VALUES.AUTOMATED;
  attributes[ATTR_AUDIT_MODEL_ID] = modelConfig.modelId ?? model.modelId;
  attributes[ATTR_AUDIT_MODEL_TYPE] = model.modelType;
  const version = modelConfig.version ?? model.version;
  if (version !== undefined) attributes[ATTR_AUDIT_MODEL_VERSION] = version;
  if (modelConfig.riskLevel !== undefined) attributes[ATTR_AUDIT_DECISION_RISK_LEVEL] = modelConfig.riskLevel;
  if (modelConfig.purpose !== undefined) attributes[ATTR_AUDIT_DECISION_PURPOSE] = modelConfig.purpose;
  if (modelConfig.retentionClass !== undefined)
    attributes[ATTR_AUDIT_RETENTION_CLASS] = modelConfig.retentionClass;
  addProvenanceAttributes(attributes, modelConfig.provenance);
}

/** The `audit.model.*` provenance a model's configuration names (weights, config, training data, code, inference). */
function addProvenanceAttributes(attributes: Attributes, provenance: ModelProvenance | undefined): void {
  if (provenance === undefined) return;
  const set = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') attributes[key] = value;
  };
  set(ATTR_AUDIT_MODEL_WEIGHTS_HASH, provenance.weightsHash);
  set(ATTR_AUDIT_MODEL_CONFIG_HASH, provenance.configHash);
  set(ATTR_AUDIT_MODEL_TRAINING_DATASET_ID, provenance.trainingDataset?.id);
  set(ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION, provenance.trainingDataset?.version);
  set(ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH, provenance.trainingDataset?.hash);
  set(ATTR_AUDIT_MODEL_CODE_COMMIT, provenance.codeCommit);
  if (provenance.inferenceSeed !== undefined && Number.isSafeInteger(provenance.inferenceSeed)) {
    attributes[ATTR_AUDIT_MODEL_INFERENCE_SEED] = provenance.inferenceSeed;
  }
  const parameters = provenance.inferenceParameters;
  if (parameters !== undefined) {
    const sorted = Object.fromEntries(
      Object.keys(parameters)
        .sort()
        .map((key) => [key, parameters[key]]),
    );
    attributes[ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS] = JSON.stringify(sorted);
  }
}

/**
 * What a decision takes from the audit context: its purpose (over the configured one) and the attributes of
 * {@link addContextAttributes}.
 */
export function addDecisionContextAttributes(attributes: Attributes, auditContext: AuditContextValues): void {
  if (auditContext.purpose !== undefined) attributes[ATTR_AUDIT_DECISION_PURPOSE] = auditContext.purpose;
  addContextAttributes(attributes, auditContext);
}

/** Subject, actor, session and fairness group from the audit context. */
export function addContextAttributes(attributes: Attributes, auditContext: AuditContextValues): void {
  if (auditContext.subjectId !== undefined) attributes[ATTR_AUDIT_SUBJECT_ID] = auditContext.subjectId;
  if (auditContext.actorId !== undefined) {
    attributes[ATTR_AUDIT_ACTOR_ID] = auditContext.actorId;
    attributes[ATTR_AUDIT_ACTOR_TYPE] = auditContext.actorType ?? AUDIT_ACTOR_TYPE_VALUES.USER;
  }
  if (auditContext.sessionId !== undefined) attributes[ATTR_SESSION_ID] = auditContext.sessionId;
  if (auditContext.fairnessGroup !== undefined)
    attributes[ATTR_AUDIT_FAIRNESS_GROUP] = auditContext.fairnessGroup;
}

const FIELD_ATTRIBUTES = {
  input: {
    hash: ATTR_AUDIT_INPUT_HASH,
    hashKeyId: ATTR_AUDIT_INPUT_HASH_KEY_ID,
    size: ATTR_AUDIT_INPUT_SIZE,
    content: ATTR_AUDIT_INPUT_CONTENT,
    ciphertext: ATTR_AUDIT_INPUT_CIPHERTEXT,
    encryptionKeyId: ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID,
    captureMode: ATTR_AUDIT_INPUT_CAPTURE_MODE,
  },
  output: {
    hash: ATTR_AUDIT_OUTPUT_HASH,
    hashKeyId: ATTR_AUDIT_OUTPUT_HASH_KEY_ID,
    size: ATTR_AUDIT_OUTPUT_SIZE,
    content: ATTR_AUDIT_OUTPUT_CONTENT,
    ciphertext: ATTR_AUDIT_OUTPUT_CIPHERTEXT,
    encryptionKeyId: ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID,
    captureMode: ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  },
} as const;

/**
 * Records one field (`value`, serialized by {@link auditText}) under its capture mode. The HMAC is recorded in every
 * mode but `none` when a key is configured; plain text leaves the process only in `full` mode, and in `redact`
 * mode after redaction. `fullContentAttribute` names the GenAI attribute (`gen_ai.input.messages`) that also
 * carries `full` content of LLM calls.
 *
 * Never throws: when serializing, hashing or encrypting fails (an unreachable keystore, a circular value) the field
 * keeps capture mode `none` and the failure goes to `diag` — the decision itself is still recorded.
 */
export function recordField(
  target: Attributes,
  field: 'input' | 'output',
  value: unknown,
  mode: CaptureMode,
  settings: AuditSettings,
  subjectId: string | undefined,
  fullContentAttribute?: string,
): void {
  const names = FIELD_ATTRIBUTES[field];
  target[names.captureMode] = CAPTURE.NONE;
  try {
    const hasher = settings.hasher;
    if (mode === CAPTURE.NONE || mode === CAPTURE.HASH) {
      // The default modes, on every call, record no text: its bytes are measured and hashed without building it.
      const bytes = auditTextBytes(value);
      target[names.size] = bytes.length;
      if (mode === CAPTURE.NONE) return;
      if (!hasher) {
        warnNoHmacKey();
        return;
      }
      // The digest is the one step that can fail, and nothing of the capture is written before it.
      const digest = hasher.digest(bytes);
      target[names.hash] = digest;
      target[names.hashKeyId] = hasher.keyId;
      target[names.captureMode] = mode;
      return;
    }
    const text = auditText(value);
    target[names.size] = Buffer.byteLength(text, 'utf8');
    // Collected apart and merged at the end, so a failure half-way leaves no partial capture behind.
    const recorded: Attributes = {};
    if (hasher) {
      recorded[names.hash] = hasher.digest(text);
      recorded[names.hashKeyId] = hasher.keyId;
    }
    switch (mode) {
      case CAPTURE.REDACT:
        recorded[names.content] = settings.redactor.redact(text);
        break;
      case CAPTURE.FULL:
        // audit.*.content is what the completeness check and the store read; LLM spans carry the GenAI attribute too.
        recorded[names.content] = text;
        if (fullContentAttribute !== undefined) recorded[fullContentAttribute] = text;
        break;
      case CAPTURE.ENCRYPT: {
        const encrypted = encryptForSubject(settings.keyStore(), subjectId, text);
        recorded[names.ciphertext] = encrypted.ciphertext;
        recorded[names.encryptionKeyId] = encrypted.keyId;
        break;
      }
    }
    recorded[names.captureMode] = mode;
    Object.assign(target, recorded);
  } catch (error) {
    diag.error(
      `@decisiontrail/instrumentation: could not record the ${field} in ${mode} mode; recorded without it`,
      error,
    );
  }
}

/** An attribute value if it is a string. */
export function attributeString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The decided model as a reference carries it. */
export interface ReferenceModel {
  modelId: string | undefined;
  modelVersion: string | undefined;
}

/** The serializable reference of a decision span, with its model when known. */
export function referenceOf(span: Span, decisionId: string, model: ReferenceModel): DecisionReference {
  const { traceId, spanId, traceFlags } = span.spanContext();
  const reference: DecisionReference = { decisionId, traceId, spanId, traceFlags };
  if (model.modelId !== undefined) reference.modelId = model.modelId;
  if (model.modelVersion !== undefined) reference.modelVersion = model.modelVersion;
  return reference;
}
