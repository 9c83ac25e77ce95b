import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, startProcessor } from '@decisiontrail/processor';
import type { ProcessorHandle } from '@decisiontrail/processor';
import { ATTR_AUDIT_DECISION_ID, ATTR_AUDIT_RECORD_TYPE } from '@decisiontrail/semconv';
import {
  collectorEnv,
  collectorPorts,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  sendOtlpJson,
  startCollector,
  waitFor,
  type RunningCollector,
  type SpanToSend,
} from '../../integration/collector/otelcol-harness.ts';
import { writeTestCertificates, type TestCertificates } from '../../support/test-certificates.ts';

// The real Collector (gateway.yaml + overlays/serve-auth.yaml: bearertokenauth on otlp_http, TLS
// trusting serve's CA) in front of the real processor with its embedded store, authentication and TLS.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

const INGEST_TOKEN = randomBytes(24).toString('hex');
const READ_TOKEN = randomBytes(24).toString('hex');

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function decisionSpans(count: number): SpanToSend[] {
  return Array.from({ length: count }, () => ({
    traceId: hex(16),
    spanId: hex(8),
    name: 'audit.decision credit-model',
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: 'decision',
      [ATTR_AUDIT_DECISION_ID]: `0193${hex(2)}-0000-7000-8000-${hex(6)}`,
    },
  }));
}

describe.skipIf(binary === undefined)('Collector → serve with bearertokenauth over TLS', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'otelcol-serve-auth-'));
  let certs: TestCertificates;
  let processor: ProcessorHandle;
  let backend: OtlpJsonSink;
  let collectors: RunningCollector[] = [];

  const stored = (): number => processor.metrics.spansStored.get({ sink: 'clickhouse' });

  beforeAll(async () => {
    certs = writeTestCertificates(scratch);
    writeFileSync(join(scratch, 'ingest.token'), INGEST_TOKEN, { mode: 0o600 });
    writeFileSync(join(scratch, 'wrong.token'), randomBytes(24).toString('hex'), { mode: 0o600 });
    const config = parseConfig(
      `storage: { dataDir: data }
processor:
  receiver:
    port: 0
    tls: { cert: ${certs.serverCert}, key: ${certs.serverKey}, ca: ${certs.ca} }
  auth:
    tokens:
      - { name: collector, scopes: [ingest], file: ingest.token }
      - { name: investigator, scopes: [read], env: DT_READ_TOKEN }
`,
      { baseDir: scratch, env: {} },
    );
    processor = await startProcessor(config, { log: () => undefined, env: { DT_READ_TOKEN: READ_TOKEN } });
    backend = await OtlpJsonSink.start();
  });
  afterEach(async () => {
    await Promise.all(collectors.map((collector) => collector.stop()));
    collectors = [];
  });
  afterAll(async () => {
    await processor?.close();
    await backend?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function start(tokenFile: string): Promise<{ collector: RunningCollector; http: number }> {
    const ports = await collectorPorts();
    const collector = await startCollector({
      binary: binary as string,
      config: ['gateway.yaml', 'overlays/serve-auth.yaml'],
      env: {
        ...collectorEnv(ports, mkdtempSync(join(scratch, 'storage-'))),
        DECISIONTRAIL_PROCESSOR_ENDPOINT: processor.url,
        TEAM_BACKEND_ENDPOINT: backend.endpoint,
        DECISIONTRAIL_TOKEN_FILE: tokenFile,
        DECISIONTRAIL_CA_FILE: certs.ca,
      },
      healthPort: ports.health,
      set: ['exporters::otlp_http/backend::encoding=json'],
    });
    collectors.push(collector);
    return { collector, http: ports.http };
  }

  it('with the ingest token the audit spans are stored; serve speaks only TLS', async () => {
    expect(processor.url).toMatch(/^https:/);
    const { http } = await start(join(scratch, 'ingest.token'));
    const spans = decisionSpans(20);
    const before = stored();
    await sendOtlpJson(http, 'loan-api', spans);
    await waitFor(() => stored() >= before + spans.length, 60_000);

    // Read back through the query API with a read-scoped token, trusting serve's CA.
    const { request } = await import('node:https');
    const body = JSON.stringify({
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${processor.url}/v1/query/decisions`,
        {
          method: 'POST',
          ca: readFileSync(certs.ca),
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            authorization: `Bearer ${READ_TOKEN}`,
          },
        },
        (res) => {
          let out = '';
          res.on('data', (chunk: Buffer) => (out += chunk.toString()));
          res.on('end', () =>
            res.statusCode === 200 ? resolve(out) : reject(new Error(`${res.statusCode} ${out}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const ids = new Set(
      (JSON.parse(text) as { result: { decisionId: string }[] }).result.map((d) => d.decisionId),
    );
    for (const span of spans) {
      const id = String(span.attributes[ATTR_AUDIT_DECISION_ID]);
      expect(ids.has(id), id).toBe(true);
    }
  });

  it('with a wrong token serve answers 401 and stores nothing of it', async () => {
    const { collector, http } = await start(join(scratch, 'wrong.token'));
    const before = stored();
    await sendOtlpJson(http, 'loan-api', decisionSpans(5));
    await waitFor(() => /\b401\b/.test(collector.output()), 60_000);
    // serve's reason reaches the Collector's log; otlp_http treats 401 as permanent and drops the batch.
    expect(collector.output()).toContain('HTTP Status Code 401, Message=the bearer token is not valid');
    expect(stored()).toBe(before);
    expect(processor.metrics.requests.get({ code: '401' })).toBeGreaterThan(0);
  });
});
