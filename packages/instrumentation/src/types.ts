import type {
  AUDIT_ACTOR_TYPE_VALUES,
  AUDIT_DECISION_AUTOMATION_VALUES,
  AUDIT_DECISION_RISK_LEVEL_VALUES,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  AUDIT_OVERSIGHT_ACTION_VALUES,
  AUDIT_RETENTION_CLASS_VALUES,
} from '@decisiontrail/semconv';
import type { CaptureMode } from '@decisiontrail/core';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { KeyStore } from './privacy/key-store.ts';

type ValueOf<T> = T[keyof T];

/** EU AI Act risk tier of a decision (`audit.decision.risk_level`). */
export type RiskLevel = ValueOf<typeof AUDIT_DECISION_RISK_LEVEL_VALUES>;
/** Kind of decision (`audit.decision.type`). */
export type DecisionType = ValueOf<typeof AUDIT_DECISION_TYPE_VALUES>;
/** Degree of human involvement (`audit.decision.automation`). */
export type DecisionAutomation = ValueOf<typeof AUDIT_DECISION_AUTOMATION_VALUES>;
/** Kind of model (`audit.model.type`). */
export type ModelType = ValueOf<typeof AUDIT_MODEL_TYPE_VALUES>;
/** Human oversight action (`audit.oversight.action`). */
export type OversightAction = ValueOf<typeof AUDIT_OVERSIGHT_ACTION_VALUES>;
/** Kind of actor (`audit.actor.type`). */
export type ActorType = ValueOf<typeof AUDIT_ACTOR_TYPE_VALUES>;
/** Retention class (`audit.retention.class`). */
export type RetentionClass = ValueOf<typeof AUDIT_RETENTION_CLASS_VALUES>;

// How a field is recorded: the capture mode of decisiontrail.yaml, defined once in @decisiontrail/core.
export type { CaptureMode } from '@decisiontrail/core';

/** Audit facts about one model, looked up by model id (an LLM's request model name, an ONNX model's id). */
export interface ModelAuditConfig {
  /** Overrides the recorded model id. @default the request model name or the ONNX metadata `model_id` */
  modelId?: string;
  /** Model version. @default the response model (LLMs) or the ONNX metadata `model_version` */
  version?: string;
  /** @default 'generation' for LLMs, 'classification' for ONNX models, 'other' for decision() */
  decisionType?: DecisionType;
  /** Risk tier under the EU AI Act. */
  riskLevel?: RiskLevel;
  /** Why decisions with this model are made (purpose limitation, GDPR Art. 5(1)(b)). */
  purpose?: string;
  /** @default 'automated' */
  automation?: DecisionAutomation;
  /** Retention class of the records. */
  retentionClass?: RetentionClass;
  /** ONNX only: output tensor holding class probabilities. @default the first output whose name contains "prob" */
  probabilityOutput?: string;
  /** ONNX only: class labels, index-aligned with the probability tensor, used as the outcome. */
  labels?: string[];
  /**
   * Numeric input features recorded on every decision (`audit.input.features`) for input drift monitoring, by name:
   * properties of a `decision()` input object, or columns of an ONNX model's single input row as its `features`
   * metadata names them. Recorded whatever the capture mode: list only non-identifying features (an income band,
   * a ratio, a count), never an identifier or anything that singles a person out.
   */
  driftFeatures?: string[];
  /** What an investigator needs to reproduce the model's decisions; recorded on every decision span. */
  provenance?: ModelProvenance;
}

/**
 * Where a model and its decisions come from (`audit.model.*`): enough to rebuild the exact artefact and re-run
 * a decision (NIST AI RMF MEASURE 2.9, EU AI Act Annex IV).
 */
export interface ModelProvenance {
  /** Hash of the model weights, e.g. `sha256:…` of the model file. */
  weightsHash?: string;
  /** Hash of the model's configuration (thresholds, preprocessing, prompt template). */
  configHash?: string;
  /** The training data set. */
  trainingDataset?: { id?: string; version?: string; hash?: string };
  /**
   * The commit of the code that calls the model.
   * @default from a CI variable (GITHUB_SHA, CI_COMMIT_SHA, …) or the git checkout the process runs in, else none
   */
  codeCommit?: string;
  /** Seed of a stochastic inference. */
  inferenceSeed?: number;
  /** Inference parameters (temperature, threshold…), recorded as JSON with sorted keys. */
  inferenceParameters?: Readonly<Record<string, string | number | boolean | null>>;
}

