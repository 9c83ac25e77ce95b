import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessorError, loadBearerTokens, startProcessor } from '@decisiontrail/processor';
import type { AuthConfig } from '@decisiontrail/processor';
import { BearerTokenSet, hostHeaderName, servedHostNames } from '@decisiontrail/processor/internal';
import { writeTestCertificates } from '../../../../test/support/test-certificates.ts';
import type { TestCertificates } from '../../../../test/support/test-certificates.ts';
import { httpCall } from '../support/http-call.ts';
import { recordSpans, toProtobuf } from '../support/sdk-spans.ts';
import { startTestProcessor, tempDir, testConfig } from '../support/test-processor.ts';

const INGEST = 'ingest-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef01';
const PROTOBUF = { 'content-type': 'application/x-protobuf' };

const auth = (tokens: AuthConfig['tokens']): AuthConfig => ({
  tokens,
  clientCertificates: [],
  allowUnauthenticated: false,
});

describe('bearer tokens', () => {
  const set = new BearerTokenSet([
    { name: 'collector', scopes: ['ingest'], secret: INGEST },
    { name: 'ops', scopes: ['admin'], secret: READ },
  ]);

  it('finds a token by its digest and refuses every near miss', () => {
    expect(set.scopesOf(INGEST)).toEqual(['ingest']);
    expect(set.scopesOf(READ)).toEqual(['admin']);
    for (const guess of ['', INGEST.slice(0, -1), `${INGEST}0`, INGEST.toUpperCase(), ` ${INGEST}`]) {
      expect(set.scopesOf(guess)).toBeUndefined();
    }
  });

  it('reads tokens from files and variables; errors name the source, never the secret', async () => {
    const temp = await tempDir('dt-tokens-');
    try {
      await writeFile(path.join(temp.dir, 'ingest.token'), `  ${INGEST}\n`);
      await writeFile(path.join(temp.dir, 'short.token'), 'short-secret\n');
      const loaded = await loadBearerTokens(
        auth([
          { name: 'a', scopes: ['ingest'], file: path.join(temp.dir, 'ingest.token'), env: undefined },
          { name: 'b', scopes: ['read'], file: undefined, env: 'DT_B' },
        ]),
        { DT_B: READ },
      );
      expect(loaded.map((t) => [t.name, t.secret])).toEqual([
        ['a', INGEST],
        ['b', READ],
      ]);
      const short = loadBearerTokens(
        auth([{ name: 's', scopes: ['read'], file: path.join(temp.dir, 'short.token'), env: undefined }]),
      );
      await expect(short).rejects.toThrow(/token "s": file .*short\.token must hold a token of at least 16/);
      await expect(short).rejects.not.toThrow(/short-secret/);
      await expect(
        loadBearerTokens(auth([{ name: 'm', scopes: ['read'], file: undefined, env: 'DT_MISSING' }]), {}),
      ).rejects.toThrow(/token "m": environment variable DT_MISSING/);
      await expect(
        loadBearerTokens(
          auth([{ name: 'f', scopes: ['read'], file: path.join(temp.dir, 'absent'), env: undefined }]),
        ),
      ).rejects.toThrow(/token "f": cannot read file .*absent: ENOENT/);
    } finally {
      await temp.remove();
    }
  });
});

