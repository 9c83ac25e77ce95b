import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditStore } from './audit-store.ts';
import { ProcessorError } from './errors.ts';
import type { HttpAccess } from './http-access.ts';

const MAX_QUERY_BODY = 1024 * 1024;

function reply(res: ServerResponse, status: number, body: unknown): void {
  // bigint from 64-bit columns becomes a decimal string; Date serializes as ISO text by itself.
  const text = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function replyError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  reply(res, status, { error: { code, message: message.split('\n')[0] } });
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * `POST /v1/query/<name>` with a JSON object of parameters: runs the store's whitelisted query of that name
 * so that a CLI in another process can read the embedded store this process holds. Reads need the `read`
 * scope, incident and erasure writes the `write` scope; without authentication configured, loopback clients
 * only. Only `application/json` is accepted, so no HTML form or `text/plain` fetch from a web page is answered.
 */
export function createQueryHandler(
  store: AuditStore,
  access: HttpAccess,
): (req: IncomingMessage, res: ServerResponse, name: string) => Promise<void> {
  return async (req, res, name) => {
    const screened = access.screen(req);
    if (screened !== undefined) {
      replyError(res, screened.status, screened.code, screened.message, screened.headers);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      replyError(res, 405, 'METHOD_NOT_ALLOWED', 'use POST');
      return;
    }
    // An unknown name needs the read scope too, so the list of queries is no oracle for strangers.
    const scope = store.queryScope(name) ?? 'read';
    const denied = access.check(req, { scope, openWithoutAuth: false });
    if (denied !== undefined) {
      replyError(res, denied.status, denied.code, denied.message, denied.headers);
      return;
    }
    if (store.queryScope(name) === undefined) {
      replyError(res, 404, 'QUERY_UNKNOWN', `unknown query ${JSON.stringify(name)}`);
      return;
    }
    if (!isJson(req.headers['content-type'])) {
      replyError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
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
