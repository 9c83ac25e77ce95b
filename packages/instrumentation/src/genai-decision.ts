import {
  ATTR_AUDIT_ACTION_REQUESTED_TOOLS,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_INPUT_CAPTURE_MODE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import {
  type Attributes,
  type Context,
  context,
  diag,
  type Span,
  SpanKind,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import {
  addDecisionContextAttributes,
  addModelAttributes,
  attributeString,
  modelConfigFor,
  recordField,
  referenceOf,
  type ReferenceModel,
} from './audit-attributes.ts';
import type { AuditSettings } from './config.ts';
import { getAuditContext } from './context.ts';
import type { OutputMessage, OutputToolCall } from './output-message.ts';
import { requestedActions } from './requested-actions.ts';
import { endSpan, recordSpanError } from './span-errors.ts';
import type { DecisionType, ModelType } from './types.ts';
import { uuidv7 } from './uuidv7.ts';

/** What an instrumented LLM request says before it is sent. */
export interface GenAiRequest {
  operation: string;
  provider: string;
  model: string;
  modelType?: ModelType;
  /** @default 'generation' */
  decisionType?: DecisionType;
  baseUrl: string | undefined;
  /** gen_ai.request.* attributes. */
  requestAttributes: Attributes;
  /** The input recorded under the input capture mode. */
  input: unknown;
}

/** What the response (or the assembled stream) yielded. */
export interface GenAiResult {
  responseModel?: string;
  responseId?: string;
  finishReasons?: string[];
  inputTokens?: number;
  outputTokens?: number;
  /** The output recorded under the output capture mode. */
  output?: unknown;
  /** Mean token probability when the caller asked for logprobs. */
  confidence?: number;
}

/**
 * The span of one LLM call recorded as a decision: GenAI attributes and name, plus `audit.*`. Every method is
 * fail-open; `end` / `fail` run once.
 */
export class GenAiDecision {
  readonly span: Span;
  /** The context to run the SDK call in, so HTTP spans nest under the decision. */
  readonly context: Context;
  readonly #settings: AuditSettings;
  readonly #decisionId: string;
  readonly #subjectId: string | undefined;
  readonly #versionConfigured: boolean;
  readonly #modelId: string | undefined;
  #modelVersion: string | undefined;
  #ended = false;
  /** Whether the end set `audit.output.capture_mode` (with the output, or `none` without one). */
  #outputModeSet = false;

  private constructor(
    span: Span,
    ctx: Context,
    settings: AuditSettings,
    decisionId: string,
    subjectId: string | undefined,
    model: ReferenceModel,
  ) {
    this.span = span;
    this.context = ctx;
    this.#settings = settings;
    this.#decisionId = decisionId;
    this.#subjectId = subjectId;
    this.#versionConfigured = model.modelVersion !== undefined;
    this.#modelId = model.modelId;
    this.#modelVersion = model.modelVersion;
  }

  /** Starts the span; throws only on internal failure, which the caller reports and then calls the SDK untouched. */
  static start(tracer: Tracer, settings: AuditSettings, request: GenAiRequest): GenAiDecision {
    const parent = context.active();
    const auditContext = getAuditContext(parent);
    const model = modelAttributesFor(settings, request);
    // What a sampler decides on goes in at the start; the SDK checks start attributes twice (for the sampler and
    // for the span), everything else once through setAttributes, and only on a span that records.
    const span = tracer.startSpan(
      model.spanName,
      { kind: SpanKind.CLIENT, attributes: model.sampling },
      parent,
    );
    const decisionId = uuidv7();
    if (span.isRecording()) {
      span.setAttributes(model.decision);
      const attributes: Attributes = { ...request.requestAttributes };
      attributes[ATTR_AUDIT_DECISION_ID] = decisionId;
      addDecisionContextAttributes(attributes, auditContext);
      recordField(
        attributes,
        'input',
        request.input,
        settings.captureInput,
        settings,
        auditContext.subjectId,
        ATTR_GEN_AI_INPUT_MESSAGES,
      );
      span.setAttributes(attributes);
    }
    return new GenAiDecision(
      span,
      trace.setSpan(parent, span),
      settings,
      decisionId,
      auditContext.subjectId,
      model.reference,
    );
  }

  /** Records the result and ends the span. */
  end(result: GenAiResult): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      // The dated snapshot the provider answered with is the most precise model version an LLM call yields.
      const answeredVersion = !this.#versionConfigured ? result.responseModel : undefined;
      if (answeredVersion !== undefined) this.#modelVersion = answeredVersion;
      const toolCalls = requestedToolCalls(result.output);
      if (toolCalls.length > 0) {
        requestedActions.add(this.#decisionId, this.span.spanContext(), toolCalls, this.#subjectId);
      }
      if (this.span.isRecording()) {
        this.span.setAttributes(this.#resultAttributes(result, answeredVersion, toolCalls));
        this.#outputModeSet = true;
      }
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: could not record an AI response', error);
    }
    this.#finish();
  }

  #resultAttributes(
    result: GenAiResult,
    answeredVersion: string | undefined,
    toolCalls: readonly OutputToolCall[],
  ): Attributes {
    const attributes: Attributes = {};
    if (result.responseModel !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = result.responseModel;
    if (answeredVersion !== undefined) attributes[ATTR_AUDIT_MODEL_VERSION] = answeredVersion;
    if (result.responseId !== undefined) attributes[ATTR_GEN_AI_RESPONSE_ID] = result.responseId;
    if (result.finishReasons !== undefined && result.finishReasons.length > 0) {
      attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = result.finishReasons;
      // A generation's outcome is a short label, its finish reason (semconv audit.decision.outcome);
      // the content itself is the output. Several choices: their distinct reasons, in order.
      attributes[ATTR_AUDIT_DECISION_OUTCOME] =
        result.finishReasons.length === 1
          ? result.finishReasons[0]!
          : [...new Set(result.finishReasons)].join(',');
    }
    if (result.inputTokens !== undefined) attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = result.inputTokens;
    if (result.outputTokens !== undefined) attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = result.outputTokens;
    if (result.confidence !== undefined && Number.isFinite(result.confidence)) {
      attributes[ATTR_AUDIT_DECISION_CONFIDENCE] = result.confidence;
    }
    if (toolCalls.length > 0) {
      attributes[ATTR_AUDIT_ACTION_REQUESTED_TOOLS] = toolCalls.map((call) => call.name);
    }
    if (result.output !== undefined) {
      recordField(
        attributes,
        'output',
        result.output,
        this.#settings.captureOutput,
        this.#settings,
        this.#subjectId,
        ATTR_GEN_AI_OUTPUT_MESSAGES,
      );
    } else {
      attributes[ATTR_AUDIT_OUTPUT_CAPTURE_MODE] = AUDIT_INPUT_CAPTURE_MODE_VALUES.NONE;
    }
    return attributes;
  }

  /** Records the error and ends the span. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    recordSpanError(this.span, error);
    this.#finish();
  }

  #finish(): void {
    // Required on every decision: set once, at the end — with the output when one was recorded, else `none` here
    // (a failed call, or a result that could not be read).
    if (!this.#outputModeSet) {
      try {
        this.span.setAttribute(ATTR_AUDIT_OUTPUT_CAPTURE_MODE, AUDIT_INPUT_CAPTURE_MODE_VALUES.NONE);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record the output capture mode', error);
      }
    }
    endSpan(this.span);
    const onDecision = this.#settings.onDecision;
    if (onDecision) {
      try {
        onDecision(
          referenceOf(this.span, this.#decisionId, {
            modelId: this.#modelId,
            modelVersion: this.#modelVersion,
          }),
        );
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: onDecision hook failed', error);
      }
    }
  }
}

/** The tool calls in an LLM output (a list of {@link OutputMessage}), in order. */
function requestedToolCalls(output: unknown): readonly OutputToolCall[] {
  if (!Array.isArray(output)) return NO_TOOL_CALLS;
  let calls: OutputToolCall[] | undefined;
  for (const message of output as Partial<OutputMessage>[]) {
    if (Array.isArray(message?.tool_calls)) (calls ??= []).push(...message.tool_calls);
  }
  return calls ?? NO_TOOL_CALLS;
}
const NO_TOOL_CALLS: readonly OutputToolCall[] = [];

/**
 * What every decision of one model through one client shares, worked out once: the span name, the attributes a
 * sampler sees at span start (the GenAI request attributes the conventions mark as relevant to sampling, and
 * `audit.record.type`), the model's `audit.*` attributes, and the model as references name it.
 */
interface ModelAttributes {
  readonly operation: string;
  readonly provider: string;
  readonly baseUrl: string | undefined;
  readonly modelType: ModelType;
  readonly decisionType: DecisionType;
  readonly spanName: string;
  readonly sampling: Readonly<Attributes>;
  readonly decision: Readonly<Attributes>;
  readonly reference: ReferenceModel;
}

// Per settings (a reconfiguration starts afresh), per requested model. Model names come from callers: beyond this
// many the attributes are worked out per call instead of remembered.
const MODELS_REMEMBERED = 256;
const modelAttributesBySettings = new WeakMap<AuditSettings, Map<string, ModelAttributes[]>>();

/** The shared attributes of `request`'s model, from the cache when they were worked out before. */
export function modelAttributesFor(settings: AuditSettings, request: GenAiRequest): ModelAttributes {
  const modelType = request.modelType ?? AUDIT_MODEL_TYPE_VALUES.LLM;
  const decisionType = request.decisionType ?? AUDIT_DECISION_TYPE_VALUES.GENERATION;
  let byModel = modelAttributesBySettings.get(settings);
  if (!byModel) {
    byModel = new Map();
    modelAttributesBySettings.set(settings, byModel);
  }
  const known = byModel.get(request.model);
  if (known) {
    for (const entry of known) {
      if (
        entry.operation === request.operation &&
        entry.provider === request.provider &&
        entry.baseUrl === request.baseUrl &&
        entry.modelType === modelType &&
        entry.decisionType === decisionType
      ) {
        return entry;
      }
    }
  }
  const entry = buildModelAttributes(settings, request, modelType, decisionType);
  if (known) {
    if (known.length < 8) known.push(entry);
  } else if (byModel.size < MODELS_REMEMBERED) {
    byModel.set(request.model, [entry]);
  }
  return entry;
}

function buildModelAttributes(
  settings: AuditSettings,
  request: GenAiRequest,
  modelType: ModelType,
  decisionType: DecisionType,
): ModelAttributes {
  const sampling: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: request.operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: request.model,
  };
  addServerAttributes(sampling, request.baseUrl);
  sampling[ATTR_AUDIT_RECORD_TYPE] = AUDIT_RECORD_TYPE_VALUES.DECISION;
  const decision: Attributes = {};
  addModelAttributes(
    decision,
    { modelId: request.model, modelType, version: undefined, defaultDecisionType: decisionType },
    modelConfigFor(settings, request.model),
  );
  // audit.output.capture_mode, required on every decision, is set once at the end (GenAiDecision#finish); the
  // input's when the input is recorded at start.
  // Shared by every call: frozen, so a tracer that kept and changed an attribute map could not alter the next record.
  return {
    operation: request.operation,
    provider: request.provider,
    baseUrl: request.baseUrl,
    modelType,
    decisionType,
    spanName: `${request.operation} ${request.model}`,
    sampling: Object.freeze(sampling),
    decision: Object.freeze(decision),
    reference: {
      modelId: attributeString(decision[ATTR_AUDIT_MODEL_ID]),
      modelVersion: attributeString(decision[ATTR_AUDIT_MODEL_VERSION]),
    },
  };
}

/** `server.address` and `server.port` of a client's base URL (parsed once per model, with its other attributes). */
function addServerAttributes(attributes: Attributes, baseUrl: string | undefined): void {
  if (!baseUrl) return;
  try {
    const url = new URL(baseUrl);
    attributes[ATTR_SERVER_ADDRESS] = url.hostname;
    attributes[ATTR_SERVER_PORT] =
      url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  } catch {
    // A base URL that does not parse is the SDK's problem to report; the span simply goes without server.*.
  }
}
