import { GEN_AI_OPERATION_NAME_VALUES, GEN_AI_PROVIDER_NAME_VALUES } from '@decisiontrail/semconv';
import type { GenAiResult } from '../genai-decision.ts';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import type { CreateMethodSpec, StreamAccumulator } from '../patched-create.ts';
import { collectLogprobs, confidenceFromLogprobs, openAiRequestAttributes } from './request-attributes.ts';

/** One generated message per choice: the output form shared by plain and streamed calls, so their hashes agree. */
interface OutputMessage {
  role: 'assistant';
  content: string;
}

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
      output: choices.map((choice): OutputMessage => ({
        role: 'assistant',
        content: String((choice['message'] as JsonObject | undefined)?.['content'] ?? ''),
      })),
      confidence: confidenceFromLogprobs(logprobs),
    };
  },
  accumulator: () => new ChatStreamAccumulator(),
};

class ChatStreamAccumulator implements StreamAccumulator {
  #id: string | undefined;
  #model: string | undefined;
  readonly #contents: string[] = [];
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
      if (typeof choice['finish_reason'] === 'string') this.#finishReasons[index] = choice['finish_reason'];
      if (index === 0)
        collectLogprobs((choice['logprobs'] as JsonObject | null | undefined)?.['content'], this.#logprobs);
    }
  }

  result(): GenAiResult {
    const choiceCount = Math.max(this.#contents.length, this.#finishReasons.length);
    const output: OutputMessage[] = [];
    const finishReasons: string[] = [];
    for (let index = 0; index < choiceCount; index++) {
      output.push({ role: 'assistant', content: this.#contents[index] ?? '' });
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
