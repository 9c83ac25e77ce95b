import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What {@link httpCall} sends: headers exactly as given (no implicit Content-Type), TLS material when https. */
export interface HttpCallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** PEM contents trusted for the server's certificate. */
  ca?: Buffer;
  /** Client certificate and key (PEM contents) for mutual TLS. */
  cert?: Buffer;
  key?: Buffer;
}

/** One HTTP(S) request with full control of every header, including `Host` and `Origin` (fetch forbids both). */
export function httpCall(
  url: string,
  options: HttpCallOptions = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const body = options.body ?? '';
  const headers = { 'content-length': String(Buffer.byteLength(body)), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: options.method ?? 'POST',
        headers,
        agent: false,
        ...(https ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
