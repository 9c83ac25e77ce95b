import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import { MessageStreamAccumulator, messagesSpec } from '../anthropic/messages.ts';
import type { GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined } from '../json-values.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';

const utf8 = new TextDecoder();

/** The text of an InvokeModel body: a string as it is, bytes (Uint8Array or Buffer) as UTF-8. */
function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return utf8.decode(body);
  return undefined;
}

function parseJsonObject(text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `InvokeModelCommand` as a GenAI decision. The body is the model family's own format, so the input recorded is
 * the request body text exactly as sent and, unless the family is recognised, the output is the response body
 * text. Anthropic models on Bedrock answer in the Messages format and are read as `@anthropic-ai/sdk` responses
 * are; other families keep only what is common (temperature and token limits when named the usual way).
 */
export const invokeModelSpec: CreateMethodSpec = {
  describe: (params, baseUrl) => {
    const modelId = String(params['modelId']);
    const text = bodyText(params['body']);
    const request = parseJsonObject(text) ?? {};
    const requestAttributes: Attributes = {};
    if (typeof request['temperature'] === 'number')
      requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = request['temperature'];
    const maxTokens = request['max_tokens'] ?? request['max_gen_len'];
    if (typeof maxTokens === 'number') requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
    const embedding = /embed/i.test(modelId);
    return {
      operation: embedding
        ? GEN_AI_OPERATION_NAME_VALUES.EMBEDDINGS
        : Array.isArray(request['messages'])
          ? GEN_AI_OPERATION_NAME_VALUES.CHAT
          : GEN_AI_OPERATION_NAME_VALUES.TEXT_COMPLETION,
      provider: GEN_AI_PROVIDER_NAME_VALUES.AWS_BEDROCK,
      model: modelId,
      ...(embedding
        ? {
            modelType: AUDIT_MODEL_TYPE_VALUES.EMBEDDING,
            decisionType: AUDIT_DECISION_TYPE_VALUES.EXTRACTION,
          }
        : {}),
      baseUrl,
      requestAttributes,
      input: text ?? params['body'],
    };
  },
  fromResponse: (output): GenAiResult => {
    const text = bodyText(output['body']);
    const response = parseJsonObject(text);
    if (response?.['type'] === 'message' && Array.isArray(response['content']))
      return messagesSpec.fromResponse(response);
    return { output: text ?? '' };
  },
};

/**
 * `InvokeModelWithResponseStreamCommand`: the request is InvokeModel's; the resolved output's `body` is an event
 * stream whose `chunk` events each carry `bytes`, one piece of the model family's own streaming format. A stream
 * opening with Anthropic's `message_start` is folded as the Messages stream is (so its output equals the plain
 * call's); any other family keeps the text of its chunks, one per line. The token counts Bedrock adds to the last
 * chunk (`amazon-bedrock-invocationMetrics`) fill in what the family's own events do not say.
 */
export const invokeModelWithResponseStreamSpec: CreateMethodSpec = {
  describe: invokeModelSpec.describe,
  fromResponse: () => ({}),
  streams: () => true,
  streamOf: (output) => (output as JsonObject | undefined)?.['body'],
  accumulator: () => new InvokeStreamAccumulator(),
};

class InvokeStreamAccumulator implements StreamAccumulator {
  #anthropic: MessageStreamAccumulator | undefined;
  readonly #chunks: string[] = [];
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const chunk = (item as JsonObject | undefined)?.['chunk'] as JsonObject | undefined;
    const text = bodyText(chunk?.['bytes']);
    if (text === undefined) return;
    const event = parseJsonObject(text);
    const metrics = event?.['amazon-bedrock-invocationMetrics'] as JsonObject | undefined;
    if (metrics) {
      this.#inputTokens = numberOrUndefined(metrics['inputTokenCount']) ?? this.#inputTokens;
      this.#outputTokens = numberOrUndefined(metrics['outputTokenCount']) ?? this.#outputTokens;
    }
    if (this.#anthropic === undefined && this.#chunks.length === 0 && event?.['type'] === 'message_start')
      this.#anthropic = new MessageStreamAccumulator();
    if (this.#anthropic && event) this.#anthropic.add(event);
    else this.#chunks.push(text);
  }

  result(): GenAiResult {
    if (this.#anthropic) {
      const result = this.#anthropic.result();
      return {
        ...result,
        inputTokens: result.inputTokens ?? this.#inputTokens,
        outputTokens: result.outputTokens ?? this.#outputTokens,
      };
    }
    return {
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output: this.#chunks.join('\n'),
    };
  }
}
