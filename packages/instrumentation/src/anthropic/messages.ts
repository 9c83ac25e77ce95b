import { GEN_AI_OPERATION_NAME_VALUES, GEN_AI_PROVIDER_NAME_VALUES } from '@decisiontrail/semconv';
import { ATTR_GEN_AI_REQUEST_MAX_TOKENS, ATTR_GEN_AI_REQUEST_TEMPERATURE } from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import type { GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import { normalizeToolArguments, outputMessage, type OutputToolCall } from '../output-message.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';

/**
 * `messages.create` (plain and `stream: true`) as a GenAI decision. `messages.stream()` is recorded through this
 * too: its MessageStream calls `create({ stream: true })` on the same resource, so patching `stream` as well would
 * record every streamed call twice.
 */
export const messagesSpec: CreateMethodSpec = {
  describe: (params, baseUrl) => {
    const requestAttributes: Attributes = {};
    if (typeof params['temperature'] === 'number')
      requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = params['temperature'];
    if (typeof params['max_tokens'] === 'number')
      requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = params['max_tokens'];
    return {
      operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
      provider: GEN_AI_PROVIDER_NAME_VALUES.ANTHROPIC,
      model: String(params['model']),
      baseUrl,
      requestAttributes,
      input:
        params['system'] === undefined
          ? params['messages']
          : { system: params['system'], messages: params['messages'] },
    };
  },
  fromResponse: (message) => {
    const usage = message['usage'] as JsonObject | undefined;
    let text = '';
    const toolCalls: OutputToolCall[] = [];
    for (const block of Array.isArray(message['content']) ? (message['content'] as JsonObject[]) : []) {
      if (block['type'] === 'text') text += String(block['text']);
      if (block['type'] === 'tool_use') {
        toolCalls.push({
          id: String(block['id'] ?? ''),
          name: String(block['name'] ?? ''),
          arguments: normalizeToolArguments(block['input']),
        });
      }
    }
    return {
      responseModel: stringOrUndefined(message['model']),
      responseId: stringOrUndefined(message['id']),
      finishReasons: typeof message['stop_reason'] === 'string' ? [message['stop_reason']] : [],
      inputTokens: numberOrUndefined(usage?.['input_tokens']),
      outputTokens: numberOrUndefined(usage?.['output_tokens']),
      output: [outputMessage(text, toolCalls)],
    };
  },
  accumulator: () => new MessageStreamAccumulator(),
};

/**
 * Folds the Messages SSE events (message_start, content_block_delta, message_delta, message_stop); Bedrock's
 * InvokeModelWithResponseStream carries the same events for Anthropic models.
 */
export class MessageStreamAccumulator implements StreamAccumulator {
  #id: string | undefined;
  #model: string | undefined;
  #text = '';
  /** Tool-use blocks by content block index; their input arrives as partial JSON. */
  readonly #toolCalls = new Map<number, OutputToolCall>();
  #stopReason: string | undefined;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const event = item as JsonObject;
    switch (event['type']) {
      case 'message_start': {
        const message = (event['message'] ?? {}) as JsonObject;
        const usage = message['usage'] as JsonObject | undefined;
        this.#id = stringOrUndefined(message['id']);
        this.#model = stringOrUndefined(message['model']);
        this.#inputTokens = numberOrUndefined(usage?.['input_tokens']);
        this.#outputTokens = numberOrUndefined(usage?.['output_tokens']);
        break;
      }
      case 'content_block_start': {
        const block = event['content_block'] as JsonObject | undefined;
        if (block?.['type'] === 'tool_use' && typeof event['index'] === 'number') {
          this.#toolCalls.set(event['index'], {
            id: String(block['id'] ?? ''),
            name: String(block['name'] ?? ''),
            arguments: '',
          });
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event['delta'] as JsonObject | undefined;
        if (delta?.['type'] === 'text_delta' && typeof delta['text'] === 'string')
          this.#text += delta['text'];
        const toolCall = typeof event['index'] === 'number' ? this.#toolCalls.get(event['index']) : undefined;
        if (toolCall && delta?.['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string') {
          toolCall.arguments += delta['partial_json'];
        }
        break;
      }
      case 'message_delta': {
        const delta = event['delta'] as JsonObject | undefined;
        const usage = event['usage'] as JsonObject | undefined;
        this.#stopReason = stringOrUndefined(delta?.['stop_reason']) ?? this.#stopReason;
        this.#outputTokens = numberOrUndefined(usage?.['output_tokens']) ?? this.#outputTokens;
        break;
      }
    }
  }

  result(): GenAiResult {
    return {
      responseModel: this.#model,
      responseId: this.#id,
      finishReasons: this.#stopReason === undefined ? [] : [this.#stopReason],
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output: [
        outputMessage(
          this.#text,
          [...this.#toolCalls.values()].map((call) => ({
            ...call,
            arguments: normalizeToolArguments(call.arguments),
          })),
        ),
      ],
    };
  }
}
