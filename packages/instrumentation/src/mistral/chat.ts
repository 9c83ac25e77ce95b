import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import type { GenAiRequest, GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import {
  normalizeToolArguments,
  type OutputMessage,
  outputMessage,
  type OutputToolCall,
} from '../output-message.ts';
import type { CallRecogniser, CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';

// `@mistralai/mistralai` (Speakeasy-generated) takes and returns camelCase objects (`maxTokens`, `finishReason`,
// `toolCalls`, `promptTokens`); the wire format's snake_case never reaches the instrumentation.

function describeChat(params: JsonObject, baseUrl: string | undefined): GenAiRequest {
  const requestAttributes: Attributes = {};
  if (typeof params['temperature'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = params['temperature'];
  if (typeof params['maxTokens'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = params['maxTokens'];
  if (typeof params['randomSeed'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_SEED] = params['randomSeed'];
  return {
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: GEN_AI_PROVIDER_NAME_VALUES.MISTRAL_AI,
    model: String(params['model']),
    baseUrl,
    requestAttributes,
    input: params['messages'],
  };
}

/** `chat.complete` as a GenAI decision. */
export const chatCompleteSpec: CreateMethodSpec = {
  describe: describeChat,
  fromResponse: (response) => {
    const choices = Array.isArray(response['choices']) ? (response['choices'] as JsonObject[]) : [];
    const usage = response['usage'] as JsonObject | undefined;
    return {
      responseModel: stringOrUndefined(response['model']),
      responseId: stringOrUndefined(response['id']),
      finishReasons: choices.map((choice) => String(choice['finishReason'] ?? '')),
      inputTokens: numberOrUndefined(usage?.['promptTokens']),
      outputTokens: numberOrUndefined(usage?.['completionTokens']),
      output: choices.map((choice): OutputMessage => {
        const message = (choice['message'] ?? {}) as JsonObject;
        const toolCalls = Array.isArray(message['toolCalls']) ? (message['toolCalls'] as JsonObject[]) : [];
        return outputMessage(
          contentText(message['content']),
          toolCalls.map((toolCall) => {
            const fn = (toolCall['function'] ?? {}) as JsonObject;
            return {
              id: String(toolCall['id'] ?? ''),
              name: String(fn['name'] ?? ''),
              arguments: normalizeToolArguments(fn['arguments']),
            };
          }),
        );
      }),
    };
  },
};

/** `chat.stream` as a GenAI decision: it always streams, an `EventStream` of `{ data: CompletionChunk }`. */
export const chatStreamSpec: CreateMethodSpec = {
  describe: describeChat,
  fromResponse: () => ({}),
  streams: () => true,
  accumulator: () => new ChatStreamAccumulator(),
};

/** Message content is text or a list of chunks; the text chunks are the answer. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const chunk of content as JsonObject[]) if (typeof chunk?.['text'] === 'string') text += chunk['text'];
  return text;
}

class ChatStreamAccumulator implements StreamAccumulator {
  #id: string | undefined;
  #model: string | undefined;
  readonly #contents: string[] = [];
  readonly #toolCalls: OutputToolCall[][] = [];
  readonly #finishReasons: string[] = [];
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const chunk = ((item as JsonObject | undefined)?.['data'] ?? {}) as JsonObject;
    this.#id ??= stringOrUndefined(chunk['id']);
    this.#model ??= stringOrUndefined(chunk['model']);
    const usage = chunk['usage'] as JsonObject | undefined;
    if (usage) {
      this.#inputTokens = numberOrUndefined(usage['promptTokens']);
      this.#outputTokens = numberOrUndefined(usage['completionTokens']);
    }
    if (!Array.isArray(chunk['choices'])) return;
    for (const choice of chunk['choices'] as JsonObject[]) {
      const index = typeof choice['index'] === 'number' ? choice['index'] : 0;
      const delta = (choice['delta'] ?? {}) as JsonObject;
      const text = contentText(delta['content']);
      if (text !== '' || this.#contents[index] === undefined)
        this.#contents[index] = (this.#contents[index] ?? '') + text;
      if (Array.isArray(delta['toolCalls'])) this.#addToolCalls(index, delta['toolCalls'] as JsonObject[]);
      if (typeof choice['finishReason'] === 'string') this.#finishReasons[index] = choice['finishReason'];
    }
  }

  /** Mistral sends each tool call whole in one delta; pieces with the same position are joined all the same. */
  #addToolCalls(choice: number, deltas: JsonObject[]): void {
    const calls = (this.#toolCalls[choice] ??= []);
    for (const delta of deltas) {
      const position = typeof delta['index'] === 'number' ? delta['index'] : calls.length;
      const call = (calls[position] ??= { id: '', name: '', arguments: '' });
      const fn = (delta['function'] ?? {}) as JsonObject;
      if (typeof delta['id'] === 'string' && delta['id'] !== 'null') call.id = delta['id'];
      if (typeof fn['name'] === 'string') call.name += fn['name'];
      if (typeof fn['arguments'] === 'string') call.arguments += fn['arguments'];
      else if (fn['arguments'] !== undefined) call.arguments = JSON.stringify(fn['arguments']);
    }
  }

  result(): GenAiResult {
    const output: OutputMessage[] = [];
    for (let index = 0; index < this.#contents.length; index++) {
      const toolCalls = (this.#toolCalls[index] ?? []).map((call) => ({
        ...call,
        arguments: normalizeToolArguments(call.arguments),
      }));
      output.push(outputMessage(this.#contents[index] ?? '', toolCalls));
    }
    return {
      responseModel: this.#model,
      responseId: this.#id,
      finishReasons: this.#finishReasons.filter((reason) => reason !== undefined),
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output,
    };
  }
}

/** `this` of the `Chat` methods: the client's base URL (a `URL`). */
interface MistralChatThis {
  _baseURL?: unknown;
}

/** Recognises every call of a patched `Chat` method as `spec`. */
export function recogniseMistralChat(spec: CreateMethodSpec): CallRecogniser {
  return (self, args) => {
    const baseUrl = (self as MistralChatThis | undefined)?._baseURL;
    return {
      spec,
      params: (args[0] ?? {}) as JsonObject,
      baseUrl: baseUrl === undefined || baseUrl === null ? undefined : String(baseUrl),
    };
  };
}

/**
 * `Chat.prototype`, which the package does not export: the `Mistral` client creates its `Chat` lazily in the
 * `chat` getter, so the getter is run once on a bare object of the client class (no request, no configuration).
 */
export function mistralChatPrototype(mistral: unknown): Record<string, unknown> | undefined {
  const prototype = (mistral as { prototype?: object } | undefined)?.prototype;
  if (typeof prototype !== 'object' || prototype === null) return undefined;
  const getter = Object.getOwnPropertyDescriptor(prototype, 'chat')?.get;
  if (!getter) return undefined;
  const chat: unknown = getter.call(Object.create(prototype));
  return typeof chat === 'object' && chat !== null
    ? (Object.getPrototypeOf(chat) as Record<string, unknown>)
    : undefined;
}
