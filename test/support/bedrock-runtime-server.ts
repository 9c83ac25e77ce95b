import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import {
  countTokens,
  type RecordedRequest,
  type RunningServer,
  splitIntoChunks,
  startJsonServer,
  textOfMessages,
} from './http-server.ts';

/** Options of {@link startBedrockRuntimeServer}. */
export interface BedrockRuntimeServerOptions {
  /** The model's answer to a request. @default a fixed sentence */
  reply?: (request: RecordedRequest) => string;
  /** Port to listen on. @default a free port */
  port?: number;
}

/** The reply used when no `reply` option is given. */
export const DEFAULT_BEDROCK_REPLY = 'The invoice matches the purchase order and can be paid.';

/** The tool input answered when a Converse request configures tools. */
export const BEDROCK_TOOL_INPUT = { invoice: 'INV-2207', action: 'pay' };

/** Client settings that point `new BedrockRuntimeClient(...)` at a server started here. */
export function bedrockClientConfig(server: RunningServer) {
  return {
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
  };
}

/**
 * Starts a local server that speaks the Bedrock Runtime wire format (restJson1) over real HTTP/2 (clear text):
 * `POST /model/{modelId}/converse` (JSON), `/converse-stream` (an `application/vnd.amazon.eventstream` body in
 * the AWS event-stream binary framing: prelude with lengths and CRC32, typed headers `:message-type`,
 * `:event-type`, `:content-type`, JSON payload, message CRC32), `/invoke` (an Anthropic Messages body answered
 * in that format) and `/invoke-with-response-stream` (the same framing; each `chunk` event's JSON payload holds
 * `bytes`, base64 of one event of the model family's stream, and `p`, padding the service adds: Anthropic Messages
 * events for a body with `messages`, Llama-style `generation` pieces for a body with `prompt`, the last chunk
 * carrying `amazon-bedrock-invocationMetrics`). When a Converse request configures tools, or an Anthropic body
 * offers `tools`, the answer is a text block and a tool-use block for the first tool with
 * {@link BEDROCK_TOOL_INPUT} (streamed as input pieces).
 *
 * Failure scenarios by model id: `fail-400` (ValidationException), `fail-429` (ThrottlingException), `fail-500`
 * (InternalServerException) answer with that status and `x-amzn-errortype`; `stream-fail` streams two deltas, then
 * a `modelStreamErrorException` exception message.
 */
export function startBedrockRuntimeServer(options: BedrockRuntimeServerOptions = {}): Promise<RunningServer> {
  const reply = options.reply ?? (() => DEFAULT_BEDROCK_REPLY);
  return startJsonServer(
    (request, response) => {
      const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/.exec(
        request.path,
      );
      if (request.method !== 'POST' || !route) return false;
      const modelId = decodeURIComponent(route[1]!);
      if (sendFailure(response, modelId)) return true;
      const text = reply(request);
      if (route[2] === 'invoke') invoke(request, response, modelId, text);
      else if (route[2] === 'invoke-with-response-stream') invokeStream(request, response, modelId, text);
      else if (route[2] === 'converse') converse(request, response, text);
      else converseStream(request, response, modelId, text);
      return true;
    },
    '',
    options.port,
    // The SDK's default request handler for Bedrock Runtime is NodeHttp2Handler.
    { http2: true },
  );
}

const FAILURES: Record<string, [number, string]> = {
  'fail-400': [400, 'ValidationException'],
  'fail-429': [429, 'ThrottlingException'],
  'fail-500': [500, 'InternalServerException'],
};

