import type { ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
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

/** Options of {@link startOpenAiCompatibleServer}. */
export interface OpenAiCompatibleServerOptions {
  /** The assistant's answer to a request. @default a fixed sentence */
  reply?: (request: RecordedRequest) => string;
  /** The `model` the response names. @default `${requestModel}-2026-01-01` (a dated snapshot) */
  responseModel?: (requestModel: string) => string;
  /** Arguments (JSON text) of the tool call answered when the request offers `tools`. @default `{"action":"escalate"}` */
  toolArguments?: (request: RecordedRequest) => string;
  /** Pause between streamed events, for abort and break tests. @default 0 */
  chunkDelayMs?: number;
  /** Port to listen on. @default a free port */
  port?: number;
}

export type { RecordedRequest, RunningServer };

/** The reply used when no `reply` option is given. */
export const DEFAULT_REPLY = 'The application meets the published lending criteria.';

/** Logprob the server reports for every generated token when logprobs are requested. */
export const TOKEN_LOGPROB = -0.105360516; // ln(0.9)

/**
 * Starts a local server that speaks the OpenAI wire format over real HTTP: `POST /v1/chat/completions`
 * (JSON, `stream: true` as SSE, `logprobs`, `stream_options.include_usage`, a call of the first offered tool
 * when the request has `tools`), `POST /v1/responses` (JSON and SSE
 * events, output_text logprobs when `include` asks for them) and `POST /v1/embeddings` (float or base64).
 * `url` is the base URL for `new OpenAI({ baseURL: url, apiKey: 'test' })`.
 *
 * Failure scenarios are chosen by the request's model name:
 * - `fail-<status>` (e.g. `fail-500`, `fail-400`): an error response with that HTTP status;
 * - `stream-fail`: a stream that sends two chunks, then an error event (the SDK throws an APIError).
 */
export function startOpenAiCompatibleServer(
  options: OpenAiCompatibleServerOptions = {},
): Promise<RunningServer> {
  const reply = options.reply ?? (() => DEFAULT_REPLY);
  const responseModel = options.responseModel ?? ((model: string) => `${model}-2026-01-01`);
  const delay = options.chunkDelayMs ?? 0;
  const toolArguments = options.toolArguments ?? (() => '{"action":"escalate"}');
  return startJsonServer(
    async (request, response) => {
      if (request.method !== 'POST') return false;
      const model = String(request.body['model'] ?? '');
      const failure = /^fail-(\d{3})$/.exec(model);
      if (failure) {
        sendJson(response, Number(failure[1]), {
          error: {
            message: `simulated failure ${failure[1]}`,
            type: 'server_error',
            param: null,
            code: 'simulated',
          },
        });
        return true;
      }
      const context: CallContext = {
        request,
        model,
        servedModel: responseModel(model),
        reply: reply(request),
        toolArguments: toolArguments(request),
        delay,
      };
      switch (request.path) {
        case '/v1/chat/completions':
          await chatCompletions(context, response);
          return true;
        case '/v1/responses':
          await responses(context, response);
          return true;
        case '/v1/embeddings':
          embeddings(context, response);
          return true;
        default:
          return false;
      }
    },
    '/v1',
    options.port,
  );
}

interface CallContext {
  request: RecordedRequest;
  model: string;
  servedModel: string;
  reply: string;
  toolArguments: string;
  delay: number;
}

/** The function tool the model "calls": the first one the request offers, if any. */
function offeredTool(body: Record<string, unknown>): string | undefined {
  const tools = Array.isArray(body['tools']) ? (body['tools'] as { function?: { name?: unknown } }[]) : [];
  const name = tools[0]?.function?.name;
  return typeof name === 'string' ? name : undefined;
}

let sequence = 0;
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}${Date.now().toString(36)}${sequence.toString(36).padStart(6, '0')}`;
}

function tokenLogprobs(chunks: string[]) {
  return chunks.map((token) => ({
    token,
    logprob: TOKEN_LOGPROB,
    bytes: [...Buffer.from(token)],
    top_logprobs: [],
  }));
}

async function chatCompletions(call: CallContext, response: ServerResponse): Promise<void> {
  const body = call.request.body;
  const choiceCount = typeof body['n'] === 'number' ? body['n'] : 1;
  const wantsLogprobs = body['logprobs'] === true;
  const chunks = splitIntoChunks(call.reply);
  const promptTokens = countTokens(textOfMessages(body['messages']));
  const completionTokens = chunks.length;
  const id = nextId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const tool = offeredTool(body);
  if (tool !== undefined) {
    await chatToolCall(call, response, { id, created, tool, promptTokens });
    return;
  }
  if (body['stream'] !== true) {
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model: call.servedModel,
      choices: Array.from({ length: choiceCount }, (_, index) => ({
        index,
        message: { role: 'assistant', content: call.reply, refusal: null },
        logprobs: wantsLogprobs ? { content: tokenLogprobs(chunks), refusal: null } : null,
        finish_reason: 'stop',
      })),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
    return;
  }
  startSse(response);
  const chunk = (choices: unknown[], usage: unknown = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: call.servedModel,
    choices,
    usage,
  });
  await writeSse(
    response,
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
  );
  for (const [position, text] of chunks.entries()) {
    if (call.model === 'stream-fail' && position === 2) {
      await writeSse(response, { error: { message: 'simulated failure mid-stream', type: 'server_error' } });
      response.end();
      return;
    }
    for (let index = 0; index < choiceCount; index++) {
      await writeSse(
        response,
        chunk([
          {
            index,
            delta: { content: text },
            logprobs: wantsLogprobs ? { content: tokenLogprobs([text]), refusal: null } : null,
            finish_reason: null,
          },
        ]),
        undefined,
        call.delay,
      );
    }
  }
  for (let index = 0; index < choiceCount; index++) {
    await writeSse(response, chunk([{ index, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  }
  const streamOptions = body['stream_options'] as { include_usage?: boolean } | undefined;
  if (streamOptions?.include_usage) {
    await writeSse(
      response,
      chunk([], {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      }),
    );
  }
  await writeSse(response, '[DONE]');
  response.end();
}

/** Answers with one call of the offered tool instead of text (finish reason `tool_calls`). */
async function chatToolCall(
  call: CallContext,
  response: ServerResponse,
  { id, created, tool, promptTokens }: { id: string; created: number; tool: string; promptTokens: number },
): Promise<void> {
  const callId = nextId('call_');
  const usage = { prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 };
  if (call.request.body['stream'] !== true) {
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model: call.servedModel,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [
              { id: callId, type: 'function', function: { name: tool, arguments: call.toolArguments } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage,
    });
    return;
  }
  startSse(response);
  const chunk = (delta: unknown, finishReason: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: call.servedModel,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
  });
  await writeSse(
    response,
    chunk({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool, arguments: '' } }],
    }),
  );
  // Arguments arrive in pieces, as they do from the real API.
  const half = Math.ceil(call.toolArguments.length / 2);
  for (const piece of [call.toolArguments.slice(0, half), call.toolArguments.slice(half)]) {
    await writeSse(
      response,
      chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }),
      undefined,
      call.delay,
    );
  }
  await writeSse(response, chunk({}, 'tool_calls'));
  await writeSse(response, '[DONE]');
  response.end();
}

async function responses(call: CallContext, response: ServerResponse): Promise<void> {
  const body = call.request.body;
  const include = Array.isArray(body['include']) ? (body['include'] as unknown[]) : [];
  const wantsLogprobs = include.includes('message.output_text.logprobs');
  const chunks = splitIntoChunks(call.reply);
  const inputTokens = countTokens(
    typeof body['input'] === 'string' ? body['input'] : textOfMessages(body['input']),
  );
  const id = nextId('resp_');
  const messageId = nextId('msg_');
  const base = {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    model: call.servedModel,
    instructions: body['instructions'] ?? null,
    error: null,
    incomplete_details: null,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
  };
  const message = {
    type: 'message',
    id: messageId,
    status: 'completed',
    role: 'assistant',
    content: [
      {
        type: 'output_text',
        text: call.reply,
        annotations: [],
        ...(wantsLogprobs ? { logprobs: tokenLogprobs(chunks) } : {}),
      },
    ],
  };
  const completed = {
    ...base,
    status: 'completed',
    output: [message],
    usage: {
      input_tokens: inputTokens,
      output_tokens: chunks.length,
      total_tokens: inputTokens + chunks.length,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    },
  };
  if (body['stream'] !== true) {
    sendJson(response, 200, completed);
    return;
  }
  startSse(response);
  let sequenceNumber = 0;
  const event = (type: string, payload: Record<string, unknown>) =>
    writeSse(
      response,
      { type, sequence_number: sequenceNumber++, ...payload },
      type,
      type.endsWith('.delta') ? call.delay : 0,
    );
  await event('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  await event('response.output_item.added', {
    output_index: 0,
    item: { type: 'message', id: messageId, status: 'in_progress', role: 'assistant', content: [] },
  });
  for (const [position, text] of chunks.entries()) {
    if (call.model === 'stream-fail' && position === 2) {
      await writeSse(
        response,
        { type: 'error', code: 'server_error', message: 'simulated failure mid-stream', param: null },
        'error',
      );
      response.end();
      return;
    }
    await event('response.output_text.delta', {
      item_id: messageId,
      output_index: 0,
      content_index: 0,
      delta: text,
    });
  }
  await event('response.output_text.done', {
    item_id: messageId,
    output_index: 0,
    content_index: 0,
    text: call.reply,
  });
  await event('response.output_item.done', { output_index: 0, item: message });
  await event('response.completed', { response: completed });
  response.end();
}

function embeddings(call: CallContext, response: ServerResponse): void {
  const body = call.request.body;
  const inputs = Array.isArray(body['input']) ? (body['input'] as unknown[]) : [body['input']];
  const dimensions = typeof body['dimensions'] === 'number' ? body['dimensions'] : 8;
  const base64 = body['encoding_format'] === 'base64';
  sendJson(response, 200, {
    object: 'list',
    model: call.servedModel,
    data: inputs.map((input, index) => {
      const vector = embedText(String(input), dimensions);
      return {
        object: 'embedding',
        index,
        embedding: base64
          ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
          : [...vector],
      };
    }),
    usage: { prompt_tokens: countTokens(inputs.join(' ')), total_tokens: countTokens(inputs.join(' ')) },
  });
}

/** A deterministic unit vector per text, so equal inputs embed equally. */
function embedText(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (let index = 0; index < text.length; index++)
    vector[index % dimensions] += (text.charCodeAt(index) % 31) / 31;
  const norm = Math.hypot(...vector) || 1;
  for (let index = 0; index < dimensions; index++) vector[index] /= norm;
  return vector;
}

// Standalone: `npm exec -- node test/support/openai-compatible-server.ts [port]` prints the base URL and serves
// until interrupted — for demos and manual runs against a real SDK.
// No top-level await: CommonJS tests require() this module, and require(esm) rejects async module graphs.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  void startOpenAiCompatibleServer({ port }).then((server) => {
    console.log(server.url);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void server.close().then(() => process.exit(0)));
    }
  });
}
