import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import { type Attributes, type Context, context, diag } from '@opentelemetry/api';
import { insideFrameworkDecision, markFrameworkDecision } from '../framework-decision.ts';
import { GenAiDecision, type GenAiRequest, type GenAiResult } from '../genai-decision.ts';
import type { JsonObject, ResourceMethod } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import { normalizeToolArguments, outputMessage, type OutputToolCall } from '../output-message.ts';
import type { PatchHost } from '../patched-create.ts';
import { refusalFor } from '../record-admission.ts';
import { runContext } from './run-spans.ts';

/** `this` of `BaseChatModel` methods, as far as they are read. */
interface ChatModelThis {
  getLsParams?: (options: unknown) => JsonObject;
  model?: unknown;
  modelName?: unknown;
}

/** A LangChain message (`BaseMessage`), as far as it is read. */
interface LangChainMessage {
  type?: unknown;
  _getType?: () => string;
  content?: unknown;
  tool_calls?: { id?: unknown; name?: unknown; args?: unknown }[];
  id?: unknown;
  usage_metadata?: { input_tokens?: unknown; output_tokens?: unknown };
  response_metadata?: JsonObject;
}

/**
 * `BaseChatModel.prototype._generateUncached` of `@langchain/core`: every non-streamed chat model call (`invoke`,
 * `generate`, agents' model steps) of every provider integration goes through it, after the cache. Each prompt of
 * the call is one decision; the call runs inside the first, marked as a framework decision, so the provider SDK
 * underneath (ChatOpenAI's `openai` client) is not recorded a second time and its HTTP span nests here. The
 * decision's parent is the chain or agent step that made the call when the callback handler traces it.
 */
export function patchGenerateUncached(host: PatchHost) {
  return (original: ResourceMethod): ResourceMethod =>
    function patchedGenerateUncached(this: unknown, ...args: unknown[]): unknown {
      const model = this as ChatModelThis;
      // A model without streaming streams by invoking: that call is the streamed decision already.
      if (!host.isEnabled() || insideFrameworkDecision()) return original.apply(this as never, args);
      const [prompts, parsedOptions, handledOptions] = args as [LangChainMessage[][], JsonObject, JsonObject];
      let decisions: GenAiDecision[];
      let callContext: Context;
      try {
        const request = describeChatModelCall(model, parsedOptions);
        const refusal = refusalFor(host.settings(), request.model);
        if (refusal) return Promise.reject(refusal);
        const parent = runContext(parentRunIdOf(handledOptions));
        decisions = (Array.isArray(prompts) ? prompts : []).map((messages) =>
          context.with(parent, () =>
            GenAiDecision.start(host.tracer(), host.settings(), {
              ...request,
              input: messagesForAudit(messages),
            }),
          ),
        );
        if (decisions.length === 0) return original.apply(this as never, args);
        callContext = markFrameworkDecision(decisions[0]!.context);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start a decision span', error);
        return original.apply(this as never, args);
      }
      const returned = context.with(callContext, () =>
        original.apply(this as never, args),
      ) as Promise<JsonObject>;
      returned.then(
        (result) => {
          const generations = Array.isArray(result?.['generations'])
            ? (result['generations'] as unknown[][])
            : [];
          decisions.forEach((decision, index) => {
            try {
              const generation = generations[index]?.[0] as { message?: LangChainMessage } | undefined;
              decision.end(resultOfMessage(generation?.message));
            } catch (error) {
              diag.error('@decisiontrail/instrumentation: could not record a LangChain result', error);
              decision.end({});
            }
          });
        },
        (error: unknown) => {
          for (const decision of decisions) decision.fail(error);
        },
      );
      return returned;
    };
}

/**
 * `BaseChatModel.prototype._streamIterator` (`stream()` of a chat model that streams): one decision, ended when the
 * stream completes, fails or its consumer stops; each step of the provider stream runs inside the decision.
 */
export function patchStreamIterator(host: PatchHost) {
  return (original: ResourceMethod): ResourceMethod =>
    function patchedStreamIterator(this: unknown, ...args: unknown[]): unknown {
      const model = this as ChatModelThis;
      if (!host.isEnabled() || insideFrameworkDecision()) return original.apply(this as never, args);
      const [input, options] = args as [unknown, JsonObject | undefined];
      let decision: GenAiDecision;
      try {
        const request = describeChatModelCall(model, options ?? {});
        const refusal = refusalFor(host.settings(), request.model);
        if (refusal) return refusedStream(refusal);
        const parent = runContext(parentRunIdOf(options ?? {}));
        decision = context.with(parent, () =>
          GenAiDecision.start(host.tracer(), host.settings(), {
            ...request,
            input: streamInputForAudit(input),
          }),
        );
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start a decision span', error);
        return original.apply(this as never, args);
      }
      const callContext = markFrameworkDecision(decision.context);
      const inner = context.with(callContext, () =>
        original.apply(this as never, args),
      ) as AsyncIterator<unknown>;
      return observeChunks(inner, callContext, decision);
    };
}

