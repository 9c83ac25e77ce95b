import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running local model server. */
export interface AssistantServer {
  /** Base URL for `new OpenAI({ baseURL })`, ending in `/v1`. */
  baseUrl: string;
  close(): Promise<void>;
}

/** What the local assistant answers to a conversation. */
export type AssistantReply = (messages: { role: string; content: string }[]) => string;

/**
 * A local stand-in for the OpenAI API that speaks its wire format over real HTTP: `POST /v1/chat/completions`,
 * as JSON or, with `stream: true`, as server-sent events (with `stream_options.include_usage`). The demo's
 * assistant talks to it through the real `openai` client, so the instrumentation sees exactly what it would see
 * against api.openai.com — without a network or an API key.
 */
export async function startAssistantServer(reply: AssistantReply): Promise<AssistantServer> {
  let sequence = 0;
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        respondJson(response, 500, { error: { message: String(error), type: 'server_error' } });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      respondJson(response, 404, {
        error: { message: `no route ${request.method} ${request.url}`, type: 'invalid_request_error' },
      });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      model?: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
      messages?: { role: string; content: string }[];
    };
    const messages = body.messages ?? [];
    const answer = reply(messages);
    const tokens = answer.match(/\S+\s*/g) ?? [];
    const promptTokens = messages.reduce((sum, m) => sum + (m.content.match(/\S+/g)?.length ?? 0), 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    };
    const id = `chatcmpl-demo${(++sequence).toString(36).padStart(6, '0')}`;
    const created = Math.floor(Date.now() / 1000);
    // A dated snapshot, as the real API reports the model that served a request.
    const model = `${body.model ?? 'assistant'}-2026-01-01`;
    if (body.stream !== true) {
      respondJson(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
      });
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (data: unknown): void => {
      response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    };
    const chunk = (choices: unknown[], chunkUsage: unknown = null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices,
      usage: chunkUsage,
    });
    send(
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
    );
    for (const token of tokens)
      send(chunk([{ index: 0, delta: { content: token }, logprobs: null, finish_reason: null }]));
    send(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
    if (body.stream_options?.include_usage === true) send(chunk([], usage));
    send('[DONE]');
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function respondJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
