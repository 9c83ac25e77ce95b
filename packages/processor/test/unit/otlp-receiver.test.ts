import { request } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '@decisiontrail/processor';
import type { SpanRecord } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { ExportTraceServiceResponseType, RpcStatusType } from '@decisiontrail/processor/internal';
import { recordSpans, toJson, toProtobuf } from '../support/sdk-spans.ts';
import { postTraces, startTestProcessor, waitFor } from '../support/test-processor.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const NO_STORE = 'processor: { sinks: { clickhouse: { enabled: false } } }';

async function plainSpans(count: number, name = 'GET /health'): Promise<ReturnType<typeof recordSpans>> {
  return recordSpans((tracer) => {
    for (let i = 0; i < count; i += 1)
      tracer.startSpan(name, { attributes: { i, pad: 'p'.repeat(200) } }).end();
  });
}

describe('OTLP/HTTP receiver', () => {
  let ctx: Awaited<ReturnType<typeof startTestProcessor>>;
  beforeAll(async () => {
    ctx = await startTestProcessor(`${NO_STORE}\n`);
  });
  afterAll(async () => {
    await ctx.stop();
  });

  it('answers 200 with an empty ExportTraceServiceResponse in the request encoding', async () => {
    const spans = await plainSpans(3);
    const proto = await postTraces(ctx.processor.url, toProtobuf(spans));
    expect(proto.status).toBe(200);
    expect(proto.headers.get('content-type')).toBe('application/x-protobuf');
    expect(
      ExportTraceServiceResponseType.toObject(ExportTraceServiceResponseType.decode(proto.body)),
    ).toEqual({});
    const json = await postTraces(ctx.processor.url, toJson(spans), JSON_HEADERS);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(json.body))).toEqual({});
  });

  it('accepts gzip bodies in both encodings', async () => {
    const spans = await plainSpans(2);
    const before = ctx.processor.metrics.spansAccepted.get();
    const proto = await postTraces(ctx.processor.url, gzipSync(toProtobuf(spans)), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    const json = await postTraces(ctx.processor.url, gzipSync(toJson(spans)), {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    expect([proto.status, json.status]).toEqual([200, 200]);
    expect(ctx.processor.metrics.spansAccepted.get() - before).toBe(4);
  });

  it('reports invalid spans through partial_success and accepts the rest', async () => {
    const good = JSON.parse(new TextDecoder().decode(toJson(await plainSpans(2)))) as {
      resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[];
    };
    good.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.traceId = 'not-hex';
    const res = await postTraces(ctx.processor.url, JSON.stringify(good), JSON_HEADERS);
    expect(res.status).toBe(200);
    const body = JSON.parse(new TextDecoder().decode(res.body)) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/traceId/);
    const proto = JSON.parse(new TextDecoder().decode(toJson(await plainSpans(1))));
    proto.resourceSpans[0].scopeSpans[0].spans[0].spanId = '';
    const encoded = await postTraces(ctx.processor.url, JSON.stringify(proto), JSON_HEADERS);
    expect(JSON.parse(new TextDecoder().decode(encoded.body)).partialSuccess.rejectedSpans).toBe('1');
  });

  it('answers 400 with a google.rpc.Status for undecodable bodies', async () => {
    const res = await postTraces(ctx.processor.url, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]));
    expect(res.status).toBe(400);
    expect(RpcStatusType.toObject(RpcStatusType.decode(res.body))).toMatchObject({ code: 3 });
    const json = await postTraces(ctx.processor.url, '{"resourceSpans": 3}', JSON_HEADERS);
    expect(json.status).toBe(400);
    expect(JSON.parse(new TextDecoder().decode(json.body)).message).toMatch(/resourceSpans/);
    const badGzip = await postTraces(ctx.processor.url, 'not gzip', {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    expect(badGzip.status).toBe(400);
  });

  it('answers 415 for other content types or encodings, 405 for other methods, 404 elsewhere', async () => {
    expect((await postTraces(ctx.processor.url, '{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect(
      (await postTraces(ctx.processor.url, '{}', { ...JSON_HEADERS, 'content-encoding': 'br' })).status,
    ).toBe(415);
    expect((await fetch(`${ctx.processor.url}/v1/traces`)).status).toBe(405);
    expect((await fetch(`${ctx.processor.url}/v1/logs`, { method: 'POST' })).status).toBe(404);
  });

  it('answers 413 for a body over the limit, declared or inflated from gzip', async () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1);
    expect((await postTraces(ctx.processor.url, big)).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(
      (
        await postTraces(ctx.processor.url, bomb, {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(413);
  });

  it('serves liveness, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${ctx.processor.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${ctx.processor.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${ctx.processor.url}/metrics`)).text();
    expect(metrics).toMatch(/^# TYPE decisiontrail_processor_spans_received_total counter$/m);
    expect(metrics).toMatch(/^decisiontrail_processor_requests_total\{code="400"\} [1-9]/m);
    expect(metrics).toMatch(/^decisiontrail_processor_queue_entries \d+$/m);
    expect(metrics).toMatch(/^decisiontrail_processor_ack_latency_seconds_bucket\{le="0.25"\} [1-9]/m);
  });
});

describe('startup', () => {
  it('fails cleanly when the port is taken, leaving nothing running', async () => {
    const first = await startTestProcessor(NO_STORE);
    const taken = Number(new URL(first.processor.url).port);
    try {
      const second = startTestProcessor(
        `processor: { receiver: { port: ${taken} }, sinks: { clickhouse: { enabled: false } } }`,
      );
      await expect(second).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.stop();
    }
  });
});

describe('receiver backpressure', () => {
  it('answers 429 with Retry-After when every request slot is taken', async () => {
    const ctx = await startTestProcessor(
      `processor: { receiver: { maxConcurrentRequests: 1 }, sinks: { clickhouse: { enabled: false } } }`,
    );
    try {
      const { port } = new URL(ctx.processor.url);
      // Hold the only slot: a request whose body never completes.
      const held = request({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/v1/traces',
        headers: { 'content-type': 'application/json', 'content-length': '100' },
      });
      held.on('error', () => undefined);
      held.write('{');
      await waitFor(async () => {
        const res = await postTraces(ctx.processor.url, '{}', JSON_HEADERS);
        if (res.status !== 429) return false;
        expect(res.headers.get('retry-after')).toBe('1');
        return true;
      });
      held.destroy();
    } finally {
      await ctx.stop();
    }
  });

  it('answers 503 with Retry-After once the unsent backlog passes queue.maxBytes (sink down)', async () => {
    const dead = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/v1/traces`;
    const ctx = await startTestProcessor(
      `processor:
  queue: { maxBytes: 1MiB, retryInitialMs: 50, retryMaxMs: 100 }
  stages: { route: { other: forward } }
  sinks: { clickhouse: { enabled: false }, forward: { url: "${deadUrl}", timeoutMs: 1000 } }`,
      { drainTimeoutMs: 100 },
    );
    try {
      const body = toProtobuf(await plainSpans(1500));
      let status = 200;
      for (let i = 0; i < 20 && status === 200; i += 1) {
        const res = await postTraces(ctx.processor.url, body);
        status = res.status;
        if (status === 503) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(status).toBe(503);
      // The drain reads and decodes the backlog from the log before the sink sees it: its failures follow.
      await waitFor(() => ctx.processor.metrics.sinkErrors.get({ sink: 'forward' }) > 0);
    } finally {
      await ctx.stop();
      dead.close();
    }
  });
});

describe('OTLP forward sink', () => {
  it('forwards non-audit spans to the next hop with the same content', async () => {
    const received: SpanRecord[] = [];
    const next = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // @opentelemetry/exporter-trace-otlp-http speaks OTLP/JSON.
        expect(req.headers['content-type']).toBe('application/json');
        received.push(...decodeJsonRequest(Buffer.concat(chunks)).records);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => next.listen(0, '127.0.0.1', r));
    const nextUrl = `http://127.0.0.1:${(next.address() as AddressInfo).port}/v1/traces`;
    const ctx = await startTestProcessor(
      `processor: { stages: { route: { other: forward } }, sinks: { clickhouse: { enabled: false }, forward: { url: "${nextUrl}" } } }`,
    );
    try {
      const spans = await recordSpans((tracer) => {
        const s = tracer.startSpan('POST /score', { attributes: { n: 7, d: 0.5, tags: ['x', 'y'] } });
        s.addEvent('e', { a: true });
        s.end();
      });
      expect((await postTraces(ctx.processor.url, toProtobuf(spans))).status).toBe(200);
      await waitFor(() => received.length === 1);
      expect(received[0]).toEqual(spanRecordFromReadableSpan(spans[0]!));
    } finally {
      await ctx.stop();
      next.close();
    }
  });
});
