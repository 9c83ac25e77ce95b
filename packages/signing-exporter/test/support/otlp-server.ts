import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanRecord } from '@decisiontrail/core';
import { freePort } from '../../../../test/support/free-port.ts';
import { decodeTraceRequest } from './otlp-protobuf.ts';

/** A local OTLP/HTTP protobuf receiver for tests: can be started, stopped and set to fail. */
export class OtlpTestServer {
  readonly records: SpanRecord[] = [];
  requests = 0;
  /** HTTP status to answer with; 200 accepts. */
  status = 200;
  #server: Server | undefined;
  port = 0;

  /** Reserves a free port without listening on it (the target is "down"). */
  async reservePort(): Promise<number> {
    this.port = await freePort();
    return this.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests += 1;
        if (this.status === 200) this.records.push(...decodeTraceRequest(Buffer.concat(chunks)));
        response.writeHead(this.status, { 'content-type': 'application/x-protobuf' });
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
