import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DEPLOYMENT_CHANGELOG,
  ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT,
  ATTR_AUDIT_DEPLOYMENT_ID,
  ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION,
  ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME,
  ATTR_AUDIT_FEEDBACK_CORRECT,
  ATTR_AUDIT_FEEDBACK_SOURCE,
  ATTR_AUDIT_MODEL_CONFIG_HASH,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  ATTR_AUDIT_OVERSIGHT_ACTION,
  ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME,
  ATTR_AUDIT_OVERSIGHT_REASON,
  ATTR_AUDIT_OVERSIGHT_REVIEWER,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  AUDIT_OVERSIGHT_ACTION_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_DECISION,
  SPAN_NAME_AUDIT_DEPLOYMENT,
  SPAN_NAME_AUDIT_FEEDBACK,
  SPAN_NAME_AUDIT_OVERSIGHT,
} from '@decisiontrail/semconv';
import { type Attributes, context, diag, type Link, type Span, SpanKind, trace } from '@opentelemetry/api';
import {
  addContextAttributes,
  addDecisionStartAttributes,
  attributeString,
  modelConfigFor,
  recordField,
  referenceOf,
} from './audit-attributes.ts';
import { type AuditSettings, auditSettings } from './config.ts';
import { getAuditContext } from './context.ts';
import { parseDecisionReference } from './decision-reference.ts';
import { recordDriftFeatures } from './drift-features.ts';
import { InstrumentationError } from './errors.ts';
import { BatchDecision } from './batch-decision.ts';
import { SpanDecisionHandle } from './decision-handle.ts';
import { refusalFor } from './record-admission.ts';
import { endSpan, recordSpanError } from './span-errors.ts';
import type {
  BatchDecisionOptions,
  DecisionHandle,
  DecisionOptions,
  DecisionReference,
  DeploymentOptions,
  FeedbackOptions,
  ModelAuditConfig,
  OversightOptions,
} from './types.ts';
import { uuidv7 } from './uuidv7.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

// Looked up per call: the global tracer provider may be installed or replaced after this module loads.
function tracer() {
  return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
}

const EMPTY_REFERENCE: DecisionReference = {
  decisionId: '00000000-0000-7000-8000-000000000000',
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: 0,
};

/**
 * Records a decision made by any model as an `audit.decision {modelId}` span. `fn` runs inside the span (AI calls
 * it makes become children) and receives a handle to set outcome, confidence, explanation and output. Returns what
 * `fn` returns; a thrown error or rejected promise is recorded on the span and passed on unchanged. Failures of the
 * recording itself (including a record the span processor cannot keep) go to `diag` and never reach `fn` or its
 * result. Under `recordLossPolicy: 'fail-closed'`, throws a {@link DecisionRefusedError} — synchronously, before
 * `fn` is called — when the configured `recordAdmission` says the record cannot be kept.
 */
