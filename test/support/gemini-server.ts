import type { ServerResponse } from 'node:http';
import {
  countTokens,
  type RecordedRequest,
  type RunningServer,
  sendJson,
  splitIntoChunks,
  startJsonServer,
  startSse,
  writeSse,
} from './http-server.ts';

/** Options of {@link startGeminiServer}. */
export interface GeminiServerOptions {
  /** The model's answer to a request. @default a fixed sentence */
  reply?: (request: RecordedRequest) => string;
  /** Pause between streamed chunks, for break tests. @default 0 */
  chunkDelayMs?: number;
  /** Port to listen on. @default a free port */
  port?: number;
}

/** The reply used when no `reply` option is given. */
export const DEFAULT_GEMINI_REPLY = 'The shipment qualifies for expedited customs clearance.';

/** The arguments of the function call answered when the request declares functions. */
export const GEMINI_FUNCTION_ARGS = { shipment: 'SH-4410', priority: 'high' };

/** Mean logprob reported when the request asks for `responseLogprobs`: ln(0.8). */
export const GEMINI_AVG_LOGPROB = -0.22314355131;

/**
 * Starts a local server that speaks the Gemini Developer API wire format over real HTTP:
 * `POST /v1/models/{model}:generateContent` (or `/v1beta/`) (JSON) and `:streamGenerateContent?alt=sse` (SSE, one
 * `GenerateContentResponse` per `data:` event, usage and finish reason on the last). When the request declares
 * functions, the answer is a `functionCall` part for the first one with {@link GEMINI_FUNCTION_ARGS}. Pass `url`
 * as `httpOptions.baseUrl` of `new GoogleGenAI({ apiKey, httpOptions })`.
 *
 * Failure scenarios by model name: `fail-<status>` answers with that HTTP status and a Google error body;
 * `stream-fail` streams two chunks, then an `error` chunk (the SDK throws).
 */
export function startGeminiServer(options: GeminiServerOptions = {}): Promise<RunningServer> {
  const reply = options.reply ?? (() => DEFAULT_GEMINI_REPLY);
  const delay = options.chunkDelayMs ?? 0;
  return startJsonServer(
    async (request, response) => {
      const route = /^\/v1(?:beta)?\/models\/([^:]+):(generateContent|streamGenerateContent)$/.exec(
        request.path,
      );
      if (request.method !== 'POST' || !route) return false;
      await generate(request, response, decodeURIComponent(route[1]!), route[2] === 'streamGenerateContent', {
        text: reply(request),
        delay,
      });
      return true;
    },
    '',
    options.port,
  );
}

let sequence = 0;

async function generate(
  request: RecordedRequest,
  response: ServerResponse,
  model: string,
  stream: boolean,
  answer: { text: string; delay: number },
): Promise<void> {
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) {
    sendJson(response, Number(failure[1]), {
      error: { code: Number(failure[1]), message: `simulated failure ${failure[1]}`, status: 'INTERNAL' },
    });
    return;
  }
  sequence += 1;
  const responseId = `gem-${sequence.toString(36).padStart(6, '0')}`;
  const modelVersion = `${model}-001`;
  const body = request.body;
  const promptTokenCount = countTokens(JSON.stringify(body['contents'] ?? ''));
  const generationConfig = (body['generationConfig'] ?? {}) as Record<string, unknown>;
  const logprobs = generationConfig['responseLogprobs'] === true ? { avgLogprobs: GEMINI_AVG_LOGPROB } : {};
  const functionName = firstFunctionName(body['tools']);
  const parts: Record<string, unknown>[] =
    functionName === undefined
      ? splitIntoChunks(answer.text).map((text) => ({ text }))
      : [{ functionCall: { name: functionName, args: GEMINI_FUNCTION_ARGS } }];
  const usageMetadata = {
    promptTokenCount,
    candidatesTokenCount: parts.length,
    totalTokenCount: promptTokenCount + parts.length,
  };
  if (!stream) {
    sendJson(response, 200, {
      candidates: [
        {
          content: { role: 'model', parts: mergeText(parts) },
          finishReason: 'STOP',
          index: 0,
          ...logprobs,
        },
      ],
      usageMetadata,
      modelVersion,
      responseId,
    });
    return;
  }
  startSse(response);
  for (const [position, part] of parts.entries()) {
    if (model === 'stream-fail' && position === 2) {
      await writeSse(response, {
        error: { code: 503, message: 'simulated failure mid-stream', status: 'UNAVAILABLE' },
      });
      response.end();
      return;
    }
    const last = position === parts.length - 1;
    await writeSse(
      response,
      {
        candidates: [
          {
            content: { role: 'model', parts: [part] },
            index: 0,
            ...(last ? { finishReason: 'STOP', ...logprobs } : {}),
          },
        ],
        ...(last ? { usageMetadata } : {}),
        modelVersion,
        responseId,
      },
      undefined,
      answer.delay,
    );
  }
  response.end();
}

function firstFunctionName(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return undefined;
  for (const tool of tools as { functionDeclarations?: { name?: unknown }[] }[]) {
    const name = tool?.functionDeclarations?.[0]?.name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

/** A plain response carries the whole text in one part. */
function mergeText(parts: Record<string, unknown>[]): Record<string, unknown>[] {
  if (parts.every((part) => typeof part['text'] === 'string'))
    return [{ text: parts.map((part) => part['text']).join('') }];
  return parts;
}
