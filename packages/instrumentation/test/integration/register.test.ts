import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const env = { ...process.env, DECISIONTRAIL_HMAC_KEY: 'child-key', DECISIONTRAIL_HMAC_KEY_ID: 'child' };

interface ChildSpan {
  name: string;
  attributes: Record<string, unknown>;
}

async function runChild(preloadFlag: '--import' | '-r', app: string): Promise<ChildSpan[]> {
  // process.execPath is the pinned Node 22 under vitest; the source condition resolves workspace packages to src.
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=@decisiontrail/source',
      preloadFlag,
      '@decisiontrail/instrumentation/register',
      fixture(app),
    ],
    { cwd: repoRoot, env, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildSpan[];
}

const decisions = (spans: ChildSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');

describe('register entry', () => {
  it('instruments an ESM application through node --import (openai and onnxruntime-node)', async () => {
    const spans = decisions(await runChild('--import', 'esm-app.mjs'));
    expect(spans.map((span) => span.name)).toEqual([
      'chat gpt-4o-mini',
      'chat gpt-4o-mini',
      'audit.decision credit-risk',
    ]);
    expect(spans[0]?.attributes['audit.input.hash_key_id']).toBe('child');
    expect(spans[1]?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(spans[2]?.attributes['audit.model.version']).toBe('1.0.0');
  });

  it('instruments a CommonJS application through node -r (openai and @anthropic-ai/sdk)', async () => {
    const spans = decisions(await runChild('-r', 'cjs-app.cjs'));
    expect(spans.map((span) => span.name)).toEqual([
      'embeddings text-embedding-3-small',
      'chat claude-test-1',
    ]);
    expect(spans[1]?.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('with DECISIONTRAIL_START_SDK=true', () => {
    let openai: RunningServer;
    let collector: { url: string; bodies: unknown[]; close(): Promise<void> };
    beforeAll(async () => {
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
    });

    it('starts the Node SDK from OTEL_* variables and keeps decisions under an always_off sampler', async () => {
      const { stdout } = await run(
        process.execPath,
        [
          '--conditions=@decisiontrail/source',
          '--import',
          '@decisiontrail/instrumentation/register',
          fixture('sdk-app.mjs'),
        ],
        {
          cwd: repoRoot,
          timeout: 60_000,
          env: {
            ...env,
            DECISIONTRAIL_START_SDK: 'true',
            TEST_OPENAI_URL: openai.url,
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
            OTEL_TRACES_SAMPLER: 'always_off',
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
            OTEL_SERVICE_NAME: 'register-sdk-test',
          },
        },
      );
      const text = JSON.stringify(collector.bodies);
      expect(text).toContain('"chat gpt-4o-mini"');
      expect(text).toContain(stdout.trim().split('\n').at(-1));
      expect(text).toContain('audit.decision.id');
      expect(text).toContain('register-sdk-test');
    });
  });
});
