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
 * content_block_stop, message_delta, message_stop). When the request offers `tools`, the answer is a text block
 * and a `tool_use` block for the first tool with input {@link TOOL_INPUT}. `url` is the base URL for
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
  const tools = Array.isArray(body['tools']) ? (body['tools'] as { name?: unknown }[]) : [];
  if (typeof tools[0]?.name === 'string') {
    await toolUse(response, {
      id,
      model,
      tool: tools[0].name,
      inputTokens,
      stream: body['stream'] === true,
      delay,
    });
    return;
  }
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

/** The tool input the server answers with when the request offers `tools`. */
export const TOOL_INPUT = { claim: 5531, action: 'approve' };

/** Answers with a text block and one `tool_use` block for the first offered tool (stop reason `tool_use`). */
async function toolUse(
  response: ServerResponse,
  call: { id: string; model: string; tool: string; inputTokens: number; stream: boolean; delay: number },
): Promise<void> {
  const toolId = `toolu_${call.id.slice(4)}`;
  const usage = { input_tokens: call.inputTokens, output_tokens: 12 };
  const lead = 'Checking the policy.';
  if (!call.stream) {
    sendJson(response, 200, {
      id: call.id,
      type: 'message',
      role: 'assistant',
      model: call.model,
      content: [
        { type: 'text', text: lead },
        { type: 'tool_use', id: toolId, name: call.tool, input: TOOL_INPUT },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage,
    });
    return;
  }
  startSse(response);
  const event = (type: string, payload: Record<string, unknown>, pause = 0) =>
    writeSse(response, { type, ...payload }, type, pause);
  await event('message_start', {
    message: {
      id: call.id,
      type: 'message',
      role: 'assistant',
      model: call.model,
      content: [],
      stop_reason: null,
      usage,
    },
  });
  await event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  await event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: lead } });
  await event('content_block_stop', { index: 0 });
  await event('content_block_start', {
    index: 1,
    content_block: { type: 'tool_use', id: toolId, name: call.tool, input: {} },
  });
  // The input arrives as partial JSON, with whitespace the plain response does not have.
  const json = JSON.stringify(TOOL_INPUT, null, 1);
  const half = Math.ceil(json.length / 2);
  for (const piece of [json.slice(0, half), json.slice(half)]) {
    await event(
      'content_block_delta',
      { index: 1, delta: { type: 'input_json_delta', partial_json: piece } },
      call.delay,
    );
  }
  await event('content_block_stop', { index: 1 });
  await event('message_delta', {
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 12 },
  });
  await event('message_stop', {});
  response.end();
}
