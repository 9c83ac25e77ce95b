import { NodeSDK } from '@opentelemetry/sdk-node';
import type OpenAIClient from 'openai';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiAuditInstrumentation, AuditSampler } from '@decisiontrail/instrumentation';
import {
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';

const exporter = new InMemorySpanExporter();
const sdk = new NodeSDK({
  instrumentations: [new AiAuditInstrumentation({ hmacKey: 'sdk-key' })],
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
  sampler: new AuditSampler(new AlwaysOffSampler()),
  resourceDetectors: [],
});
sdk.start();
// Required after start() so require-in-the-middle patches it, as in an application that starts its SDK first.
const OpenAI = createRequire(import.meta.url)('openai') as typeof OpenAIClient;

let server: RunningServer;
beforeAll(async () => {
  server = await startOpenAiCompatibleServer();
});
afterAll(async () => {
  await server.close();
  await sdk.shutdown();
});

describe('NodeSDK({ instrumentations: [new AiAuditInstrumentation()] })', () => {
  it('patches openai on require and exports decisions through the SDK pipeline', async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);
    expect(spans[0]?.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
  });
});
