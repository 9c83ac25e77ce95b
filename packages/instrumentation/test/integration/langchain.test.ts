import * as chatModelsModule from '@langchain/core/language_models/chat_models';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda } from '@langchain/core/runnables';
import { tool } from '@langchain/core/tools';
import type { CallbackHandlerMethods } from '@langchain/core/callbacks/base';
import { ChatOpenAI } from '@langchain/openai';
import { diag, DiagLogLevel, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as openaiModule from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  DecisionRefusedError,
} from '@decisiontrail/instrumentation';
import { requestedActions } from '@decisiontrail/instrumentation/internal';
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
  hmacKey: 'langchain-hmac-key',
  hmacKeyId: 'langchain-key',
  models: { 'gpt-4o-mini': { riskLevel: 'limited', purpose: 'support triage' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
const patched = instrumentation.manuallyInstrument(chatModelsModule);
// ChatOpenAI calls the openai client underneath; it is instrumented too, and must not record a second decision.
instrumentation.manuallyInstrument(openaiModule);

let server: RunningServer;
let model: ChatOpenAI;

beforeAll(async () => {
  server = await startOpenAiCompatibleServer();
  model = new ChatOpenAI({
    model: 'gpt-4o-mini',
    temperature: 0.2,
    apiKey: 'test',
    maxRetries: 0,
    configuration: { baseURL: server.url },
  });
});
afterAll(async () => {
  instrumentation.disable();
  await server.close();
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  diagErrors.length = 0;
  requestedActions.clear();
});

const question = 'Should ticket 1182 be escalated?';
const ofType = (type: string) => (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === type);
const decisions = ofType('decision');
const actions = ofType('action');
const waitForDecisions = async (count: number) =>
  decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === count));

/** The handler as a TypeScript user passes it: typed as LangChain's callback methods, no cast. */
const callbacks = (): CallbackHandlerMethods => instrumentation.langChainCallbacks;

describe('LangChain.js (@langchain/core) chat models', () => {
  it('is recognised by manuallyInstrument', () => {
    expect(patched).toBe(true);
  });

  it('records one decision per model call, not a second one for the openai client underneath', async () => {
    const message = await model.invoke(question);
    expect(message.content).toBe(DEFAULT_REPLY);
    const [span] = await waitForDecisions(1);
    expect(span?.name).toBe('chat gpt-4o-mini');
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.id': message.id,
      'gen_ai.usage.input_tokens': message.usage_metadata?.input_tokens,
      'gen_ai.usage.output_tokens': message.usage_metadata?.output_tokens,
      'audit.decision.risk_level': 'limited',
    });
    expect(span?.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    // The openai call ran (and settled) inside the LangChain decision before invoke returned.
    expect(decisions(tracing.spans())).toHaveLength(1);
  });

  it('streams as one decision with the same output hash as invoke', async () => {
    await model.invoke(question);
    const [plain] = await waitForDecisions(1);
    tracing.reset();
    let text = '';
    for await (const chunk of await model.stream(question)) text += String(chunk.content);
    expect(text).toBe(DEFAULT_REPLY);
    const [streamed] = await waitForDecisions(1);
    expect(streamed?.attributes['audit.output.hash']).toBe(plain?.attributes['audit.output.hash']);
    expect(decisions(tracing.spans())).toHaveLength(1);
  });

  it('places the decision under the chain step that made it', async () => {
    const chain = ChatPromptTemplate.fromMessages([['user', '{question}']])
      .pipe(model)
      .pipe(RunnableLambda.from((message: { content: unknown }) => String(message.content).length));
    const length = await chain.invoke({ question }, { callbacks: [callbacks()], runName: 'triage' });
    expect(length).toBe(DEFAULT_REPLY.length);
    const spans = await waitForSpans(
      tracing,
      (all) => decisions(all).length === 1 && all.some((span) => span.name === 'chain triage'),
    );
    const [decision] = decisions(spans);
    const root = spans.find((span) => span.name === 'chain triage');
    expect(decision?.spanContext().traceId).toBe(root?.spanContext().traceId);
    expect(decision?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(decisions(spans)).toHaveLength(1);
  });

  it('records the tool the model requests and the tool run the agent makes, tied together', async () => {
    const escalate = tool(async ({ action }: { action: string }) => `ticket ${action}d`, {
      name: 'escalate_ticket',
      description: 'Escalates a ticket',
      schema: z.object({ action: z.string() }),
    });
    const message = await model.bindTools([escalate]).invoke(question);
    const call = message.tool_calls?.[0];
    expect(call?.name).toBe('escalate_ticket');
    const result = await escalate.invoke(call!, { callbacks: [callbacks()] });
    expect(String(result.content)).toBe('ticket escalated');
    const spans = await waitForSpans(
      tracing,
      (all) => decisions(all).length === 1 && actions(all).length === 1,
    );
    const [decision] = decisions(spans);
    const [action] = actions(spans);
    expect(decision?.attributes['audit.action.requested_tools']).toEqual(['escalate_ticket']);
    expect(action?.name).toBe('execute_tool escalate_ticket');
    expect(action?.attributes).toMatchObject({
      'gen_ai.tool.type': 'function',
      'audit.decision.id': decision?.attributes['audit.decision.id'],
      // Invoked with the model's ToolCall, the run carries its id.
      'audit.action.link_basis': 'tool_call_id',
      'gen_ai.tool.call.id': call?.id,
    });
  });

  it('records a failed model call as an error decision and rethrows', async () => {
    const failing = new ChatOpenAI({
      model: 'fail-500',
      apiKey: 'test',
      maxRetries: 0,
      configuration: { baseURL: server.url },
    });
    await expect(failing.invoke(question)).rejects.toThrow();
    const [span] = await waitForDecisions(1);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(decisions(tracing.spans())).toHaveLength(1);
  });

  it('fail-closed: refuses the call before the request is sent', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    const before = server.requests.length;
    await expect(model.invoke(question)).rejects.toBeInstanceOf(DecisionRefusedError);
    const stream = async () => {
      for await (const _chunk of await model.stream(question)) {
        // drain
      }
    };
    await expect(stream()).rejects.toBeInstanceOf(DecisionRefusedError);
    expect(server.requests.length).toBe(before);
    expect(decisions(tracing.spans())).toEqual([]);
  });
});