describe('Host names a server answers to', () => {
  it('parses Host headers without port, brackets, case or trailing dot', () => {
    expect(hostHeaderName('LocalHost:4318')).toBe('localhost');
    expect(hostHeaderName('[::1]:4318')).toBe('::1');
    expect(hostHeaderName('audit.example.')).toBe('audit.example');
    expect(hostHeaderName('')).toBeUndefined();
    expect(hostHeaderName(undefined)).toBeUndefined();
  });

  it('loopback binds answer to the loopback names, others to their address and the configured names', () => {
    expect([...servedHostNames('127.0.0.1', [])!].sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    expect([...servedHostNames('10.1.2.3', ['audit.example'])!].sort()).toEqual([
      '10.1.2.3',
      'audit.example',
    ]);
    const wildcard = servedHostNames('0.0.0.0', [])!;
    expect(wildcard.has('localhost') && wildcard.has('127.0.0.1')).toBe(true);
    expect(wildcard.has('evil.example')).toBe(false);
    expect(servedHostNames('0.0.0.0', ['*'])).toBeUndefined();
  });
});

describe('safe defaults', () => {
  it('refuses a non-loopback bind without authentication, naming the way out', async () => {
    const temp = await tempDir('dt-bind-');
    try {
      const config = testConfig(temp.dir, 'processor: { sinks: { clickhouse: { enabled: false } } }');
      config.processor.receiver.host = '0.0.0.0';
      const started = startProcessor(config, { log: () => undefined });
      await expect(started).rejects.toThrow(ProcessorError);
      await expect(started).rejects.toMatchObject({ code: 'UNSAFE_BIND' });
      await expect(started).rejects.toThrow(/processor\.auth\.allowUnauthenticated/);
      config.processor.auth.allowUnauthenticated = true;
      const open = await startProcessor(config, { log: () => undefined });
      await open.close();
    } finally {
      await temp.remove();
    }
  });

  it('starts on every interface once a token is configured, and asks every request for it', async () => {
    const ctx = await startTestProcessor(
      'processor: { sinks: { clickhouse: { enabled: false } }, auth: { tokens: [{ name: c, scopes: [ingest], env: DT_T }] } }',
      { env: { DT_T: INGEST } },
    );
    try {
      const body = toProtobuf(await recordSpans((t) => t.startSpan('x').end()));
      const traces = `${ctx.processor.url}/v1/traces`;
      const missing = await httpCall(traces, { headers: PROTOBUF, body });
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="decisiontrail"');
      const ok = await httpCall(traces, {
        headers: { ...PROTOBUF, authorization: `Bearer ${INGEST}` },
        body,
      });
      expect(ok.status).toBe(200);
      // Health probes need no credential; metrics do (read scope), and an ingest token lacks it.
      expect((await httpCall(`${ctx.processor.url}/healthz`, { method: 'GET' })).status).toBe(200);
      const metrics = await httpCall(`${ctx.processor.url}/metrics`, {
        method: 'GET',
        headers: { authorization: `Bearer ${INGEST}` },
      });
      expect(metrics.status).toBe(403);
      expect(metrics.headers['www-authenticate']).toContain('error="insufficient_scope", scope="read"');
    } finally {
      await ctx.stop();
    }
  });
});

describe('TLS and mutual TLS', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let certs: TestCertificates;
  let ctx: Awaited<ReturnType<typeof startTestProcessor>>;
  let body: Uint8Array;
  const pem = (file: string): Buffer => readFileSync(file);

  beforeAll(async () => {
    temp = await tempDir('dt-tls-');
    certs = writeTestCertificates(temp.dir, ['gateway', 'ops', 'unlisted']);
    await writeFile(path.join(temp.dir, 'ingest.token'), INGEST);
    ctx = await startTestProcessor(
      `processor:
  sinks: { clickhouse: { enabled: false } }
  receiver:
    tls: { cert: ${certs.serverCert}, key: ${certs.serverKey}, clientCa: ${certs.clientCa}, ca: ${certs.ca} }
  auth:
    tokens: [{ name: collector, scopes: [ingest], file: ${path.join(temp.dir, 'ingest.token')} }]
    clientCertificates:
      - { commonName: gateway, scopes: [ingest] }
      - { commonName: ops, scopes: [admin] }
`,
    );
    body = toProtobuf(await recordSpans((t) => t.startSpan('tls').end()));
  });
  afterAll(async () => {
    await ctx?.stop();
    await temp?.remove();
  });

  const traces = (): string => `${ctx.processor.url}/v1/traces`;
  const client = (name: string): { cert: Buffer; key: Buffer } => ({
    cert: pem(certs.clients[name]!.cert),
    key: pem(certs.clients[name]!.key),
  });

  it('serves HTTPS that a client trusting the configured CA accepts, and nothing in plain HTTP', async () => {
    expect(ctx.processor.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await httpCall(traces(), {
      headers: { ...PROTOBUF, authorization: `Bearer ${INGEST}` },
      body,
      ca: pem(certs.ca),
    });
    expect(ok.status).toBe(200);
    await expect(httpCall(traces(), { headers: PROTOBUF, body })).rejects.toThrow(
      /unable to verify|self-signed|issuer/i,
    );
    const plain = await httpCall(traces().replace('https:', 'http:'), { headers: PROTOBUF, body }).catch(
      (error: Error) => error,
    );
    expect(plain instanceof Error ? 'refused' : plain.status).not.toBe(200);
  });

  it('a client certificate from the client CA authenticates with the scopes of its common name', async () => {
    const ca = pem(certs.ca);
    expect((await httpCall(traces(), { headers: PROTOBUF, body, ca, ...client('gateway') })).status).toBe(
      200,
    );
    const metrics = `${ctx.processor.url}/metrics`;
    expect((await httpCall(metrics, { method: 'GET', ca, ...client('gateway') })).status).toBe(403);
    expect((await httpCall(metrics, { method: 'GET', ca, ...client('ops') })).status).toBe(200);
    // Verified but named by no rule: authenticated, with no scope.
    expect((await httpCall(traces(), { headers: PROTOBUF, body, ca, ...client('unlisted') })).status).toBe(
      403,
    );
    const stranger = { cert: pem(certs.stranger.cert), key: pem(certs.stranger.key) };
    expect((await httpCall(traces(), { headers: PROTOBUF, body, ca, ...stranger })).status).toBe(401);
    expect((await httpCall(traces(), { headers: PROTOBUF, body, ca })).status).toBe(401);
    // A token that is sent is judged by itself, even next to a good certificate.
    const wrongToken = await httpCall(traces(), {
      headers: { ...PROTOBUF, authorization: 'Bearer not-the-token-0123456789' },
      body,
      ca,
      ...client('ops'),
    });
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
