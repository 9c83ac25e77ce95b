import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
import type { JsonObject } from '../internal-types.ts';

/** gen_ai.request.* attributes common to the OpenAI chat and responses APIs. */
export function openAiRequestAttributes(params: JsonObject): Attributes {
  const attributes: Attributes = {};
  if (typeof params['temperature'] === 'number')
    attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = params['temperature'];
  const maxTokens = params['max_completion_tokens'] ?? params['max_tokens'] ?? params['max_output_tokens'];
  if (typeof maxTokens === 'number') attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
  if (typeof params['seed'] === 'number') attributes[ATTR_GEN_AI_REQUEST_SEED] = params['seed'];
  return attributes;
}

/** Mean token probability, exp(mean logprob): the confidence of a generation when the caller asked for logprobs. */
export function confidenceFromLogprobs(logprobs: readonly number[]): number | undefined {
  if (logprobs.length === 0) return undefined;
  let sum = 0;
  for (const logprob of logprobs) sum += logprob;
  return Math.exp(sum / logprobs.length);
}

/** The logprob values of an OpenAI `logprobs.content` (chat) or `logprobs` (responses) array. */
export function collectLogprobs(entries: unknown, into: number[]): void {
  if (!Array.isArray(entries)) return;
  for (const entry of entries) {
    const logprob = (entry as { logprob?: unknown } | null)?.logprob;
    if (typeof logprob === 'number') into.push(logprob);
  }
}
