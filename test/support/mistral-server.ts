import type { ServerResponse } from 'node:http';
import {
  countTokens,
  type RecordedRequest,
  type RunningServer,
  sendJson,
  splitIntoChunks,
  startJsonServer,
  startSse,
  textOfMessages,
  writeSse,
} from './http-server.ts';

/** Options of {@link startMistralServer}. */
export interface MistralServerOptions {
  /** The assistant's answer to a request. @default a fixed sentence */
  reply?: (request: RecordedRequest) => string;
  /** Pause between streamed chunks, for break tests. @default 0 */
  chunkDelayMs?: number;
  /** Port to listen on. @default a free port */
  port?: number;
}

/** The reply used when no `reply` option is given. */
export const DEFAULT_MISTRAL_REPLY = 'The refund request is within the 30-day window.';

/** The arguments (JSON text) of the tool call answered when the request offers `tools`. */
export const MISTRAL_TOOL_ARGUMENTS = '{"order": "ORD-881", "refund": true}';

/**
 * Starts a local server that speaks the Mistral chat wire format over real HTTP: `POST /v1/chat/completions` as
 * JSON (`usage` always present, `created` an integer, `finish_reason` `stop` or `tool_calls`), and with
 * `stream: true` as data-only SSE chunks whose last one carries `finish_reason` and `usage`, then `data: [DONE]`.
 * When the request offers `tools`, the answer is one whole tool call (Mistral streams tool calls in one delta, with
 * 9-character ids) of the first tool. Pass `url` as `serverURL` of `new Mistral({ apiKey, serverURL })`.
 *
 * Failure scenarios by model name: `fail-<status>` answers with that HTTP status and a Mistral error body;
 * `stream-fail` streams two chunks and then drops the connection.
 */
export function startMistralServer(options: MistralServerOptions = {}): Promise<RunningServer> {
  const reply = options.reply ?? (() => DEFAULT_MISTRAL_REPLY);
  const delay = options.chunkDelayMs ?? 0;
  return startJsonServer(
    async (request, response) => {
      if (request.method !== 'POST' || request.path !== '/v1/chat/completions') return false;
      await chat(request, response, reply(request), delay);
      return true;
    },
    '',
    options.port,
  );
}

let sequence = 0;

async function chat(
  request: RecordedRequest,
  response: ServerResponse,
  text: string,
  delay: number,
): Promise<void> {
  const body = request.body;
  const model = String(body['model'] ?? '');
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) {
    sendJson(response, Number(failure[1]), {
      object: 'error',
      message: `simulated failure ${failure[1]}`,
      type: 'invalid_request_error',
      code: failure[1],
    });
    return;
  }
  sequence += 1;
  const id = `cmpl-${sequence.toString(16).padStart(8, '0')}`;
  const created = Math.floor(Date.now() / 1000);
  const served = `${model}-2512`;
  const promptTokens = countTokens(textOfMessages(body['messages']));
  const tools = Array.isArray(body['tools']) ? (body['tools'] as { function?: { name?: unknown } }[]) : [];
  const tool = typeof tools[0]?.function?.name === 'string' ? tools[0].function.name : undefined;
  const toolCalls =
    tool === undefined
      ? undefined
      : [
          {
            id: `T${sequence.toString(36).padStart(8, '0')}`,
            type: 'function',
            function: { name: tool, arguments: MISTRAL_TOOL_ARGUMENTS },
          },
        ];
  const chunks = tool === undefined ? splitIntoChunks(text) : [];
  const completionTokens = tool === undefined ? chunks.length : 9;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const finishReason = tool === undefined ? 'stop' : 'tool_calls';
  if (body['stream'] !== true) {
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      model: served,
      created,
      usage,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: tool === undefined ? text : '',
            tool_calls: toolCalls ?? null,
          },
          finish_reason: finishReason,
        },
      ],
    });
    return;
  }
  startSse(response);
  const chunk = (delta: Record<string, unknown>, last: boolean) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: served,
    choices: [{ index: 0, delta, finish_reason: last ? finishReason : null }],
    ...(last ? { usage } : {}),
  });
  await writeSse(response, chunk({ role: 'assistant', content: '' }, false));
  if (toolCalls) {
    await writeSse(response, chunk({ tool_calls: toolCalls }, true), undefined, delay);
  } else {
    for (const [position, piece] of chunks.entries()) {
      if (model === 'stream-fail' && position === 2) {
        response.destroy();
        return;
      }
      await writeSse(response, chunk({ content: piece }, position === chunks.length - 1), undefined, delay);
    }
  }
  await writeSse(response, '[DONE]');
  response.end();
}
