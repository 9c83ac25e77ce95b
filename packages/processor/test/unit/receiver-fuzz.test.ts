import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../../core/test/support/prng.ts';
import { richSpans, toJson, toProtobuf } from '../support/sdk-spans.ts';
import { startTestProcessor } from '../support/test-processor.ts';

const BODY_LIMIT = 64 * 1024;
const CASES = 10_000;

interface FuzzCase {
  kind: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

type Json = Record<string, unknown>;

/**
 * Structural mutations the OTLP/JSON mapping forbids: each makes the whole request undecodable (a wrong
 * type where a message, list, string, integer or enum belongs), never merely an invalid span.
 */
const WRONG_TYPES: ((request: Json, pick: <T>(xs: T[]) => T) => void)[] = [
  (r, pick) => (r.resourceSpans = pick([3, 'x', true, {}])),
  (r, pick) => (rs(r).scopeSpans = pick([3, 'x', { a: 1 }])),
  (r, pick) => (rs(r).resource = pick([3, 'x', []])),
  (r, pick) => (span(r).name = pick([5, true, [], {}])),
  (r, pick) => (span(r).attributes = pick([{ a: 1 }, 'x', 7])),
  (r, pick) => (span(r).traceId = pick([123, true, [], {}])),
  (r, pick) =>
    (span(r).startTimeUnixNano = pick(['abc', '-1', 1.5, '1e9', true, [], '99999999999999999999999'])),
  (r, pick) => (span(r).kind = pick(['SERVER', 1.5, true, {}])),
  (r, pick) => (span(r).status = pick([[], 'x', 5])),
  (r, pick) => (span(r).events = pick([{}, 'x', 1])),
  (r, pick) => (span(r).links = pick([{}, 'x', 1])),
  (r, pick) => ((span(r).attributes as unknown[])[0] = pick([5, 'x', [], null])),
  (r, pick) =>
    ((span(r).attributes as Json[])[0]!.value = pick([
      { intValue: '1.5' },
      { intValue: true },
      { boolValue: 'true' },
      { stringValue: 5 },
      { doubleValue: 'x' },
      { arrayValue: { values: 5 } },
      { kvlistValue: { values: 'x' } },
      { bytesValue: '***' },
      'plain',
    ])),
  (r) => {
    let deep: Json = { stringValue: 'x' };
    for (let i = 0; i < 40; i += 1) deep = { arrayValue: { values: [deep] } };
    (span(r).attributes as Json[])[0]!.value = deep;
  },
];

function rs(r: Json): Json {
  return (r.resourceSpans as Json[])[0]!;
}
function span(r: Json): Json {
  return ((rs(r).scopeSpans as Json[])[0]!.spans as Json[])[0]!;
}

function generateCases(protoBody: Uint8Array, jsonText: string): FuzzCase[] {
  const rnd = prng(0xdec1);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)]!;
  const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const jsonBytes = new TextEncoder().encode(jsonText);
  // Large bodies are cut from shared pools: building 10,000 of them afresh would dominate the run time.
  const noise = randomBytes(2 * BODY_LIMIT + 2);
  const bombs = [2, 5, 13, 31].map((factor) => gzipSync(new Uint8Array(BODY_LIMIT * factor)));
  const generators: (() => FuzzCase)[] = [
    // A strict prefix of a request with one top-level field always leaves a length prefix unsatisfied.
    () => ({
      kind: 'truncated-protobuf',
      body: protoBody.subarray(0, 1 + int(protoBody.length - 1)),
      headers: PROTO,
    }),
    // A strict prefix of a JSON object is never valid JSON.
    () => ({
      kind: 'truncated-json',
      body: jsonBytes.subarray(0, 1 + int(jsonBytes.length - 1)),
      headers: JSON_CT,
    }),
    () => {
      const request = JSON.parse(jsonText) as Json;
      pick(WRONG_TYPES)(request, pick);
      return {
        kind: 'wrong-type-json',
        body: new TextEncoder().encode(JSON.stringify(request)),
        headers: JSON_CT,
      };
    },
    () => ({
      kind: 'json-root',
      body: new TextEncoder().encode(pick(['[]', '1', '"x"', 'null', 'true', '[{"resourceSpans":[]}]'])),
      headers: JSON_CT,
    }),
    () => {
      const body = Uint8Array.from(jsonBytes);
      // Break UTF-8 at an ASCII position: a lone continuation byte or a byte UTF-8 never uses.
      let at = 1 + int(body.length - 2);
      while (body[at]! >= 0x80) at -= 1;
      body[at] = pick([0x80, 0xbf, 0xc0, 0xff, 0xfe]);
      return { kind: 'bad-utf8-json', body, headers: JSON_CT };
    },
    // Field 2 of ExportTraceServiceRequest is unknown and skipped by wire type; 6 and 7 do not exist.
    () => ({
      kind: 'bad-wire-type',
      body: Uint8Array.from([pick([0x16, 0x17]), ...randomBytes(int(64))]),
      headers: PROTO,
    }),
    () => ({
      kind: 'not-gzip',
      body: Uint8Array.from([pick([0x00, 0x1f, 0x7b]), 0x00, ...randomBytes(int(256))]),
      headers: { ...PROTO, 'content-encoding': 'gzip' },
    }),
    () => {
      const zipped = gzipSync(pick([protoBody, jsonBytes]));
      return {
        kind: 'truncated-gzip',
        body: zipped.subarray(0, 10 + int(zipped.length - 18)),
        headers: { ...pick([PROTO, JSON_CT]), 'content-encoding': 'gzip' },
      };
    },
    () => ({
      kind: 'oversized',
      body: noise.subarray(int(BODY_LIMIT), 2 * BODY_LIMIT + 2),
      headers: pick([PROTO, JSON_CT]),
    }),
    () => ({
      kind: 'gzip-bomb',
      body: pick(bombs),
      headers: { ...pick([PROTO, JSON_CT]), 'content-encoding': 'gzip' },
    }),
    () => ({
      kind: 'wrong-content-type',
      body: pick([protoBody, jsonBytes]),
      headers: {
        'content-type': pick([
          'text/plain',
          'application/protobuf',
          'application/xml',
          'application/grpc',
          'multipart/form-data',
          '',
        ]),
      },
    }),
    () => ({
      kind: 'wrong-content-encoding',
      body: protoBody,
      headers: { ...PROTO, 'content-encoding': pick(['br', 'deflate', 'zstd', 'x-gzip2']) },
    }),
  ];
  return Array.from({ length: CASES }, () => pick(generators)());
}

