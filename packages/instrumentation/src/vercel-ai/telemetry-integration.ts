import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import { type Attributes, context, diag } from '@opentelemetry/api';
import { markFrameworkDecision } from '../framework-decision.ts';
import { GenAiDecision, type GenAiRequest, type GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import { normalizeToolArguments, outputMessage, type OutputToolCall } from '../output-message.ts';
import type { PatchHost } from '../patched-create.ts';
import { refusalFor } from '../record-admission.ts';
import { ToolAction } from '../tool-action.ts';

/** An AI SDK tool is a function the agent calls in-process: GenAI semconv's `function` tool type. */
const AI_SDK_TOOL_TYPE = 'function';

/** The part of the AI SDK's `Telemetry` integration interface this package implements. */
export interface AiSdkTelemetryIntegration {
  executeLanguageModelCall<T>(options: JsonObject & { execute: () => PromiseLike<T> }): Promise<T>;
  executeTool<T>(options: JsonObject & { execute: () => PromiseLike<T> }): Promise<T>;
  onToolExecutionEnd(event: JsonObject): void;
  onObjectStepStart(event: JsonObject): void;
  onObjectStepEnd(event: JsonObject): void;
  onError(event: unknown): void;
  onEnd(event: JsonObject): void;
  onAbort(event: JsonObject): void;
}

/**
 * Records the model calls of the Vercel AI SDK (`ai` 7) as decisions, through its own telemetry integration
 * interface (`registerTelemetry`) rather than by patching:
 *
 * - `generateText` / `streamText` (every step of a tool loop, and agents built on them) run each provider call
 *   through `executeLanguageModelCall`: the decision span is started there, the provider request runs inside it
 *   (its HTTP span nests under the decision, and an instrumented provider SDK underneath is not recorded again),
 *   and under `fail-closed` the call is refused before the model runs.
 * - `generateObject` / `streamObject` announce their single model call with `onObjectStepStart` /
 *   `onObjectStepEnd` only; the decision spans that pair of notifications (the provider request does not nest, and
 *   a fail-closed refusal is not possible there). A call that fails instead of ending is closed by the operation's
 *   `onError` / `onEnd` / `onAbort`.
 *
 * Tool runs (`executeTool`) are `execute_tool {tool}` actions tied to the decision whose tool call they answer by
 * the model's tool-call id; the tool runs inside the action span, which `onToolExecutionEnd` ends with the tool's
 * output.
 *
 * Decisions are keyed by the SDK's `callId`, tool runs by the tool-call id.
 */
export function aiSdkTelemetryIntegration(host: PatchHost): AiSdkTelemetryIntegration {
  const open = new Map<string, GenAiDecision>();
  const tools = new Map<string, ToolAction>();
  const start = (event: JsonObject): GenAiDecision | undefined => {
    if (!host.isEnabled()) return undefined;
    try {
      return GenAiDecision.start(host.tracer(), host.settings(), describeCall(event));
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: could not start a decision span', error);
      return undefined;
    }
  };
  const closeOpen = (error: unknown) => {
    for (const [callId, decision] of open) {
      if (error === undefined) decision.end({});
      else decision.fail(error);
      open.delete(callId);
    }
  };
  return {
    async executeLanguageModelCall<T>(options: JsonObject & { execute: () => PromiseLike<T> }): Promise<T> {
      const { execute, ...event } = options;
      if (!host.isEnabled()) return execute();
      const refusal = refusalFor(host.settings(), String(event['modelId']));
      if (refusal) throw refusal;
      const decision = start(event);
      if (!decision) return execute();
      let result: T;
      try {
        result = await context.with(markFrameworkDecision(decision.context), execute);
      } catch (error) {
        decision.fail(error);
        throw error;
      }
      try {
        return observeCallResult(result, decision);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record an AI SDK response', error);
        decision.end({});
        return result;
      }
    },
    async executeTool<T>(options: JsonObject & { execute: () => PromiseLike<T> }): Promise<T> {
      const { execute, ...event } = options;
      if (!host.isEnabled()) return execute();
      let action: ToolAction;
      const toolCall = (event['toolCall'] ?? {}) as JsonObject;
      const toolCallId = String(event['toolCallId'] ?? toolCall['toolCallId'] ?? '');
      try {
        action = ToolAction.start(host.tracer(), host.settings(), {
          toolName: String(toolCall['toolName'] ?? 'tool'),
          toolType: AI_SDK_TOOL_TYPE,
          arguments: toolCall['input'],
          toolCallId,
        });
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start a tool action span', error);
        return execute();
      }
      tools.set(toolCallId, action);
      try {
        return await context.with(action.context, execute);
      } catch (error) {
        tools.delete(toolCallId);
        action.fail(error);
        throw error;
      }
    },
    onToolExecutionEnd(event) {
      const toolCall = (event['toolCall'] ?? {}) as JsonObject;
      const toolCallId = String(toolCall['toolCallId'] ?? '');
      const action = tools.get(toolCallId);
      if (!action) return;
      tools.delete(toolCallId);
      const output = (event['toolOutput'] ?? {}) as JsonObject;
      if (output['type'] === 'tool-error') action.fail(output['error']);
      else action.end(output['output'], false);
    },
    onObjectStepStart(event) {
      const decision = start(event);
      if (decision) open.set(String(event['callId']), decision);
    },
    onObjectStepEnd(event) {
      const callId = String(event['callId']);
      const decision = open.get(callId);
      if (!decision) return;
      open.delete(callId);
      decision.end(objectStepResult(event));
    },
    // The operation failed, ended or was aborted: a generateObject call that never reached onObjectStepEnd ends
    // here (generateText / streamText decisions never wait on these).
    onError(event) {
      closeOpen((event as JsonObject | undefined)?.['error'] ?? event);
    },
    onEnd() {
      closeOpen(undefined);
    },
    onAbort() {
      closeOpen(undefined);
    },
  };
}

/** The request of one model call, from the SDK's start event (standardized prompt and call settings). */
function describeCall(event: JsonObject): GenAiRequest {
  const requestAttributes: Attributes = {};
  if (typeof event['temperature'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = event['temperature'];
  if (typeof event['maxOutputTokens'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = event['maxOutputTokens'];
  if (typeof event['seed'] === 'number') requestAttributes[ATTR_GEN_AI_REQUEST_SEED] = event['seed'];
  const instructions = event['instructions'] ?? event['system'];
  const messages = event['messages'] ?? event['promptMessages'];
  return {
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: providerName(String(event['provider'] ?? '')),
    model: String(event['modelId']),
    baseUrl: undefined,
    requestAttributes,
    input: instructions === undefined ? messages : { instructions, messages },
  };
}

/** The GenAI provider name of an AI SDK provider id (`openai.chat`, `google.vertex.chat`, `amazon-bedrock`, ...). */
function providerName(provider: string): string {
  if (provider.startsWith('openai')) return GEN_AI_PROVIDER_NAME_VALUES.OPENAI;
  if (provider.startsWith('anthropic')) return GEN_AI_PROVIDER_NAME_VALUES.ANTHROPIC;
  if (provider.startsWith('google.vertex')) return GEN_AI_PROVIDER_NAME_VALUES.GCP_VERTEX_AI;
  if (provider.startsWith('google')) return GEN_AI_PROVIDER_NAME_VALUES.GCP_GEMINI;
  if (provider.startsWith('amazon-bedrock')) return GEN_AI_PROVIDER_NAME_VALUES.AWS_BEDROCK;
  if (provider.startsWith('mistral')) return GEN_AI_PROVIDER_NAME_VALUES.MISTRAL_AI;
  return provider.split('.')[0] || 'unknown';
}

/** A provider's finish reason: `{ unified, raw }` (provider spec v3/v4) or a plain string. */
function finishReasonOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const raw = (value as JsonObject | undefined)?.['raw'];
  const unified = (value as JsonObject | undefined)?.['unified'];
  return stringOrUndefined(raw) ?? stringOrUndefined(unified);
}

/** Token counts: `{ total }` objects (provider spec v3/v4) or plain numbers. */
function tokensOf(value: unknown): number | undefined {
  return numberOrUndefined(value) ?? numberOrUndefined((value as JsonObject | undefined)?.['total']);
}

/** Folds provider content parts (`text`, `tool-call`) or stream parts (`text-delta`, `tool-call`) into one message. */
class ModelOutput {
  #text = '';
  readonly #toolCalls: OutputToolCall[] = [];
  responseId: string | undefined;
  responseModel: string | undefined;
  finishReason: string | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;

  addPart(part: JsonObject): void {
    switch (part['type']) {
      case 'text':
        if (typeof part['text'] === 'string') this.#text += part['text'];
        break;
      case 'text-delta':
        if (typeof part['delta'] === 'string') this.#text += part['delta'];
        break;
      case 'tool-call':
        this.#toolCalls.push({
          id: String(part['toolCallId'] ?? ''),
          name: String(part['toolName'] ?? ''),
          arguments: normalizeToolArguments(part['input']),
        });
        break;
      case 'response-metadata':
        this.responseId = stringOrUndefined(part['id']) ?? this.responseId;
        this.responseModel = stringOrUndefined(part['modelId']) ?? this.responseModel;
        break;
      case 'finish':
        this.finish(part['finishReason'], part['usage']);
        break;
    }
  }

  finish(finishReason: unknown, usage: unknown): void {
    this.finishReason = finishReasonOf(finishReason) ?? this.finishReason;
    const counts = usage as JsonObject | undefined;
    this.inputTokens = tokensOf(counts?.['inputTokens']) ?? this.inputTokens;
    this.outputTokens = tokensOf(counts?.['outputTokens']) ?? this.outputTokens;
  }

  result(): GenAiResult {
    return {
      responseId: this.responseId,
      responseModel: this.responseModel,
      finishReasons: this.finishReason === undefined ? [] : [this.finishReason],
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      output: [outputMessage(this.#text, this.#toolCalls)],
    };
  }
}

/**
 * Ends the decision from a `doGenerate` result, or, for a `doStream` result, hands back the result with its stream
 * piped through an observer that ends the decision when the stream finishes, fails or is cancelled.
 */
function observeCallResult<T>(result: T, decision: GenAiDecision): T {
  const value = result as JsonObject;
  const stream = value?.['stream'];
  if (stream instanceof ReadableStream) {
    const output = new ModelOutput();
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error === undefined) decision.end(output.result());
      else decision.fail(error);
    };
    const observed = stream.pipeThrough(
      new TransformStream<unknown, unknown>({
        transform(part, controller) {
          try {
            const chunk = part as JsonObject;
            if (chunk?.['type'] === 'error') end(chunk['error']);
            else output.addPart(chunk);
          } catch (error) {
            diag.error('@decisiontrail/instrumentation: could not observe an AI SDK stream part', error);
          }
          controller.enqueue(part);
        },
        flush() {
          end();
        },
        // The consumer stopped early: record what arrived.
        cancel() {
          end();
        },
      }),
    );
    return { ...value, stream: observed } as T;
  }
  const output = new ModelOutput();
  const content = Array.isArray(value?.['content']) ? (value['content'] as JsonObject[]) : [];
  for (const part of content) output.addPart(part);
  const response = value?.['response'] as JsonObject | undefined;
  output.responseId = stringOrUndefined(response?.['id']);
  output.responseModel = stringOrUndefined(response?.['modelId']);
  output.finish(value?.['finishReason'], value?.['usage']);
  decision.end(output.result());
  return result;
}

/** The result of a generateObject / streamObject call: the object's JSON text is the output message. */
function objectStepResult(event: JsonObject): GenAiResult {
  const output = new ModelOutput();
  output.addPart({ type: 'text', text: String(event['objectText'] ?? '') });
  const response = event['response'] as JsonObject | undefined;
  output.responseId = stringOrUndefined(response?.['id']);
  output.responseModel = stringOrUndefined(response?.['modelId']);
  output.finish(event['finishReason'], event['usage']);
  return output.result();
}
