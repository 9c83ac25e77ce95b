import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import type { GenAiRequest, GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import { normalizeToolArguments, outputMessage, type OutputToolCall } from '../output-message.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';

/** The request side shared by `Converse` and `ConverseStream` (the same input shape). */
function describeConverse(params: JsonObject, baseUrl: string | undefined): GenAiRequest {
  const inference = (params['inferenceConfig'] ?? {}) as JsonObject;
  const requestAttributes: Attributes = {};
  if (typeof inference['temperature'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = inference['temperature'];
  if (typeof inference['maxTokens'] === 'number')
    requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = inference['maxTokens'];
  return {
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: GEN_AI_PROVIDER_NAME_VALUES.AWS_BEDROCK,
    model: String(params['modelId']),
    baseUrl,
    requestAttributes,
    input:
      params['system'] === undefined
        ? params['messages']
        : { system: params['system'], messages: params['messages'] },
  };
}

/** `ConverseCommand` as a GenAI decision. Converse names no response id or model snapshot. */
export const converseSpec: CreateMethodSpec = {
  describe: describeConverse,
  fromResponse: (response) => {
    const message = ((response['output'] as JsonObject | undefined)?.['message'] ?? {}) as JsonObject;
    const blocks = new ContentBlocks();
    for (const [index, block] of contentOf(message).entries()) blocks.addBlock(index, block);
    const usage = response['usage'] as JsonObject | undefined;
    return {
      finishReasons: typeof response['stopReason'] === 'string' ? [response['stopReason']] : [],
      inputTokens: numberOrUndefined(usage?.['inputTokens']),
      outputTokens: numberOrUndefined(usage?.['outputTokens']),
      output: [blocks.message()],
    };
  },
};

/** `ConverseStreamCommand`: the resolved output's `stream` is an event stream of Converse events. */
export const converseStreamSpec: CreateMethodSpec = {
  describe: describeConverse,
  fromResponse: () => ({}),
  streams: () => true,
  streamOf: (output) => (output as JsonObject | undefined)?.['stream'],
  accumulator: () => new ConverseStreamAccumulator(),
};

function contentOf(message: JsonObject): JsonObject[] {
  return Array.isArray(message['content']) ? (message['content'] as JsonObject[]) : [];
}

/** Text and tool-use blocks in block order; a streamed tool input arrives as JSON text in pieces. */
class ContentBlocks {
  #text = '';
  readonly #toolCalls = new Map<number, OutputToolCall>();

  addBlock(index: number, block: JsonObject): void {
    if (typeof block['text'] === 'string') this.#text += block['text'];
    const toolUse = block['toolUse'] as JsonObject | undefined;
    if (toolUse) {
      this.#toolCalls.set(index, {
        id: String(toolUse['toolUseId'] ?? ''),
        name: String(toolUse['name'] ?? ''),
        arguments: normalizeToolArguments(toolUse['input']),
      });
    }
  }

  startToolUse(index: number, start: JsonObject): void {
    this.#toolCalls.set(index, {
      id: String(start['toolUseId'] ?? ''),
      name: String(start['name'] ?? ''),
      arguments: '',
    });
  }

  addDelta(index: number, delta: JsonObject): void {
    if (typeof delta['text'] === 'string') this.#text += delta['text'];
    const toolInput = (delta['toolUse'] as JsonObject | undefined)?.['input'];
    const toolCall = this.#toolCalls.get(index);
    if (toolCall && typeof toolInput === 'string') toolCall.arguments += toolInput;
  }

  message() {
    return outputMessage(
      this.#text,
      [...this.#toolCalls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, call]) => ({ ...call, arguments: normalizeToolArguments(call.arguments) })),
    );
  }
}

/** Folds ConverseStream events: messageStart, contentBlockStart/Delta/Stop, messageStop, metadata. */
class ConverseStreamAccumulator implements StreamAccumulator {
  readonly #blocks = new ContentBlocks();
  #stopReason: string | undefined;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const event = item as JsonObject;
    const start = event['contentBlockStart'] as JsonObject | undefined;
    if (start) {
      const toolUse = (start['start'] as JsonObject | undefined)?.['toolUse'] as JsonObject | undefined;
      if (toolUse) this.#blocks.startToolUse(blockIndex(start), toolUse);
    }
    const delta = event['contentBlockDelta'] as JsonObject | undefined;
    if (delta) this.#blocks.addDelta(blockIndex(delta), (delta['delta'] ?? {}) as JsonObject);
    const stop = event['messageStop'] as JsonObject | undefined;
    if (stop) this.#stopReason = stringOrUndefined(stop['stopReason']) ?? this.#stopReason;
    const usage = (event['metadata'] as JsonObject | undefined)?.['usage'] as JsonObject | undefined;
    if (usage) {
      this.#inputTokens = numberOrUndefined(usage['inputTokens']);
      this.#outputTokens = numberOrUndefined(usage['outputTokens']);
    }
  }

  result(): GenAiResult {
    return {
      finishReasons: this.#stopReason === undefined ? [] : [this.#stopReason],
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output: [this.#blocks.message()],
    };
  }
}

function blockIndex(event: JsonObject): number {
  return typeof event['contentBlockIndex'] === 'number' ? event['contentBlockIndex'] : 0;
}
