import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A request as the test servers saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A running local server. */
export interface RunningServer {
  /** Base URL to give the SDK client (`baseURL`). */
  url: string;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Stops the server, dropping kept-alive connections. */
  close(): Promise<void>;
}

/** Handles one parsed JSON request; return false to answer 404. */
export type JsonHandler = (request: RecordedRequest, response: ServerResponse) => Promise<boolean> | boolean;

/**
 * Starts an HTTP server on 127.0.0.1 (a free port unless given) that parses JSON bodies for `handler`. With `http2`
 * it speaks HTTP/2 in clear text (prior knowledge, as the AWS SDK's `NodeHttp2Handler` connects to an `http:` URL);
 * the handler then gets the HTTP/2 compatibility response, which has the same methods.
 */
export async function startJsonServer(
  handler: JsonHandler,
  pathPrefix: string,
  port = 0,
  { http2 = false }: { http2?: boolean } = {},
): Promise<RunningServer> {
  const requests: RecordedRequest[] = [];
  const sessions = new Set<Http2Session>();
  const onRequest = (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      let body: Record<string, unknown>;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        sendJson(response, 400, {
          error: { message: 'request body is not JSON', type: 'invalid_request_error' },
        });
        return;
      }
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: (incoming.url ?? '/').split('?')[0]!,
        headers: incoming.headers,
        body,
      };
      requests.push(request);
      Promise.resolve(handler(request, response))
        .then((handled) => {
          if (!handled)
            sendJson(response, 404, { error: { message: `no route ${request.path}`, type: 'not_found' } });
        })
        .catch((error: unknown) => {
          if (!response.headersSent)
            sendJson(response, 500, { error: { message: String(error), type: 'server_error' } });
          else response.destroy();
        });
    });
  };
  const server: Server = http2
    ? (createHttp2Server(onRequest as never) as unknown as Server)
    : createServer(onRequest);
  if (http2) {
    server.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}${pathPrefix}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (http2) for (const session of sessions) session.destroy();
        else server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Writes a JSON response. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Starts a `text/event-stream` response. */
export function startSse(response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // Flush headers now: streaming clients resolve their call on the response head, before the first event.
  response.flushHeaders();
}

/** Writes one server-sent event; `event` adds an `event:` line. Resolves after `delayMs`. */
export async function writeSse(
  response: ServerResponse,
  data: unknown,
  event?: string,
  delayMs = 0,
): Promise<void> {
  if (response.destroyed) return;
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  response.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${text}\n\n`);
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** Words of a reply, each with its leading space, as streaming providers chunk them. */
export function splitIntoChunks(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [text];
}

/** A rough token count (words), enough for usage figures. */
export function countTokens(text: string): number {
  return (text.match(/\S+/g) ?? []).length;
}

/** The text content of chat-style messages (`content` strings or text parts). */
export function textOfMessages(messages: unknown): string {
  if (typeof messages === 'string') return messages;
  if (!Array.isArray(messages)) return '';
  return messages
    .map((message: { content?: unknown }) => {
      if (typeof message?.content === 'string') return message.content;
      if (Array.isArray(message?.content)) {
        return message.content
          .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : ''))
          .join('');
      }
      return '';
    })
    .join('\n');
}
