import { createOpenAI } from '@ai-sdk/openai';
import { diag, DiagLogLevel, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as ai from 'ai';
import { generateObject, generateText, isStepCount, streamText, tool } from 'ai';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  DecisionRefusedError,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import {
  DEFAULT_REPLY,
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';
import { installTestTracing, waitForSpans } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const diagErrors: unknown[][] = [];
diag.setLogger(
  {
    error: (...args: unknown[]) => diagErrors.push(args),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  DiagLogLevel.ERROR,
);

const baseConfig: AiAuditInstrumentationConfig = {
  hmacKey: 'vercel-hmac-key',
  hmacKeyId: 'vercel-key',
  models: { 'gpt-4o-mini': { riskLevel: 'limited', purpose: 'support triage' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
const registered = instrumentation.manuallyInstrument(ai);
instrumentation.manuallyInstrument(openaiModule);

const OBJECT_TEXT = '{"priority":"high","team":"billing"}';
let server: RunningServer;
let objectServer: RunningServer;
let openaiClient: OpenAI;

beforeAll(async () => {
  server = await startOpenAiCompatibleServer();
  objectServer = await startOpenAiCompatibleServer({ reply: () => OBJECT_TEXT });
  openaiClient = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  instrumentation.disable();
  await server.close();
  await objectServer.close();
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  diagErrors.length = 0;
});

const provider = () => createOpenAI({ baseURL: server.url, apiKey: 'test' });
const prompt = 'Should ticket 1182 be escalated?';
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const waitForDecisions = async (count: number) =>
  decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === count));

describe('Vercel AI SDK (ai 7) through its telemetry integration', () => {
  it('is registered by manuallyInstrument', () => {
    expect(registered).toBe(true);
  });

  it('generateText: one decision per model call, with the provider call nested inside', async () => {
    const result = await withAuditContext({ subjectId: 'cust-77' }, () =>
      generateText({ model: provider().chat('gpt-4o-mini'), prompt, temperature: 0.2, maxOutputTokens: 64 }),
    );
    expect(result.text).toBe(DEFAULT_REPLY);
    const [span] = await waitForDecisions(1);
    expect(span?.name).toBe('chat gpt-4o-mini');
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.response.model': 'gpt-4o-mini-2026-01-01',
      'gen_ai.response.id': result.response.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
      'audit.decision.risk_level': 'limited',
      'audit.subject.id': 'cust-77',
      'audit.model.version': 'gpt-4o-mini-2026-01-01',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records the same output hash as the openai client for the same answer', async () => {
    await generateText({ model: provider().chat('gpt-4o-mini'), prompt });
    const [viaAiSdk] = await waitForDecisions(1);
    tracing.reset();
    await openaiClient.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: prompt }],
    });
    const [viaOpenAi] = await waitForDecisions(1);
    expect(viaAiSdk?.attributes['audit.output.hash']).toBe(viaOpenAi?.attributes['audit.output.hash']);
  });

  it('streamText: the decision ends when the stream finishes, with the same output hash as generateText', async () => {
    await generateText({ model: provider().chat('gpt-4o-mini'), prompt });
    const [plain] = await waitForDecisions(1);
    tracing.reset();
    const result = streamText({ model: provider().chat('gpt-4o-mini'), prompt });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(DEFAULT_REPLY);
    const [streamed] = await waitForDecisions(1);
    expect(streamed?.attributes['audit.output.hash']).toBe(plain?.attributes['audit.output.hash']);
    expect(streamed?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(streamed?.attributes['gen_ai.response.id']).toEqual(expect.stringMatching(/^chatcmpl-/));
  });

  it('streamText: the decision ends when the consumer stops early', async () => {
    // The AI SDK keeps reading the provider stream after its consumer stops, so the model call completes and the
    // decision records the whole answer; what matters is that it ends and is recorded once.
    const result = streamText({ model: provider().chat('gpt-4o-mini'), prompt });
    let deltas = 0;
    for await (const _delta of result.textStream) {
      if (++deltas === 2) break;
    }
    const [span] = await waitForDecisions(1);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a tool loop is one decision per step, each naming the tools it requested', async () => {
    const runs: unknown[] = [];
    const result = await generateText({
      model: provider().chat('gpt-4o-mini'),
      prompt,
      tools: {
        escalate_ticket: tool({
          description: 'Escalates a ticket',
          inputSchema: z.object({ action: z.string() }),
          execute: (input) => {
            runs.push(input);
            return Promise.resolve('escalated');
          },
        }),
      },
      stopWhen: isStepCount(2),
    });
    expect(result.steps).toHaveLength(2);
    expect(runs).toEqual([{ action: 'escalate' }, { action: 'escalate' }]);
    const spans = await waitForDecisions(2);
    expect(spans.map((span) => span.attributes['audit.action.requested_tools'])).toEqual([
      ['escalate_ticket'],
      ['escalate_ticket'],
    ]);
    expect(new Set(spans.map((span) => span.attributes['audit.decision.id'])).size).toBe(2);
  });

  it('each tool run is an execute_tool action tied to its decision by the tool-call id, with the output', async () => {
    const result = await generateText({
      model: provider().chat('gpt-4o-mini'),
      prompt,
      tools: {
        escalate_ticket: tool({
          description: 'Escalates a ticket',
          inputSchema: z.object({ action: z.string() }),
          execute: () => Promise.resolve('escalated'),
        }),
      },
      stopWhen: isStepCount(1),
    });
    const toolCall = result.toolCalls[0];
    const spans = await waitForSpans(
      tracing,
      (all) =>
        decisions(all).length === 1 && all.some((span) => span.attributes['audit.record.type'] === 'action'),
    );
    const [decision] = decisions(spans);
    const action = spans.find((span) => span.attributes['audit.record.type'] === 'action');
    expect(action?.name).toBe('execute_tool escalate_ticket');
    expect(action?.attributes).toMatchObject({
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': toolCall?.toolCallId,
      'audit.decision.id': decision?.attributes['audit.decision.id'],
      'audit.action.link_basis': 'tool_call_id',
      'audit.output.capture_mode': 'hash',
    });
    expect(action?.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(action?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a tool that throws is a failed action, and the model sees the tool error', async () => {
    const result = await generateText({
      model: provider().chat('gpt-4o-mini'),
      prompt,
      tools: {
        escalate_ticket: tool({
          description: 'Escalates a ticket',
          inputSchema: z.object({ action: z.string() }),
          execute: (): Promise<string> => Promise.reject(new Error('ticket system down')),
        }),
      },
      stopWhen: isStepCount(1),
    });
    expect(result.steps[0]?.content.some((part) => part.type === 'tool-error')).toBe(true);
    const spans = await waitForSpans(tracing, (all) =>
      all.some((span) => span.attributes['audit.record.type'] === 'action'),
    );
    const action = spans.find((span) => span.attributes['audit.record.type'] === 'action');
    expect(action?.status.code).toBe(SpanStatusCode.ERROR);
    expect(action?.attributes['error.type']).toBe('Error');
  });

  it('generateObject: one decision whose output is the object text', async () => {
    const objectProvider = createOpenAI({ baseURL: objectServer.url, apiKey: 'test' });
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const { object } = await generateObject({
      model: objectProvider.chat('gpt-4o-mini'),
      schema: z.object({ priority: z.string(), team: z.string() }),
      prompt,
    });
    expect(object).toEqual({ priority: 'high', team: 'billing' });
    const [span] = await waitForDecisions(1);
    expect(JSON.parse(String(span?.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', content: OBJECT_TEXT },
    ]);
    expect(span?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
  });

  it('a failed model call is an error decision and the caller gets the SDK error', async () => {
    const error = await generateText({ model: provider().chat('fail-400'), prompt, maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(ai.APICallError.isInstance(error)).toBe(true);
    const [span] = await waitForDecisions(1);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a provider that calls an instrumented SDK underneath is still one decision', async () => {
    const viaOpenAiClient = {
      specificationVersion: 'v4' as const,
      provider: 'openai.custom',
      modelId: 'gpt-4o-mini',
      supportedUrls: {},
      async doGenerate() {
        const completion = await openaiClient.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: prompt }],
        });
        return {
          content: [{ type: 'text' as const, text: completion.choices[0]?.message.content ?? '' }],
          finishReason: { unified: 'stop' as const, raw: 'stop' },
          usage: {
            inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
            outputTokens: { total: 7, text: 7, reasoning: undefined },
          },
          warnings: [],
        };
      },
      doStream() {
        return Promise.reject(new Error('not used'));
      },
    };
    await generateText({ model: viaOpenAiClient, prompt });
    // The openai client ran inside the AI SDK's decision and had settled before generateText returned: a second
    // decision would already be among the finished spans.
    const [span] = await waitForDecisions(1);
    expect(span?.attributes['gen_ai.provider.name']).toBe('openai');
    expect(decisions(tracing.spans())).toHaveLength(1);
    expect(server.requests.at(-1)?.path).toBe('/v1/chat/completions');
  });

  it('fail-closed: a call whose record cannot be kept is refused before the request is sent', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    const before = server.requests.length;
    const error = await generateText({ model: provider().chat('gpt-4o-mini'), prompt, maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DecisionRefusedError);
    expect(server.requests.length).toBe(before);
    expect(decisions(tracing.spans())).toEqual([]);
  });

  it('records nothing while the instrumentation is disabled', async () => {
    instrumentation.disable();
    try {
      await generateText({ model: provider().chat('gpt-4o-mini'), prompt });
      expect(decisions(tracing.spans())).toEqual([]);
    } finally {
      instrumentation.enable();
    }
  });
});
