import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSigningKey, WITNESS_FILE_NAME } from '@decisiontrail/signing-exporter';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  SPAN_NAME_AUDIT_CHECKPOINT,
} from '@decisiontrail/semconv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';

// The zero-code path with DECISIONTRAIL_START_SDK=true, in a child process as users run it: with a signing key it
// exports through a DurableSpanProcessor (signed stream, spool, witness), without one it says so on stderr.
const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

interface OtlpSpan {
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

const attribute = (span: OtlpSpan, key: string): string | undefined => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};

describe('register entry with DECISIONTRAIL_START_SDK=true', () => {
  let openai: RunningServer;
  let collector: { url: string; spans: OtlpSpan[]; close(): Promise<void> };
  beforeAll(async () => {
    openai = await startOpenAiCompatibleServer();
    const spans: OtlpSpan[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const resource of body.resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    collector = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      spans,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  });
  afterAll(async () => {
    await openai.close();
    await collector.close();
  });

  async function runApp(
    env: NodeJS.ProcessEnv,
    preload: ['--import', 'sdk-app.mjs'] | ['-r', 'sdk-app.cjs'] = ['--import', 'sdk-app.mjs'],
  ): Promise<{ stdout: string; stderr: string; spans: OtlpSpan[] }> {
    collector.spans.length = 0;
    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--conditions=@decisiontrail/source',
        preload[0],
        '@decisiontrail/instrumentation/register',
        fixture(preload[1]),
      ],
      {
        cwd: repoRoot,
        timeout: 60_000,
        env: {
          ...process.env,
          DECISIONTRAIL_HMAC_KEY: 'child-key',
          DECISIONTRAIL_START_SDK: 'true',
          TEST_OPENAI_URL: openai.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_SERVICE_NAME: 'register-signing-test',
          ...env,
        },
      },
    );
    return { stdout, stderr, spans: [...collector.spans] };
  }

  it('signs and spools with the key of DECISIONTRAIL_SIGNING_KEY_FILE, and says so on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dt-register-signing-'));
    const key = generateSigningKey();
    const keyFile = path.join(dir, 'app-signing.key');
    writeFileSync(keyFile, key.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const spoolDir = path.join(dir, 'spool');
    const { stdout, stderr, spans } = await runApp({
      DECISIONTRAIL_SIGNING_KEY_FILE: keyFile,
      DECISIONTRAIL_KEYS_DIR: path.join(dir, 'keys'),
      DECISIONTRAIL_SPOOL_DIR: spoolDir,
    });

    const stream = /stream (\S+)$/m.exec(stderr)?.[1];
    expect(stderr).toContain(
      `@decisiontrail/instrumentation/register: signing with key ${key.keyId} (key file ${keyFile}), spool ${spoolDir}, stream ${stream}`,
    );
    const decision = spans.find((span) => span.name === 'chat gpt-4o-mini');
    expect(decision, JSON.stringify(spans.map((span) => span.name))).toBeDefined();
    expect(stdout.trim()).not.toBe('');
    expect(attribute(decision!, ATTR_AUDIT_DECISION_ID)).toMatch(/^[0-9a-f-]{36}$/);
    // Every exported span, the decision and the checkpoint that seals it, belongs to one stream, seq 0, 1, 2, …
    const checkpoints = spans.filter((span) => span.name === SPAN_NAME_AUDIT_CHECKPOINT);
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const span of spans) expect(attribute(span, ATTR_AUDIT_INTEGRITY_STREAM)).toBe(stream);
    const seqs = spans
      .filter((span) => span.name !== SPAN_NAME_AUDIT_CHECKPOINT)
      .map((span) => Number(attribute(span, ATTR_AUDIT_INTEGRITY_SEQ)))
      .sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, index) => index));
    // The checkpoint is also kept outside the store, in the witness beside the keys.
    const witness = readFileSync(path.join(dir, 'keys', WITNESS_FILE_NAME), 'utf8');
    expect(witness).toContain(stream);
    expect(existsSync(spoolDir)).toBe(true);
  });

  it('signs a CommonJS application under node -r with the PEM of DECISIONTRAIL_SIGNING_KEY', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dt-register-signing-cjs-'));
    const key = generateSigningKey();
    const { stderr, spans } = await runApp(
      {
        DECISIONTRAIL_SIGNING_KEY: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        DECISIONTRAIL_KEYS_DIR: path.join(dir, 'keys'),
        DECISIONTRAIL_SPOOL_DIR: path.join(dir, 'spool'),
      },
      ['-r', 'sdk-app.cjs'],
    );
    expect(stderr).toContain(`signing with key ${key.keyId} (DECISIONTRAIL_SIGNING_KEY)`);
    const stream = /stream (\S+)$/m.exec(stderr)?.[1];
    const decision = spans.find((span) => span.name === 'chat gpt-4o-mini');
    expect(decision).toBeDefined();
    expect(attribute(decision!, ATTR_AUDIT_INTEGRITY_STREAM)).toBe(stream);
    expect(spans.some((span) => span.name === SPAN_NAME_AUDIT_CHECKPOINT)).toBe(true);
  });

  it('without a key: exports unsigned and says so on stderr at start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dt-register-unsigned-'));
    const { stderr, spans } = await runApp({ DECISIONTRAIL_KEYS_DIR: dir });
    expect(stderr).toContain(
      `@decisiontrail/instrumentation/register: no signing key configured (DECISIONTRAIL_SIGNING_KEY, DECISIONTRAIL_SIGNING_KEY_FILE, or ${path.join(dir, 'signing.key')}): audit records are exported UNSIGNED`,
    );
    const decision = spans.find((span) => span.name === 'chat gpt-4o-mini');
    expect(decision).toBeDefined();
    expect(attribute(decision!, ATTR_AUDIT_INTEGRITY_STREAM)).toBeUndefined();
    expect(spans.some((span) => span.name === SPAN_NAME_AUDIT_CHECKPOINT)).toBe(false);
  });

  it('with a key that cannot be used: the application still runs, unsigned, and stderr names the problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dt-register-badkey-'));
    const { stdout, stderr, spans } = await runApp({
      DECISIONTRAIL_KEYS_DIR: dir,
      DECISIONTRAIL_SIGNING_KEY: 'not a key',
    });
    expect(stdout.trim()).not.toBe('');
    expect(stderr).toContain(
      '@decisiontrail/instrumentation/register: DECISIONTRAIL_SIGNING_KEY does not hold a PEM private key: audit records are exported UNSIGNED',
    );
    expect(spans.some((span) => span.name === 'chat gpt-4o-mini')).toBe(true);
  });
});
