import {
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
  type GenAiProviderName,
} from '@decisiontrail/semconv';
import type { Attributes } from '@opentelemetry/api';
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

/**
 * `models.generateContent` / `generateContentStream` of `@google/genai` as GenAI decisions. The instrumentation
 * patches the SDK's per-request methods (`generateContentInternal`, `generateContentStreamInternal`): the public
 * methods are per-instance arrow functions, and one public call can make several requests — automatic function
 * calling sends one per model turn, automatic continuation one per hop — each of which is a model decision.
 */
function generateContentSpec(provider: GenAiProviderName, streams: boolean): CreateMethodSpec {
  return {
    describe: (params, baseUrl) => {
      const config = (params['config'] ?? {}) as JsonObject;
      const requestAttributes: Attributes = {};
      if (typeof config['temperature'] === 'number')
        requestAttributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = config['temperature'];
      if (typeof config['maxOutputTokens'] === 'number')
        requestAttributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = config['maxOutputTokens'];
      if (typeof config['seed'] === 'number') requestAttributes[ATTR_GEN_AI_REQUEST_SEED] = config['seed'];
      return {
        operation: GEN_AI_OPERATION_NAME_VALUES.GENERATE_CONTENT,
        provider,
        model: String(params['model']),
        baseUrl,
        requestAttributes,
        input:
          config['systemInstruction'] === undefined
            ? params['contents']
            : { systemInstruction: config['systemInstruction'], contents: params['contents'] },
      };
    },
    fromResponse: (response) => {
      const candidates = candidatesOf(response);
      const usage = response['usageMetadata'] as JsonObject | undefined;
      const avgLogprobs = numberOrUndefined(candidates[0]?.['avgLogprobs']);
      return {
        responseModel: stringOrUndefined(response['modelVersion']),
        responseId: stringOrUndefined(response['responseId']),
        finishReasons: candidates.flatMap((candidate) =>
          typeof candidate['finishReason'] === 'string' ? [candidate['finishReason']] : [],
        ),
        inputTokens: numberOrUndefined(usage?.['promptTokenCount']),
        outputTokens: numberOrUndefined(usage?.['candidatesTokenCount']),
        output: candidates.map((candidate) => {
          const parts = new CandidateParts();
          parts.add(candidate);
          return parts.message();
        }),
        confidence: avgLogprobs === undefined ? undefined : Math.exp(avgLogprobs),
      };
    },
    ...(streams ? { streams: () => true, accumulator: () => new GenerateContentStreamAccumulator() } : {}),
  };
}

/** The plain and the streamed request, for the Gemini Developer API and for Vertex AI. */
export const generateContentSpecs = {
  gemini: {
    plain: generateContentSpec(GEN_AI_PROVIDER_NAME_VALUES.GCP_GEMINI, false),
    stream: generateContentSpec(GEN_AI_PROVIDER_NAME_VALUES.GCP_GEMINI, true),
  },
  vertex: {
    plain: generateContentSpec(GEN_AI_PROVIDER_NAME_VALUES.GCP_VERTEX_AI, false),
    stream: generateContentSpec(GEN_AI_PROVIDER_NAME_VALUES.GCP_VERTEX_AI, true),
  },
} as const;

/** `this` of the `Models` methods: the API client tells the endpoint and whether it is Vertex AI. */
export interface GenAiModelsThis {
  apiClient?: { getBaseUrl?: () => string; isVertexAI?: () => boolean };
}

function candidatesOf(response: JsonObject): JsonObject[] {
  return Array.isArray(response['candidates']) ? (response['candidates'] as JsonObject[]) : [];
}

/** Text and function calls of one candidate; thought summaries are not the answer and are left out. */
class CandidateParts {
  #text = '';
  readonly #toolCalls: OutputToolCall[] = [];

  add(candidate: JsonObject): void {
    const content = candidate['content'] as JsonObject | undefined;
    const parts = Array.isArray(content?.['parts']) ? (content['parts'] as JsonObject[]) : [];
    for (const part of parts) {
      if (typeof part['text'] === 'string' && part['thought'] !== true) this.#text += part['text'];
      const functionCall = part['functionCall'] as JsonObject | undefined;
      if (functionCall) {
        this.#toolCalls.push({
          id: String(functionCall['id'] ?? ''),
          name: String(functionCall['name'] ?? ''),
          arguments: normalizeToolArguments(functionCall['args']),
        });
      }
    }
  }

  message(): OutputMessage {
    return outputMessage(this.#text, this.#toolCalls);
  }
}

/** Folds streamed `GenerateContentResponse` chunks: parts are deltas; ids, usage and finish reasons the latest. */
class GenerateContentStreamAccumulator implements StreamAccumulator {
  #responseId: string | undefined;
  #modelVersion: string | undefined;
  readonly #candidates: CandidateParts[] = [];
  readonly #finishReasons: string[] = [];
  #avgLogprobs: number | undefined;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;

  add(item: unknown): void {
    const chunk = item as JsonObject;
    this.#responseId = stringOrUndefined(chunk['responseId']) ?? this.#responseId;
    this.#modelVersion = stringOrUndefined(chunk['modelVersion']) ?? this.#modelVersion;
    const usage = chunk['usageMetadata'] as JsonObject | undefined;
    this.#inputTokens = numberOrUndefined(usage?.['promptTokenCount']) ?? this.#inputTokens;
    this.#outputTokens = numberOrUndefined(usage?.['candidatesTokenCount']) ?? this.#outputTokens;
    for (const [position, candidate] of candidatesOf(chunk).entries()) {
      const index = typeof candidate['index'] === 'number' ? candidate['index'] : position;
      (this.#candidates[index] ??= new CandidateParts()).add(candidate);
      if (typeof candidate['finishReason'] === 'string')
        this.#finishReasons[index] = candidate['finishReason'];
      if (index === 0) this.#avgLogprobs = numberOrUndefined(candidate['avgLogprobs']) ?? this.#avgLogprobs;
    }
  }

  result(): GenAiResult {
    return {
      responseModel: this.#modelVersion,
      responseId: this.#responseId,
      finishReasons: this.#finishReasons.filter((reason) => reason !== undefined),
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      output: [...this.#candidates].map((candidate) => (candidate ?? new CandidateParts()).message()),
      confidence: this.#avgLogprobs === undefined ? undefined : Math.exp(this.#avgLogprobs),
    };
  }
}