/** A custom redaction rule, applied after the built-in ones. */
export interface RedactionRule {
  /** Label written into the replacement, e.g. `customer-number` gives `[REDACTED:customer-number]`. */
  name: string;
  /** Pattern to replace; the global flag is added when missing. */
  pattern: RegExp;
}

/**
 * What happens to a decision when its audit record cannot be kept (spool full, record pipeline down past its
 * bounds).
 * - `fail-open`: the decision proceeds; its record is dropped, counted, and accounted for by a signed gap record in
 *   its stream (see the signing exporter's `DurableSpanProcessor`).
 * - `fail-closed`: the decision is refused before its model runs, with a {@link DecisionRefusedError}; for
 *   deployments whose policy is "no unlogged decision". Needs a {@link RecordAdmission} to ask.
 */
export type RecordLossPolicy = 'fail-open' | 'fail-closed';

/**
 * Answers, before a model runs, whether the audit record of a decision made now would be kept. The signing
 * exporter's `DurableSpanProcessor` is one (`canAccept()` is false while its spool is full or after shutdown).
 */
export interface RecordAdmission {
  /**
   * True when `records` audit records ended now would be kept (1 for a decision; a batch call asks once for its
   * rows and its batch span). Called once per decision or batch under `fail-closed`: keep it cheap.
   */
  canAccept(records?: number): boolean;
}

/** Configuration shared by the automatic instrumentation and the manual API. Every field is optional. */
export interface AuditConfig {
  /**
   * The code commit recorded on every decision (`audit.model.code_commit`) unless a model's provenance names its
   * own; `false` records none.
   * @default detected: a CI variable (GITHUB_SHA, CI_COMMIT_SHA, …), else the git checkout the process runs in
   */
  codeCommit?: string | false;
  /**
   * HMAC-SHA-256 secret for `audit.*.hash`. Without a key no hash is recorded (a bare hash of low-entropy data
   * could be reversed by guessing): the field falls back to its size only and one warning goes to `diag`.
   * @default process.env.DECISIONTRAIL_HMAC_KEY (base64, hex or plain text)
   */
  hmacKey?: string | Uint8Array;
  /** Identifier of the HMAC key recorded next to every hash. @default DECISIONTRAIL_HMAC_KEY_ID, else `hk-` + the first 16 hex digits of SHA-256(key) */
  hmacKeyId?: string;
  /** Capture mode of inputs. @default DECISIONTRAIL_CAPTURE_INPUT, else `full` when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, else `hash` */
  captureInput?: CaptureMode;
  /** Capture mode of outputs. @default DECISIONTRAIL_CAPTURE_OUTPUT, else as for inputs */
  captureOutput?: CaptureMode;
  /** Extra redaction rules for `redact` mode. */
  redactionRules?: RedactionRule[];
  /** Keystore for `encrypt` mode. @default a {@link FileKeyStore} in DECISIONTRAIL_KEYSTORE_DIR or `./.decisiontrail/keys` */
  keyStore?: KeyStore;
  /** Per-model audit facts keyed by model id. */
  models?: Record<string, ModelAuditConfig>;
  /** Applied to models missing from `models`. */
  defaultModel?: ModelAuditConfig;
  /** Called (fail-open) with the reference of every decision the instrumentation records. */
  onDecision?: (reference: DecisionReference) => void;
  /**
   * What happens to a decision whose audit record cannot be kept; see {@link RecordLossPolicy}. Under either policy
   * no error ever reaches the caller after its model ran, and recording oversight, feedback or deployments never
   * throws for lack of room (those records are dropped and accounted for).
   * @default DECISIONTRAIL_RECORD_LOSS_POLICY, else `fail-open`
   */
  recordLossPolicy?: RecordLossPolicy;
  /**
   * Asked before each decision, under `fail-closed`, whether its record can be kept — typically the
   * `DurableSpanProcessor` given to the tracer provider. Without one, `fail-closed` cannot know in advance: decisions
   * proceed (as under `fail-open`) and one warning goes to `diag`.
   * @default none
   */
  recordAdmission?: RecordAdmission;
}

