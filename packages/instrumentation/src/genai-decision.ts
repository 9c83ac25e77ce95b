import {
  ATTR_AUDIT_ACTION_REQUESTED_TOOLS,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
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
  AUDIT_MODEL_TYPE_VALUES,
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
  addDecisionStartAttributes,
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
    const attributes: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: request.operation,
      [ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
      [ATTR_GEN_AI_REQUEST_MODEL]: request.model,
      ...request.requestAttributes,
    };
    addServerAttributes(attributes, request.baseUrl);
    const modelConfig = modelConfigFor(settings, request.model);
    const decisionId = addDecisionStartAttributes(
      attributes,
      {
        modelId: request.model,
        modelType: request.modelType ?? AUDIT_MODEL_TYPE_VALUES.LLM,
        version: undefined,
        defaultDecisionType: request.decisionType ?? AUDIT_DECISION_TYPE_VALUES.GENERATION,
      },
      modelConfig,
      auditContext,
    );
    recordField(
      attributes,
      'input',
      request.input,
      settings.captureInput,
      settings,
      auditContext.subjectId,
      ATTR_GEN_AI_INPUT_MESSAGES,
    );
    const span = tracer.startSpan(
      `${request.operation} ${request.model}`,
      { kind: SpanKind.CLIENT, attributes },
      parent,
    );
    return new GenAiDecision(
      span,
      trace.setSpan(parent, span),
      settings,
      decisionId,
      auditContext.subjectId,
      {
        modelId: attributeString(attributes[ATTR_AUDIT_MODEL_ID]),
        modelVersion: attributeString(attributes[ATTR_AUDIT_MODEL_VERSION]),
      },
    );
  }

  /** Records the result and ends the span. */
  end(result: GenAiResult): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      const attributes: Attributes = {};
      if (result.responseModel !== undefined) {
        attributes[ATTR_GEN_AI_RESPONSE_MODEL] = result.responseModel;
        // The dated snapshot the provider answered with is the most precise model version an LLM call yields.
        if (!this.#versionConfigured) {
          attributes[ATTR_AUDIT_MODEL_VERSION] = result.responseModel;
          this.#modelVersion = result.responseModel;
        }
      }
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
      if (result.outputTokens !== undefined)
        attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = result.outputTokens;
      if (result.confidence !== undefined && Number.isFinite(result.confidence)) {
        attributes[ATTR_AUDIT_DECISION_CONFIDENCE] = result.confidence;
      }
      const toolCalls = requestedToolCalls(result.output);
      if (toolCalls.length > 0) {
        attributes[ATTR_AUDIT_ACTION_REQUESTED_TOOLS] = toolCalls.map((call) => call.name);
        requestedActions.add(this.#decisionId, this.span.spanContext(), toolCalls, this.#subjectId);
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
      }
      this.span.setAttributes(attributes);
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: could not record an AI response', error);
    }
    this.#finish();
  }

  /** Records the error and ends the span. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    recordSpanError(this.span, error);
    this.#finish();
  }

  #finish(): void {
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
function requestedToolCalls(output: unknown): OutputToolCall[] {
  if (!Array.isArray(output)) return [];
  const calls: OutputToolCall[] = [];
  for (const message of output as Partial<OutputMessage>[]) {
    if (Array.isArray(message?.tool_calls)) calls.push(...message.tool_calls);
  }
  return calls;
}

// A client keeps one base URL for its lifetime: parse each once rather than on every call.
const serverAttributesByUrl = new Map<string, Attributes>();

function addServerAttributes(attributes: Attributes, baseUrl: string | undefined): void {
  if (!baseUrl) return;
  let server = serverAttributesByUrl.get(baseUrl);
  if (!server) {
    server = {};
    try {
      const url = new URL(baseUrl);
      server[ATTR_SERVER_ADDRESS] = url.hostname;
      server[ATTR_SERVER_PORT] = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    } catch {
      // A base URL that does not parse is the SDK's problem to report; the span simply goes without server.*.
    }
    if (serverAttributesByUrl.size < 64) serverAttributesByUrl.set(baseUrl, server);
  }
  Object.assign(attributes, server);
}