function sendFailure(response: ServerResponse, modelId: string): boolean {
  const failure = FAILURES[modelId];
  if (!failure) return false;
  const body = JSON.stringify({ message: `simulated ${failure[1]}` });
  response.writeHead(failure[0], {
    'content-type': 'application/json',
    'x-amzn-errortype': `${failure[1]}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
  return true;
}

function usageOf(request: RecordedRequest, outputTokens: number) {
  const inputTokens = countTokens(
    `${textOfMessages(request.body['system'])} ${textOfMessages(request.body['messages'])}`,
  );
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

function firstToolName(body: Record<string, unknown>): string | undefined {
  const tools = (body['toolConfig'] as { tools?: { toolSpec?: { name?: unknown } }[] } | undefined)?.tools;
  const name = tools?.[0]?.toolSpec?.name;
  return typeof name === 'string' ? name : undefined;
}

let sequence = 0;
const toolUseId = () => `tooluse_${(++sequence).toString(36).padStart(8, '0')}`;
const TOOL_LEAD = 'Checking the invoice.';

function converse(request: RecordedRequest, response: ServerResponse, text: string): void {
  const tool = firstToolName(request.body);
  const content =
    tool === undefined
      ? [{ text }]
      : [{ text: TOOL_LEAD }, { toolUse: { toolUseId: toolUseId(), name: tool, input: BEDROCK_TOOL_INPUT } }];
  const outputTokens = tool === undefined ? splitIntoChunks(text).length : 12;
  sendBody(response, 'application/json', {
    output: { message: { role: 'assistant', content } },
    stopReason: tool === undefined ? 'end_turn' : 'tool_use',
    usage: usageOf(request, outputTokens),
    metrics: { latencyMs: 42 },
  });
}

function converseStream(
  request: RecordedRequest,
  response: ServerResponse,
  modelId: string,
  text: string,
): void {
  const tool = firstToolName(request.body);
  const chunks = tool === undefined ? splitIntoChunks(text) : [TOOL_LEAD];
  response.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': `req-${++sequence}`,
  });
  const event = (type: string, payload: unknown) =>
    response.write(eventStreamMessage(eventHeaders(type), payload));
  event('messageStart', { role: 'assistant' });
  for (const [position, chunk] of chunks.entries()) {
    if (modelId === 'stream-fail' && position === 2) {
      response.end(
        eventStreamMessage(
          {
            ':message-type': 'exception',
            ':exception-type': 'modelStreamErrorException',
            ':content-type': 'application/json',
          },
          { message: 'simulated failure mid-stream', originalStatusCode: 500 },
        ),
      );
      return;
    }
    event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: chunk } });
  }
  event('contentBlockStop', { contentBlockIndex: 0 });
  if (tool !== undefined) {
    event('contentBlockStart', {
      contentBlockIndex: 1,
      start: { toolUse: { toolUseId: toolUseId(), name: tool } },
    });
    // The input arrives as JSON text in pieces, with whitespace the plain response does not have.
    const json = JSON.stringify(BEDROCK_TOOL_INPUT, null, 1);
    const half = Math.ceil(json.length / 2);
    for (const piece of [json.slice(0, half), json.slice(half)])
      event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: piece } } });
    event('contentBlockStop', { contentBlockIndex: 1 });
  }
  event('messageStop', { stopReason: tool === undefined ? 'end_turn' : 'tool_use' });
  event('metadata', {
    usage: usageOf(request, tool === undefined ? chunks.length : 12),
    metrics: { latencyMs: 42 },
  });
  response.end();
}

/** InvokeModel with an Anthropic Messages body, answered in that format. */
function invoke(request: RecordedRequest, response: ServerResponse, modelId: string, text: string): void {
  const usage = usageOf(request, splitIntoChunks(text).length);
  sendBody(response, 'application/json', {
    id: `msg_bdrk_${(++sequence).toString(36)}`,
    type: 'message',
    role: 'assistant',
    model: modelId.replace(/^[a-z]+\./, '').replace(/-v\d+:\d+$/, ''),
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
  });
}

/** Base64 of each event in a `chunk` message, as InvokeModelWithResponseStream sends them. */
function invokeStream(
  request: RecordedRequest,
  response: ServerResponse,
  modelId: string,
  text: string,
): void {
  response.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': `req-${++sequence}`,
    'x-amzn-bedrock-content-type': 'application/json',
  });
  const chunk = (event: Record<string, unknown>) =>
    response.write(
      eventStreamMessage(eventHeaders('chunk'), {
        bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64'),
        p: 'abcdefghijklmnopqrstuvwxyzABCDEF'.slice(0, 1 + (sequence % 32)),
      }),
    );
  const failMidStream = (): void =>
    void response.end(
      eventStreamMessage(
        {
          ':message-type': 'exception',
          ':exception-type': 'modelStreamErrorException',
          ':content-type': 'application/json',
        },
        { message: 'simulated failure mid-stream', originalStatusCode: 500 },
      ),
    );
  const body = request.body;
  const tools = Array.isArray(body['tools']) ? (body['tools'] as { name?: unknown }[]) : [];
  const tool = typeof tools[0]?.name === 'string' ? tools[0].name : undefined;
  const chunks = tool === undefined ? splitIntoChunks(text) : [TOOL_LEAD];
  const inputTokens =
    typeof body['prompt'] === 'string' ? countTokens(body['prompt']) : usageOf(request, 0).inputTokens;
  const outputTokens = tool === undefined ? chunks.length : 12;
  const metrics = {
    inputTokenCount: inputTokens,
    outputTokenCount: outputTokens,
    invocationLatency: 42,
    firstByteLatency: 7,
  };
  if (typeof body['prompt'] === 'string') {
    // Llama-style: each chunk a piece of the generation; the last one says why it stopped, with the metrics.
    for (const [position, piece] of chunks.entries()) {
      if (modelId === 'stream-fail' && position === 2) {
        failMidStream();
        return;
      }
      const last = position === chunks.length - 1;
      chunk({
        generation: piece,
        prompt_token_count: position === 0 ? inputTokens : null,
        generation_token_count: position + 1,
        stop_reason: last ? 'stop' : null,
        ...(last ? { 'amazon-bedrock-invocationMetrics': metrics } : {}),
      });
    }
    response.end();
    return;
  }
  chunk({
    type: 'message_start',
    message: {
      id: `msg_bdrk_${(++sequence).toString(36)}`,
      type: 'message',
      role: 'assistant',
      model: modelId.replace(/^[a-z]+\./, '').replace(/-v\d+:\d+$/, ''),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 1 },
    },
  });
  chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  for (const [position, piece] of chunks.entries()) {
    if (modelId === 'stream-fail' && position === 2) {
      failMidStream();
      return;
    }
    chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
  }
  chunk({ type: 'content_block_stop', index: 0 });
  if (tool !== undefined) {
    chunk({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: toolUseId(), name: tool, input: {} },
    });
    const json = JSON.stringify(BEDROCK_TOOL_INPUT, null, 1);
    const half = Math.ceil(json.length / 2);
    for (const piece of [json.slice(0, half), json.slice(half)])
      chunk({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: piece },
      });
    chunk({ type: 'content_block_stop', index: 1 });
  }
  chunk({
    type: 'message_delta',
    delta: { stop_reason: tool === undefined ? 'end_turn' : 'tool_use', stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics });
  response.end();
}

function sendBody(response: ServerResponse, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': `req-${++sequence}`,
  });
  response.end(text);
}

function eventHeaders(eventType: string): Record<string, string> {
  return { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' };
}

/** Header value type 7: a UTF-8 string with a 2-byte length. */
const STRING_HEADER = 7;

/**
 * One message in the AWS event-stream framing: total length and headers length (uint32 BE), the CRC32 of those 8
 * bytes, the headers (name length byte, name, type byte, value length uint16 BE, value), the payload, and the CRC32
 * of everything before it.
 */
export function eventStreamMessage(headers: Record<string, string>, payload: unknown): Buffer {
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    header.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(header, 1);
    header.writeUInt8(STRING_HEADER, 1 + nameBytes.length);
    header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(header, 4 + nameBytes.length);
    headerParts.push(header);
  }
  const headerBytes = Buffer.concat(headerParts);
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const total = 12 + headerBytes.length + body.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  body.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}
