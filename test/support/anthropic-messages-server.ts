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

/** Options of {@link startAnthropicMessagesServer}. */
export interface AnthropicMessagesServerOptions {
  /** The assistant's answer to a request. @default a fixed sentence */
  reply?: (request: RecordedRequest) => string;
  /** Pause between streamed text deltas, for abort and break tests. @default 0 */
  chunkDelayMs?: number;
  /** Port to listen on. @default a free port */
  port?: number;
}

/** The reply used when no `reply` option is given. */
export const DEFAULT_ANTHROPIC_REPLY = 'The claim is consistent with the policy terms.';

/**
 * Starts a local server that speaks the Anthropic Messages wire format over real HTTP: `POST /v1/messages` as
 * JSON, and with `stream: true` as SSE events (message_start, content_block_start, content_block_delta,
 * content_block_stop, message_delta, message_stop). `url` is the base URL for
 * `new Anthropic({ baseURL: url, apiKey: 'test' })`.
 *
 * Failure scenarios by model name: `fail-<status>` answers with that HTTP status and an Anthropic error body;
 * `stream-fail` sends two text deltas, then an `error` event.
 */
export function startAnthropicMessagesServer(
  options: AnthropicMessagesServerOptions = {},
): Promise<RunningServer> {
  const reply = options.reply ?? (() => DEFAULT_ANTHROPIC_REPLY);
  const delay = options.chunkDelayMs ?? 0;
  return startJsonServer(
    async (request, response) => {
      if (request.method !== 'POST' || request.path !== '/v1/messages') return false;
      await messages(request, response, reply(request), delay);
      return true;
    },
    '',
    options.port,
  );
}

let sequence = 0;

async function messages(
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
      type: 'error',
      error: { type: 'api_error', message: `simulated failure ${failure[1]}` },
    });
    return;
  }
  sequence += 1;
  const id = `msg_${Date.now().toString(36)}${sequence.toString(36).padStart(6, '0')}`;
  const chunks = splitIntoChunks(text);
  const system = typeof body['system'] === 'string' ? body['system'] : textOfMessages(body['system']);
  const inputTokens = countTokens(`${system} ${textOfMessages(body['messages'])}`);
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: chunks.length },
  };
  if (body['stream'] !== true) {
    sendJson(response, 200, message);
    return;
  }
  startSse(response);
  const event = (type: string, payload: Record<string, unknown>, pause = 0) =>
    writeSse(response, { type, ...payload }, type, pause);
  await event('message_start', {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      usage: { input_tokens: inputTokens, output_tokens: 1 },
    },
  });
  await event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  for (const [position, chunk] of chunks.entries()) {
    if (model === 'stream-fail' && position === 2) {
      await event('error', { error: { type: 'overloaded_error', message: 'simulated failure mid-stream' } });
      response.end();
      return;
    }
    await event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: chunk } }, delay);
  }
  await event('content_block_stop', { index: 0 });
  await event('message_delta', {
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: chunks.length },
  });
  await event('message_stop', {});
  response.end();
}
