import { GEN_AI_OPERATION_NAME_VALUES, GEN_AI_PROVIDER_NAME_VALUES } from '@decisiontrail/semconv';
import type { GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import { normalizeToolArguments, outputMessage, type OutputToolCall } from '../output-message.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';
import { collectLogprobs, confidenceFromLogprobs, openAiRequestAttributes } from './request-attributes.ts';

/** `responses.create` as a GenAI decision. */
export const responsesSpec: CreateMethodSpec = {
  describe: (params, baseUrl) => ({
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: GEN_AI_PROVIDER_NAME_VALUES.OPENAI,
    model: String(params['model']),
    baseUrl,
    requestAttributes: openAiRequestAttributes(params),
    input:
      params['instructions'] === undefined
        ? params['input']
        : { instructions: params['instructions'], input: params['input'] },
  }),
  fromResponse: (response) => resultOf(response, undefined),
  accumulator: () => new ResponsesStreamAccumulator(),
};

function resultOf(response: JsonObject, fallbackText: string | undefined): GenAiResult {
  const logprobs: number[] = [];
  let text = '';
  let sawText = false;
  const output = Array.isArray(response['output']) ? (response['output'] as JsonObject[]) : [];
  const toolCalls: OutputToolCall[] = [];
  for (const item of output) {
    if (item['type'] === 'function_call') {
      toolCalls.push({
        id: String(item['call_id'] ?? ''),
        name: String(item['name'] ?? ''),
        arguments: normalizeToolArguments(item['arguments']),
      });
      continue;
    }
    if (item['type'] !== 'message' || !Array.isArray(item['content'])) continue;
    for (const part of item['content'] as JsonObject[]) {
      if (part['type'] !== 'output_text' || typeof part['text'] !== 'string') continue;
      text += part['text'];
      sawText = true;
      collectLogprobs(part['logprobs'], logprobs);
    }
  }
  const usage = response['usage'] as JsonObject | null | undefined;
  const status = stringOrUndefined(response['status']);
  return {
    responseModel: stringOrUndefined(response['model']),
    responseId: stringOrUndefined(response['id']),
    finishReasons: status === undefined ? [] : [status],
    inputTokens: numberOrUndefined(usage?.['input_tokens']),
    outputTokens: numberOrUndefined(usage?.['output_tokens']),
    output: [outputMessage(sawText ? text : (fallbackText ?? ''), toolCalls)],
    confidence: confidenceFromLogprobs(logprobs),
  };
}

/**
 * Takes the final response from `response.completed` (or `incomplete` / `failed`); when the consumer stops
 * before that, the text deltas seen so far are the output.
 */
class ResponsesStreamAccumulator implements StreamAccumulator {
  #response: JsonObject = {};
  #text = '';

  add(item: unknown): void {
    const event = item as JsonObject;
    const type = event['type'];
    if (type === 'response.output_text.delta' && typeof event['delta'] === 'string') {
      this.#text += event['delta'];
    } else if (typeof event['response'] === 'object' && event['response'] !== null) {
      this.#response = event['response'] as JsonObject;
    }
  }

  result(): GenAiResult {
    return resultOf(this.#response, this.#text);
  }
}