/** Configuration of {@link AiAuditInstrumentation}. */
export interface AiAuditInstrumentationConfig extends InstrumentationConfig, AuditConfig {}

/**
 * A serializable pointer to a recorded decision, enough to link oversight, feedback or incidents to it from another
 * process days later. Plain JSON; see `formatDecisionReference` / `parseDecisionReference` for a string form.
 */
export interface DecisionReference {
  /** `audit.decision.id` (UUIDv7). */
  decisionId: string;
  /** Trace id of the decision span (32 lowercase hex). */
  traceId: string;
  /** Span id of the decision span (16 lowercase hex). */
  spanId: string;
  /** W3C trace flags of the decision span. */
  traceFlags: number;
  /**
   * `audit.model.id` of the decision, captured when it was made. Oversight and feedback spans repeat it, so the
   * store can count them per model without joining back to the decision. Absent in references from older versions.
   */
  modelId?: string;
  /** `audit.model.version` of the decision, when known; see {@link DecisionReference.modelId}. */
  modelVersion?: string;
}

/** Who and what a decision concerns; propagated through the active OpenTelemetry context. */
export interface AuditContextValues {
  /** Pseudonymous data subject the decision is about (`audit.subject.id`). */
  subjectId?: string;
  /** Acting user or service (`audit.actor.id`). */
  actorId?: string;
  /** @default 'user' when actorId is set */
  actorType?: ActorType;
  /** Session (`session.id`). */
  sessionId?: string;
  /** Purpose of processing; overrides the per-model purpose (`audit.decision.purpose`). */
  purpose?: string;
  /** Group used for fairness monitoring (`audit.fairness.group`). */
  fairnessGroup?: string;
}

/** Options of {@link decision}. */
export interface DecisionOptions extends ModelAuditConfig {
  /** Model id (`audit.model.id`). Required: a decision without a model cannot be audited. */
  modelId: string;
  /** Model type. @default 'other' */
  modelType?: ModelType;
  /** The input the model decided on; recorded under the input capture mode. */
  input?: unknown;
  /** Extra attributes to set on the span; they cannot replace the audit attributes decision() sets. */
  attributes?: Record<string, string | number | boolean | string[]>;
  /** Overrides the configured input capture mode for this decision. */
  captureInput?: CaptureMode;
  /** Overrides the configured output capture mode for this decision. */
  captureOutput?: CaptureMode;
}

/** Options of `decisionBatch()`: those of `decision()`, with one input per row instead of one input. */
export interface BatchDecisionOptions extends Omit<DecisionOptions, 'input'> {
  /** One input per row, in row order; each is recorded on its row's decision under the input capture mode. */
  inputs: readonly unknown[];
}

/** The handle `decision()` passes to its callback. */
export interface DecisionHandle {
  /** The serializable reference of this decision. */
  readonly reference: DecisionReference;
  /** Sets `audit.decision.outcome`. */
  setOutcome(outcome: string): void;
  /** Sets `audit.decision.confidence` (0..1). */
  setConfidence(confidence: number): void;
  /** Sets `audit.decision.explanation`. */
  setExplanation(explanation: string): void;
  /** Records the output under the output capture mode. */
  setOutput(output: unknown): void;
}

/** Options of {@link recordOversight}. */
export interface OversightOptions {
  decision: DecisionReference;
  action: OversightAction;
  reviewer: string;
  reason?: string;
  newOutcome?: string;
}

/** Options of {@link recordFeedback}. */
export interface FeedbackOptions {
  decision: DecisionReference;
  correct: boolean;
  actualOutcome?: string;
  /** Where the ground truth came from (`audit.feedback.source`). */
  source?: string;
}

/** Options of {@link recordDeployment}. */
export interface DeploymentOptions {
  modelId: string;
  version: string;
  previousVersion?: string;
  environment?: string;
  changelog?: string;
  /**
   * Hash of the deployed model's weights (e.g. `sha256:…` of the model file), so the report and the timeline can
   * tell which artefact went live (`audit.model.weights_hash`).
   */
  weightsHash?: string;
  /** Hash of the deployed model's configuration (thresholds, preprocessing, prompt template) (`audit.model.config_hash`). */
  configHash?: string;
  /** @default a fresh UUIDv7 */
  deploymentId?: string;
}