export function decision<T>(options: DecisionOptions, fn: (handle: DecisionHandle) => T): T {
  let span: Span | undefined;
  let handle: DecisionHandle = NOOP_HANDLE;
  let subjectId: string | undefined;
  let settings: AuditSettings | undefined;
  try {
    settings = auditSettings();
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: decision() could not read its settings', error);
  }
  const refusal = refusalFor(settings, options.modelId);
  if (refusal) throw refusal;
  if (!settings) return fn(handle);
  try {
    const parent = context.active();
    const auditContext = getAuditContext(parent);
    subjectId = auditContext.subjectId;
    // Caller attributes first, so they can add to the audit attributes but never replace them.
    const attributes: Attributes = { ...options.attributes };
    const modelConfig = { ...modelConfigFor(settings, options.modelId), ...modelFieldsOf(options) };
    const decisionId = addDecisionStartAttributes(
      attributes,
      {
        modelId: options.modelId,
        modelType: options.modelType ?? AUDIT_MODEL_TYPE_VALUES.OTHER,
        version: options.version,
        defaultDecisionType: AUDIT_DECISION_TYPE_VALUES.OTHER,
      },
      modelConfig,
      auditContext,
    );
    if (options.input !== undefined) {
      recordField(
        attributes,
        'input',
        options.input,
        options.captureInput ?? settings.captureInput,
        settings,
        subjectId,
      );
      recordDriftFeatures(attributes, modelConfig, options.input);
    }
    span = tracer().startSpan(
      `${SPAN_NAME_AUDIT_DECISION} ${modelConfig.modelId ?? options.modelId}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent,
    );
    handle = new SpanDecisionHandle(
      span,
      referenceOf(span, decisionId, {
        modelId: attributeString(attributes[ATTR_AUDIT_MODEL_ID]),
        modelVersion: attributeString(attributes[ATTR_AUDIT_MODEL_VERSION]),
      }),
      settings,
      options.captureOutput ?? settings.captureOutput,
      subjectId,
    );
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: decision() could not start its span', error);
  }
  if (!span) return fn(handle);
  const active = span;
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), active), () => fn(handle));
  } catch (error) {
    endWithError(active, error);
    throw error;
  }
  if (isPromiseLike(result)) {
    // Both handlers never throw, so this side branch can never become an unhandled rejection.
    result.then(
      () => endSpan(active),
      (error: unknown) => endWithError(active, error),
    );
  } else {
    endSpan(active);
  }
  return result;
}

/**
 * Records one call that decides on several rows at once (a batch scoring job, a model fed many rows) as an
 * `audit.batch {modelId}` span with one `audit.decision {modelId}` child per row: each row has its own decision id,
 * `audit.batch.index` and input (`options.inputs[i]`), so it is found, reviewed and counted like a single decision.
 * `fn` runs inside the batch span and receives one handle per row, in row order, to set each row's outcome,
 * confidence, explanation and output. Returns what `fn` returns; a thrown error or rejected promise is recorded on
 * the batch span and every row and passed on unchanged. Fail-open and fail-closed exactly as {@link decision};
 * throws `INVALID_CONFIG` (before `fn` runs) when `options.inputs` is not an array.
 */
export function decisionBatch<T>(
  options: BatchDecisionOptions,
  fn: (rows: readonly DecisionHandle[]) => T,
): T {
  if (!Array.isArray(options.inputs)) {
    throw new InstrumentationError(
      'INVALID_CONFIG',
      'decisionBatch() needs options.inputs: one input per row',
    );
  }
  let settings: AuditSettings | undefined;
  try {
    settings = auditSettings();
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: decisionBatch() could not read its settings', error);
  }
  // One record per row and one for the call.
  const refusal = refusalFor(settings, options.modelId, options.inputs.length + 1);
  if (refusal) throw refusal;
  let batch: BatchDecision | undefined;
  if (settings) {
    try {
      const shared: Attributes = { ...options.attributes };
      batch = BatchDecision.start(tracer(), settings, {
        model: {
          modelId: options.modelId,
          modelType: options.modelType ?? AUDIT_MODEL_TYPE_VALUES.OTHER,
          version: options.version,
          defaultDecisionType: AUDIT_DECISION_TYPE_VALUES.OTHER,
        },
        modelConfig: { ...modelConfigFor(settings, options.modelId), ...modelFieldsOf(options) },
        rowInputs: options.inputs,
        callInput: options.inputs,
        captureInput: options.captureInput ?? settings.captureInput,
        captureOutput: options.captureOutput ?? settings.captureOutput,
        shared,
      });
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: decisionBatch() could not start its spans', error);
    }
  }
  if (!batch) return fn(options.inputs.map(() => NOOP_HANDLE));
  const active = batch;
  let result: T;
  try {
    result = context.with(active.context, () => fn(active.rows));
  } catch (error) {
    active.fail(error);
    throw error;
  }
  if (isPromiseLike(result)) {
    // Both handlers never throw, so this side branch can never become an unhandled rejection.
    result.then(
      () => active.end(),
      (error: unknown) => active.fail(error),
    );
  } else {
    active.end();
  }
  return result;
}

// Handed to fn when the span could not be started, so application code never sees the failure.
const NOOP_HANDLE: DecisionHandle = {
  reference: EMPTY_REFERENCE,
  setOutcome: () => undefined,
  setConfidence: () => undefined,
  setExplanation: () => undefined,
  setOutput: () => undefined,
};

/**
 * Records human oversight of a decision (review, approve, override, reject, escalate) as an `audit.oversight` span
 * linked to the decision span. Works in any process that has the decision's reference.
 * Throws `INVALID_DECISION_REFERENCE` or `INVALID_CONFIG` on bad arguments, never for a record that cannot be
 * kept (that is dropped and accounted for by the span processor, under either policy).
 */
export function recordOversight(options: OversightOptions): void {
  const reference = parseDecisionReference(options.decision);
  if (!(Object.values(AUDIT_OVERSIGHT_ACTION_VALUES) as string[]).includes(options.action)) {
    throw new InstrumentationError('INVALID_CONFIG', `unknown oversight action "${options.action}"`);
  }
  const attributes: Attributes = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.OVERSIGHT,
    [ATTR_AUDIT_DECISION_ID]: reference.decisionId,
    [ATTR_AUDIT_OVERSIGHT_ACTION]: options.action,
    [ATTR_AUDIT_OVERSIGHT_REVIEWER]: options.reviewer,
  };
  if (options.reason !== undefined) attributes[ATTR_AUDIT_OVERSIGHT_REASON] = options.reason;
  if (options.newOutcome !== undefined) attributes[ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME] = options.newOutcome;
  recordLinkedSpan(SPAN_NAME_AUDIT_OVERSIGHT, attributes, reference);
}

/**
 * Records ground truth for a decision as an `audit.feedback` span linked to the decision span. Throws only on bad
 * arguments, as {@link recordOversight}.
 */
export function recordFeedback(options: FeedbackOptions): void {
  const reference = parseDecisionReference(options.decision);
  const attributes: Attributes = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.FEEDBACK,
    [ATTR_AUDIT_DECISION_ID]: reference.decisionId,
    [ATTR_AUDIT_FEEDBACK_CORRECT]: options.correct,
  };
  if (options.actualOutcome !== undefined)
    attributes[ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME] = options.actualOutcome;
  if (options.source !== undefined) attributes[ATTR_AUDIT_FEEDBACK_SOURCE] = options.source;
  recordLinkedSpan(SPAN_NAME_AUDIT_FEEDBACK, attributes, reference);
}

/**
 * Records a model deployment (a new version going live) as an `audit.deployment` span; returns the deployment id.
 * Never throws: a failure to record goes to `diag`.
 */
export function recordDeployment(options: DeploymentOptions): string {
  const deploymentId = options.deploymentId ?? uuidv7();
  const attributes: Attributes = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DEPLOYMENT,
    [ATTR_AUDIT_DEPLOYMENT_ID]: deploymentId,
    [ATTR_AUDIT_MODEL_ID]: options.modelId,
    [ATTR_AUDIT_MODEL_VERSION]: options.version,
  };
  if (options.previousVersion !== undefined)
    attributes[ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION] = options.previousVersion;
  if (options.environment !== undefined) attributes[ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT] = options.environment;
  if (options.changelog !== undefined) attributes[ATTR_AUDIT_DEPLOYMENT_CHANGELOG] = options.changelog;
  if (options.weightsHash !== undefined) attributes[ATTR_AUDIT_MODEL_WEIGHTS_HASH] = options.weightsHash;
  if (options.configHash !== undefined) attributes[ATTR_AUDIT_MODEL_CONFIG_HASH] = options.configHash;
  startAndEnd(SPAN_NAME_AUDIT_DEPLOYMENT, attributes, []);
  return deploymentId;
}

function recordLinkedSpan(name: string, attributes: Attributes, reference: DecisionReference): void {
  // The decided model, so the store counts oversight and feedback per model without a join to the decision.
  if (reference.modelId !== undefined) attributes[ATTR_AUDIT_MODEL_ID] = reference.modelId;
  if (reference.modelVersion !== undefined) attributes[ATTR_AUDIT_MODEL_VERSION] = reference.modelVersion;
  const link: Link = {
    context: {
      traceId: reference.traceId,
      spanId: reference.spanId,
      traceFlags: reference.traceFlags,
      isRemote: true,
    },
    attributes: { [ATTR_AUDIT_DECISION_ID]: reference.decisionId },
  };
  startAndEnd(name, attributes, [link]);
}

// Fail-open like the automatic instrumentation: a record that cannot be made or kept never breaks the caller.
function startAndEnd(name: string, attributes: Attributes, links: Link[]): void {
  let span: Span;
  try {
    addContextAttributes(attributes, getAuditContext());
    span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes, links });
  } catch (error) {
    diag.error(`@decisiontrail/instrumentation: could not start an ${name} span`, error);
    return;
  }
  endSpan(span);
}

function endWithError(span: Span, error: unknown): void {
  recordSpanError(span, error);
  endSpan(span);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

const MODEL_FIELDS = [
  'version',
  'decisionType',
  'riskLevel',
  'purpose',
  'automation',
  'retentionClass',
] as const;

// Options given to decision() override the configured per-model facts; unset ones must not erase them.
function modelFieldsOf(options: DecisionOptions): ModelAuditConfig {
  const fields: Record<string, unknown> = {};
  for (const key of MODEL_FIELDS) if (options[key] !== undefined) fields[key] = options[key];
  return fields as ModelAuditConfig;
}
