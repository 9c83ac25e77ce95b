import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditStore } from './audit-store.ts';
import { ProcessorError } from './errors.ts';

const MAX_QUERY_BODY = 1024 * 1024;

function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' ||
    address === '::1' ||
    address === '::ffff:127.0.0.1' ||
    (address?.startsWith('127.') ?? false)
  );
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  // bigint from 64-bit columns becomes a decimal string; Date serializes as ISO text by itself.
  const text = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function replyError(res: ServerResponse, status: number, code: string, message: string): void {
  reply(res, status, { error: { code, message: message.split('\n')[0] } });
}

/**
 * `POST /v1/query/<name>` with a JSON object of parameters: runs the store's whitelisted query of that name
 * so that a CLI in another process can read the embedded store this process holds. Loopback clients only.
 */
export function createQueryHandler(
  store: AuditStore,
): (req: IncomingMessage, res: ServerResponse, name: string) => Promise<void> {
  return async (req, res, name) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      replyError(res, 403, 'FORBIDDEN', 'the query endpoint answers loopback clients only');
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      replyError(res, 405, 'METHOD_NOT_ALLOWED', 'use POST');
      return;
    }
    if (!store.hasQuery(name)) {
      replyError(res, 404, 'QUERY_UNKNOWN', `unknown query ${JSON.stringify(name)}`);
      return;
    }
    let params: unknown;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_QUERY_BODY) throw new Error('body too large');
        chunks.push(chunk);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      params = text.trim() === '' ? {} : JSON.parse(text);
      if (typeof params !== 'object' || params === null || Array.isArray(params))
        throw new Error('expected a JSON object');
    } catch (error) {
      replyError(res, 400, 'QUERY_INVALID', `bad parameters: ${(error as Error).message}`);
      return;
    }
    try {
      reply(res, 200, { result: await store.query(name, params as Record<string, unknown>) });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'QUERY_INVALID' || code === 'INVALID_ARGUMENT' || code === 'INVALID_OPTIONS') {
        replyError(res, 400, 'QUERY_INVALID', (error as Error).message);
      } else if (code === 'NOT_FOUND') {
        replyError(res, 404, 'NOT_FOUND', (error as Error).message);
      } else {
        const message =
          error instanceof ProcessorError || error instanceof Error ? error.message : String(error);
        replyError(res, 500, typeof code === 'string' ? code : 'STORE_FAILED', message);
      }
    }
  };
}
