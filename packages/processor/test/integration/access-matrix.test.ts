import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCall } from '../support/http-call.ts';
import { toProtobuf } from '../support/sdk-spans.ts';
import { makeDecisionSpans } from '../support/signed-batches.ts';
import { ATTR_AUDIT_DECISION_ID } from '@decisiontrail/semconv';
import { startTestProcessor, tempDir, waitFor } from '../support/test-processor.ts';

// One token per scope, each in its own file as an operator would keep them.
const TOKENS = {
  ingest: 'ingest-0123456789abcdef0123',
  read: 'read-0123456789abcdef012345',
  write: 'write-0123456789abcdef01234',
  admin: 'admin-0123456789abcdef01234',
} as const;
type TokenName = keyof typeof TOKENS;
const ALLOWED_ORIGIN = 'https://console.example';

const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2027-01-01T00:00:00.000Z';
const RANGE = { from: FROM, to: TO };

interface Endpoint {
  /** Request path. */
  path: string;
  /** Content type the endpoint accepts. */
  contentType: string;
  /** A body the endpoint answers 200 once access is granted. */
  body: () => Uint8Array | string;
  /** The scope it needs and tokens that lack it. */
  scope: TokenName;
  wrong: TokenName[];
}

let incidentId = '';
let traces: Uint8Array;

const query = (name: string, params: () => Record<string, unknown>, scope: 'read' | 'write'): Endpoint => ({
  path: `/v1/query/${name}`,
  contentType: 'application/json',
  body: () => JSON.stringify(params()),
  scope,
  wrong: scope === 'read' ? ['ingest', 'write'] : ['ingest', 'read'],
});

// Every endpoint: OTLP traces, every read query the store whitelists, every write query.
const ENDPOINTS: Endpoint[] = [
  {
    path: '/v1/traces',
    contentType: 'application/x-protobuf',
    body: () => traces,
    scope: 'ingest',
    wrong: ['read', 'write'],
  },
  query('decisionTimeline', () => ({ decisionId: '019ab3f0-0000-7000-8000-000000000001' }), 'read'),
  query('timelineWithEvidence', () => ({ decisionId: '019ab3f0-0000-7000-8000-000000000001' }), 'read'),
  query('subjectDecisions', () => ({ subjectId: 'subject-1', ...RANGE }), 'read'),
  query('decisions', () => RANGE, 'read'),
  query('oversightRates', () => RANGE, 'read'),
  query('accuracy', () => RANGE, 'read'),
  query('confidenceDistribution', () => RANGE, 'read'),
  query('fairnessDisparity', () => RANGE, 'read'),
  query('periodReport', () => RANGE, 'read'),
  query('driftSignal', () => ({ modelId: 'credit-scorer', baseline: RANGE, current: RANGE }), 'read'),
  query('degradationSignal', () => ({ modelId: 'credit-scorer', at: TO }), 'read'),
  query('adversarialSignals', () => RANGE, 'read'),
  query('getIncident', () => ({ incidentId }), 'read'),
  query('listIncidents', () => ({}), 'read'),
  query('listQuarantine', () => ({}), 'read'),
  query('listErasures', () => ({}), 'read'),
  query('spansForVerification', () => RANGE, 'read'),
  query(
    'createIncident',
    () => ({ title: 'matrix', severity: 'low', category: 'malfunction', occurredAt: FROM }),
    'write',
  ),
  query('updateIncident', () => ({ incidentId, description: 'updated by the matrix' }), 'write'),
  query('recordErasure', () => ({ subjectId: 'subject-3', reason: 'matrix' }), 'write'),
];