/** A stream whose first read rejects with the refusal: nothing was sent. */
function refusedStream(refusal: Error): AsyncIterableIterator<never> {
  return {
    next: () => Promise.reject(refusal),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Runs each step of `inner` in `ctx` (a generator body runs in its consumer's context otherwise). */
async function* observeChunks(
  inner: AsyncIterator<unknown>,
  ctx: Context,
  decision: GenAiDecision,
): AsyncGenerator<unknown> {
  const chunks: LangChainMessage[] = [];
  let settled = false;
  try {
    for (;;) {
      const next = await context.with(ctx, () => inner.next());
      if (next.done) break;
      chunks.push(next.value as LangChainMessage);
      yield next.value;
    }
    settled = true;
    decision.end(resultOfChunks(chunks));
  } catch (error) {
    settled = true;
    decision.fail(error);
    throw error;
  } finally {
    if (!settled) {
      decision.end(resultOfChunks(chunks));
      await context.with(ctx, () => inner.return?.());
    }
  }
}

/** The model and settings LangChain itself reports for tracing (`getLsParams`). */
function describeChatModelCall(model: ChatModelThis, options: JsonObject): Omit<GenAiRequest, 'input'> {
  const ls = model.getLsParams?.(options) ?? {};
  const requestAttributes: Attributes = {};
  if (typeof ls['ls_temperature'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = ls['ls_temperature'];
  if (typeof ls['ls_max_tokens'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = ls['ls_max_tokens'];
  return {
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: providerName(String(ls['ls_provider'] ?? 'langchain')),
    model: String(ls['ls_model_name'] ?? model.model ?? model.modelName ?? 'unknown'),
    baseUrl: undefined,
    requestAttributes,
  };
}

/** LangChain's `ls_provider` as a GenAI provider name. */
function providerName(provider: string): string {
  switch (provider) {
    case 'openai':
    case 'azure':
      return GEN_AI_PROVIDER_NAME_VALUES.OPENAI;
    case 'anthropic':
      return GEN_AI_PROVIDER_NAME_VALUES.ANTHROPIC;
    case 'google_genai':
      return GEN_AI_PROVIDER_NAME_VALUES.GCP_GEMINI;
    case 'google_vertexai':
      return GEN_AI_PROVIDER_NAME_VALUES.GCP_VERTEX_AI;
    case 'amazon_bedrock':
    case 'bedrock':
      return GEN_AI_PROVIDER_NAME_VALUES.AWS_BEDROCK;
    case 'mistralai':
    case 'mistral':
      return GEN_AI_PROVIDER_NAME_VALUES.MISTRAL_AI;
    default:
      return provider;
  }
}

/** The chain or agent step that made the call: the parent run of the model's callback manager. */
function parentRunIdOf(options: JsonObject): string | undefined {
  const callbacks = options['callbacks'] as { getParentRunId?: () => unknown } | undefined;
  const runId = typeof callbacks?.getParentRunId === 'function' ? callbacks.getParentRunId() : undefined;
  return typeof runId === 'string' ? runId : undefined;
}

function roleOf(message: LangChainMessage): string {
  const type = typeof message._getType === 'function' ? message._getType() : message.type;
  return String(type ?? 'unknown');
}

/** Messages in a provider-neutral form (LangChain's own serialization carries class names and ids). */
function messagesForAudit(messages: LangChainMessage[]): unknown {
  return messages.map((message) => ({ role: roleOf(message), content: message.content }));
}

function streamInputForAudit(input: unknown): unknown {
  if (typeof input === 'string') return input;
  const messages = (input as { toChatMessages?: () => LangChainMessage[] } | undefined)?.toChatMessages?.();
  if (messages) return messagesForAudit(messages);
  return Array.isArray(input) ? messagesForAudit(input as LangChainMessage[]) : input;
}

/** The text of message content: a string, or the text blocks of a content array. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content as JsonObject[])
    if (block?.['type'] === 'text' && typeof block['text'] === 'string') text += block['text'];
  return text;
}

function resultOfMessage(message: LangChainMessage | undefined): GenAiResult {
  if (!message) return {};
  const toolCalls: OutputToolCall[] = (message.tool_calls ?? []).map((call) => ({
    id: String(call.id ?? ''),
    name: String(call.name ?? ''),
    arguments: normalizeToolArguments(call.args),
  }));
  const metadata = message.response_metadata ?? {};
  const finishReason = stringOrUndefined(metadata['finish_reason'] ?? metadata['stop_reason']);
  return {
    responseId: stringOrUndefined(message.id) ?? stringOrUndefined(metadata['id']),
    responseModel: stringOrUndefined(metadata['model_name'] ?? metadata['model']),
    finishReasons: finishReason === undefined ? [] : [finishReason],
    inputTokens: numberOrUndefined(message.usage_metadata?.input_tokens),
    outputTokens: numberOrUndefined(message.usage_metadata?.output_tokens),
    output: [outputMessage(contentText(message.content), toolCalls)],
  };
}

/** Streamed `AIMessageChunk`s folded the way LangChain concatenates them (text, tool calls, last metadata). */
function resultOfChunks(chunks: LangChainMessage[]): GenAiResult {
  let text = '';
  const toolCalls: { id?: unknown; name?: unknown; args?: unknown }[] = [];
  let responseMetadata: JsonObject = {};
  let usage: LangChainMessage['usage_metadata'];
  let id: unknown;
  for (const chunk of chunks) {
    text += contentText(chunk.content);
    if (Array.isArray(chunk.tool_calls)) toolCalls.push(...chunk.tool_calls.filter((call) => call.name));
    if (chunk.response_metadata && Object.keys(chunk.response_metadata).length > 0)
      responseMetadata = { ...responseMetadata, ...chunk.response_metadata };
    usage = chunk.usage_metadata ?? usage;
    id ??= chunk.id;
  }
  return resultOfMessage({
    content: text,
    tool_calls: toolCalls,
    id,
    usage_metadata: usage,
    response_metadata: responseMetadata,
  });
}