describe('receiver fuzz', () => {
  let ctx: Awaited<ReturnType<typeof startTestProcessor>>;
  beforeAll(async () => {
    ctx = await startTestProcessor(
      `processor: { receiver: { maxBodyBytes: ${BODY_LIMIT} }, sinks: { clickhouse: { enabled: false } } }`,
    );
  });
  afterAll(async () => {
    await ctx.stop();
  });

  it(`answers each of ${CASES} malformed bodies with a 4xx, stores nothing and stays up with bounded memory`, async () => {
    const spans = await richSpans();
    const cases = generateCases(toProtobuf(spans), new TextDecoder().decode(toJson(spans)));
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const unexpected: string[] = [];
    const kinds = new Map<string, number>();
    let next = 0;
    // Plain node:http with keep-alive: a fetch per case would make the client, not the receiver, the bottleneck.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const { port } = new URL(ctx.processor.url);
    const post = (c: FuzzCase): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/v1/traces',
            headers: { ...c.headers, 'content-length': c.body.length },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        // The receiver may answer (413) and close before reading the whole body.
        req.on('error', (error: NodeJS.ErrnoException) =>
          error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
        );
        req.end(c.body);
      });
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const index = next++;
        const c = cases[index]!;
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        const status = await post(c);
        if (status < 400 || status >= 500) unexpected.push(`case ${index} (${c.kind}): HTTP ${status}`);
        if (index % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    agent.destroy();
    expect(unexpected).toEqual([]);
    expect(kinds.size).toBe(12);
    // Nothing was acknowledged, so nothing can reach a sink: the write-ahead log is the only way in.
    expect(ctx.processor.metrics.spansAccepted.get()).toBe(0);
    const metrics = await (await fetch(`${ctx.processor.url}/metrics`)).text();
    expect(metrics).toMatch(/^decisiontrail_processor_queue_entries 0$/m);
    expect((await fetch(`${ctx.processor.url}/healthz`)).status).toBe(200);
    expect(peakRss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  });
});