describe('access matrix of serve: every endpoint × credential, Origin, Host, Content-Type', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let ctx: Awaited<ReturnType<typeof startTestProcessor>>;
  let base: string;

  const call = (
    endpoint: Endpoint,
    options: { token?: string; headers?: Record<string, string>; contentType?: string } = {},
  ): ReturnType<typeof httpCall> =>
    httpCall(`${base}${endpoint.path}`, {
      headers: {
        'content-type': options.contentType ?? endpoint.contentType,
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      body: endpoint.body(),
    });

  beforeAll(async () => {
    temp = await tempDir('dt-matrix-');
    const tokens = await Promise.all(
      Object.entries(TOKENS).map(async ([name, secret]) => {
        const file = path.join(temp.dir, `${name}.token`);
        await writeFile(file, `${secret}\n`, { mode: 0o600 });
        return `{ name: ${name}, scopes: [${name}], file: ${file} }`;
      }),
    );
    ctx = await startTestProcessor(
      `processor:
  receiver: { allowedOrigins: ["${ALLOWED_ORIGIN}"] }
  auth: { tokens: [${tokens.join(', ')}] }
`,
      { dir: temp.dir },
    );
    base = ctx.processor.url;
    traces = toProtobuf(await makeDecisionSpans(3));
    const created = await httpCall(`${base}/v1/query/createIncident`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.write}` },
      body: JSON.stringify({ title: 'seed', severity: 'low', category: 'malfunction', occurredAt: FROM }),
    });
    expect(created.status).toBe(200);
    incidentId = (JSON.parse(created.text) as { result: { incidentId: string } }).result.incidentId;
  });
  afterAll(async () => {
    await ctx?.stop();
    await temp?.remove();
  });

  describe.each(ENDPOINTS)('$path', (endpoint) => {
    it('no credential → 401 with WWW-Authenticate: Bearer; a wrong token → 401 invalid_token', async () => {
      const missing = await call(endpoint);
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="decisiontrail"');
      const wrong = await call(endpoint, { token: `${TOKENS[endpoint.scope]}x` });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
      // The refused token is not echoed back.
      expect(wrong.text).not.toContain(TOKENS[endpoint.scope]);
    });

    it('a token without the scope → 403 insufficient_scope', async () => {
      for (const name of endpoint.wrong) {
        const denied = await call(endpoint, { token: TOKENS[name] });
        expect(denied.status, name).toBe(403);
        expect(denied.headers['www-authenticate']).toContain(`scope="${endpoint.scope}"`);
      }
    });

    it('the right scope and admin → 200, with no CORS headers', async () => {
      for (const name of [endpoint.scope, 'admin'] as const) {
        const ok = await call(endpoint, { token: TOKENS[name] });
        expect(ok.status, `${name}: ${ok.text}`).toBe(200);
        expect(Object.keys(ok.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      }
    });

    it('a foreign Origin → 403; an allowed one → 200 with its CORS header', async () => {
      const token = TOKENS[endpoint.scope];
      const foreign = await call(endpoint, { token, headers: { origin: 'http://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      const allowed = await call(endpoint, { token, headers: { origin: ALLOWED_ORIGIN } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    });

    it('a foreign Host (DNS rebinding) → 421, also without a credential', async () => {
      const port = new URL(base).port;
      for (const token of [TOKENS[endpoint.scope], undefined]) {
        const rebound = await call(endpoint, {
          ...(token === undefined ? {} : { token }),
          headers: { host: `evil.example:${port}` },
        });
        expect(rebound.status).toBe(421);
      }
      const named = await call(endpoint, {
        token: TOKENS[endpoint.scope],
        headers: { host: `localhost:${port}` },
      });
      expect(named.status).toBe(200);
    });

    it('a body a web page can send without preflight (text/plain, a form) → 415', async () => {
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
        const refused = await call(endpoint, { token: TOKENS[endpoint.scope], contentType });
        expect(refused.status, contentType).toBe(415);
      }
    });
  });

  it('an unknown or malformed query name is 404 with the read scope and 401 without; serve keeps running', async () => {
    for (const name of ['dropTable', '%E0%A4%A']) {
      const unknown = await httpCall(`${base}/v1/query/${name}`, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.read}` },
        body: '{}',
      });
      expect(unknown.status, name).toBe(404);
      const anonymous = await httpCall(`${base}/v1/query/${name}`, {
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(anonymous.status, name).toBe(401);
    }
    expect((await httpCall(`${base}/healthz`, { method: 'GET' })).status).toBe(200);
  });

  it('answers a CORS preflight from an allowed origin only', async () => {
    const preflight = (origin: string) =>
      httpCall(`${base}/v1/query/decisions`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    expect((await preflight('http://evil.example')).status).toBe(403);
  });

  it('the OTel SDK OTLP/HTTP exporter with an Authorization header gets its spans stored; without, refused', async () => {
    const spans = await makeDecisionSpans(5);
    const send = (exporter: OTLPTraceExporter): Promise<ExportResult> =>
      new Promise((resolve) => exporter.export(spans, resolve));
    const stored = (): number => ctx.processor.metrics.spansStored.get({ sink: 'clickhouse' });

    const anonymous = new OTLPTraceExporter({ url: `${base}/v1/traces` });
    const refused = await send(anonymous);
    await anonymous.shutdown();
    expect(refused.code).toBe(ExportResultCode.FAILED);

    const before = stored();
    const exporter = new OTLPTraceExporter({
      url: `${base}/v1/traces`,
      headers: { Authorization: `Bearer ${TOKENS.ingest}` },
    });
    const accepted = await send(exporter);
    await exporter.shutdown();
    expect(accepted.code).toBe(ExportResultCode.SUCCESS);
    await waitFor(() => stored() >= before + 5);
    const decisions = await httpCall(`${base}/v1/query/decisions`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.read}` },
      body: JSON.stringify(RANGE),
    });
    const ids = (JSON.parse(decisions.text) as { result: { decisionId: string }[] }).result.map(
      (d) => d.decisionId,
    );
    for (const span of spans) expect(ids).toContain(span.attributes[ATTR_AUDIT_DECISION_ID]);
  });
});
