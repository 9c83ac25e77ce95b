import {
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  GEN_AI_OPERATION_NAME_VALUES,
  GEN_AI_PROVIDER_NAME_VALUES,
} from '@decisiontrail/semconv';
import type { JsonObject } from '../internal-types.ts';
import { numberOrUndefined, stringOrUndefined } from '../json-values.ts';
import type { CreateMethodSpec } from '../patched-create.ts';

/** `embeddings.create` as a GenAI decision; the output recorded is the list of vectors. */
export const embeddingsSpec: CreateMethodSpec = {
  describe: (params, baseUrl) => ({
    operation: GEN_AI_OPERATION_NAME_VALUES.EMBEDDINGS,
    provider: GEN_AI_PROVIDER_NAME_VALUES.OPENAI,
    model: String(params['model']),
    modelType: AUDIT_MODEL_TYPE_VALUES.EMBEDDING,
    decisionType: AUDIT_DECISION_TYPE_VALUES.EXTRACTION,
    baseUrl,
    requestAttributes: {},
    input: params['input'],
  }),
  fromResponse: (response) => {
    const data = Array.isArray(response['data']) ? (response['data'] as JsonObject[]) : [];
    const usage = response['usage'] as JsonObject | undefined;
    return {
      responseModel: stringOrUndefined(response['model']),
      inputTokens: numberOrUndefined(usage?.['prompt_tokens']),
      output: data.map((entry) => entry['embedding']),
    };
  },
};
