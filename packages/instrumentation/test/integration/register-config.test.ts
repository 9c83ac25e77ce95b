import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSigningKey } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';

// The register entry reads `capture`, `driftFeatures` and `batch` of decisiontrail.yaml: each test sets a value other than the
// default and looks for its effect in what the child process records, so an ignored key fails the test.

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

interface OtlpJsonSpan {
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

function spansOf(bodies: unknown[]): OtlpJsonSpan[] {
  return (bodies as { resourceSpans: { scopeSpans: { spans: OtlpJsonSpan[] }[] }[] }[]).flatMap((body) =>
    body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  );
}

const attribute = (span: OtlpJsonSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};

describe('register entry with a decisiontrail.yaml', () => {
  let dir: string;
  let openai: RunningServer;
  let collector: { url: string; bodies: unknown[]; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dt-register-config-'));
    openai = await startOpenAiCompatibleServer();
    const bodies: unknown[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    collector = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      bodies,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  });
  afterAll(async () => {
    await openai.close();
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runApp(
    name: string,
    yaml: string,
    extraEnv: Record<string, string>,
  ): Promise<OtlpJsonSpan[]> {
    const configFile = path.join(dir, `${name}.yaml`);
    await writeFile(configFile, yaml);
    collector.bodies.length = 0;
    await run(
      process.execPath,
      [
        '--conditions=@decisiontrail/source',
        '--import',
        '@decisiontrail/instrumentation/register',
        fixture('sdk-calls-app.mjs'),
      ],
      {
        cwd: repoRoot,
        timeout: 60_000,
        env: {
          ...process.env,
          DECISIONTRAIL_HMAC_KEY: 'child-key',
          DECISIONTRAIL_CONFIG: configFile,
          DECISIONTRAIL_START_SDK: 'true',
          TEST_OPENAI_URL: openai.url,
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          // Keys and spool in the test's directory: never a key or spool of the checkout.
          DECISIONTRAIL_KEYS_DIR: path.join(dir, 'keys'),
          DECISIONTRAIL_SPOOL_DIR: path.join(dir, 'spool'),
          ...extraEnv,
        },
      },
    );
    return spansOf(collector.bodies);
  }

  it('records content as capture says (default hash)', async () => {
    const spans = await runApp('capture', 'capture: { input: full, output: none }\n', { TEST_CALLS: '1' });
    const chat = spans.find((span) => span.name === 'chat gpt-4o-mini')!;
    expect(attribute(chat, 'audit.input.capture_mode')).toBe('full');
    expect(attribute(chat, 'audit.output.capture_mode')).toBe('none');
    expect(attribute(chat, 'audit.output.hash')).toBeUndefined();
  });

  it('records the input features driftFeatures allow-lists for a model, and no others', async () => {
    const spans = await runApp(
      'drift',
      'driftFeatures:\n  credit-risk: [income_10k, late_payments]\n  other-model: [debt_to_income]\n',
      { TEST_CALLS: '1', TEST_ONNX: '1' },
    );
    const credit = spans.find((span) => attribute(span, 'audit.model.id') === 'credit-risk')!;
    // The run's input row is [5.5, 0.25, 3, 1] in the model's feature order (income_10k, debt_to_income, …).
    expect(JSON.parse(attribute(credit, 'audit.input.features')!)).toEqual({
      income_10k: 5.5,
      late_payments: 1,
    });
    const chat = spans.find((span) => span.name === 'chat gpt-4o-mini')!;
    expect(attribute(chat, 'audit.input.features')).toBeUndefined();
  });

  it('seals a signed checkpoint every batch.maxSpans spans (default 512)', async () => {
    const key = generateSigningKey();
    const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const spans = await runApp('batch', 'batch: { maxSpans: 2, flushIntervalMs: 3600000 }\n', {
      TEST_CALLS: '4',
      DECISIONTRAIL_SIGNING_KEY: pem,
    });
    expect(spans.filter((span) => span.name === 'chat gpt-4o-mini')).toHaveLength(4);
    // Two spans per checkpoint while the app runs, and the hour-long interval never sealed one early (the seal at
    // shutdown may add records of the processor's own, such as decision counts, after the fourth leaf).
    const sizes = spans
      .filter((span) => span.name === 'audit.checkpoint')
      .map((span) => Number(attribute(span, 'audit.checkpoint.size')));
    expect(sizes.filter((size) => size <= 4)).toEqual([2, 4]);
  });

  it('does not register with a decisiontrail.yaml it cannot use, and says why on stderr', async () => {
    const configFile = path.join(dir, 'bad.yaml');
    await writeFile(configFile, 'capture: { input: everything }\n');
    const { stderr } = await run(
      process.execPath,
      [
        '--conditions=@decisiontrail/source',
        '--import',
        '@decisiontrail/instrumentation/register',
        '-e',
        '0',
      ],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, DECISIONTRAIL_CONFIG: configFile } },
    );
    expect(stderr).toContain('could not register');
    expect(stderr).toContain('capture.input');
  });
});
