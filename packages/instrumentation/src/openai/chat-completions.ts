import { GEN_AI_OPERATION_NAME_VALUES, GEN_AI_PROVIDER_NAME_VALUES } from '@decisiontrail/semconv';
import type { GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import {
  normalizeToolArguments,
  type OutputMessage,
  outputMessage,
  type OutputToolCall,
} from '../output-message.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';
import { collectLogprobs, confidenceFromLogprobs, openAiRequestAttributes } from './request-attributes.ts';

/** `chat.completions.create` as a GenAI decision. */
export const chatCompletionsSpec: CreateMethodSpec = {
  describe: (params, baseUrl) => ({
    operation: GEN_AI_OPERATION_NAME_VALUES.CHAT,
    provider: GEN_AI_PROVIDER_NAME_VALUES.OPENAI,
    model: String(params['model']),
    baseUrl,
    requestAttributes: openAiRequestAttributes(params),
    input: params['messages'],
  }),
  fromResponse: (response) => {
    const choices = Array.isArray(response['choices']) ? (response['choices'] as JsonObject[]) : [];
    const logprobs: number[] = [];
    collectLogprobs((choices[0]?.['logprobs'] as JsonObject | null | undefined)?.['content'], logprobs);
    const usage = response['usage'] as JsonObject | undefined;
    return {
      responseModel: stringOrUndefined(response['model']),
      responseId: stringOrUndefined(response['id']),
      finishReasons: choices.map((choice) => String(choice['finish_reason'] ?? '')),
      inputTokens: numberOrUndefined(usage?.['prompt_tokens']),
      outputTokens: numberOrUndefined(usage?.['completion_tokens']),
      output: choices.map((choice): OutputMessage => {
        const message = (choice['message'] ?? {}) as JsonObject;
        const toolCalls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as JsonObject[]) : [];
        return outputMessage(
          String(message['content'] ?? ''),
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
      confidence: confidenceFromLogprobs(logprobs),
    };
  },
  accumulator: () => new ChatStreamAccumulator(),
};

class ChatStreamAccumulator implements StreamAccumulator {
  #id: string | undefined;
  #model: string | undefined;
  readonly #contents: string[] = [];
  /** Per choice, per tool-call index: arguments arrive in pieces. */
  readonly #toolCalls: OutputToolCall[][] = [];
  readonly #finishReasons: string[] = [];
  readonly #logprobs: number[] = [];
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const chunk = item as JsonObject;
    this.#id ??= stringOrUndefined(chunk['id']);
    this.#model ??= stringOrUndefined(chunk['model']);
    const usage = chunk['usage'] as JsonObject | null | undefined;
    if (usage) {
      this.#inputTokens = numberOrUndefined(usage['prompt_tokens']);
      this.#outputTokens = numberOrUndefined(usage['completion_tokens']);
    }
    if (!Array.isArray(chunk['choices'])) return;
    for (const choice of chunk['choices'] as JsonObject[]) {
      const index = typeof choice['index'] === 'number' ? choice['index'] : 0;
      const delta = choice['delta'] as JsonObject | undefined;
      if (typeof delta?.['content'] === 'string')
        this.#contents[index] = (this.#contents[index] ?? '') + delta['content'];
      if (Array.isArray(delta?.['tool_calls']))
        this.#addToolCallDeltas(index, delta['tool_calls'] as JsonObject[]);
      if (typeof choice['finish_reason'] === 'string') this.#finishReasons[index] = choice['finish_reason'];
      if (index === 0)
        collectLogprobs((choice['logprobs'] as JsonObject | null | undefined)?.['content'], this.#logprobs);
    }
  }

  #addToolCallDeltas(choice: number, deltas: JsonObject[]): void {
    const calls = (this.#toolCalls[choice] ??= []);
    for (const delta of deltas) {
      const position = typeof delta['index'] === 'number' ? delta['index'] : 0;
      const call = (calls[position] ??= { id: '', name: '', arguments: '' });
      const fn = delta['function'] as JsonObject | undefined;
      if (typeof delta['id'] === 'string') call.id = delta['id'];
      if (typeof fn?.['name'] === 'string') call.name += fn['name'];
      if (typeof fn?.['arguments'] === 'string') call.arguments += fn['arguments'];
    }
  }

  result(): GenAiResult {
    const choiceCount = Math.max(this.#contents.length, this.#finishReasons.length, this.#toolCalls.length);
    const output: OutputMessage[] = [];
    const finishReasons: string[] = [];
    for (let index = 0; index < choiceCount; index++) {
      const toolCalls = (this.#toolCalls[index] ?? []).map((call) => ({
        ...call,
        arguments: normalizeToolArguments(call.arguments),
      }));
      output.push(outputMessage(this.#contents[index] ?? '', toolCalls));
      if (this.#finishReasons[index] !== undefined) finishReasons.push(this.#finishReasons[index]);
    }
    return {
      responseModel: this.#model,
      responseId: this.#id,
      finishReasons,
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output,
      confidence: confidenceFromLogprobs(this.#logprobs),
    };
  }
}
