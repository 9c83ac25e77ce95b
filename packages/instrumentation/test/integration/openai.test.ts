import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import * as openai6Module from 'openai6';
import OpenAI6 from 'openai6';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  type DataKey,
  DecisionRefusedError,
  type DecisionReference,
  FileKeyStore,
  recordOversight,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import {
  DEFAULT_REPLY,
  type RunningServer,
  startOpenAiCompatibleServer,
} from '../../../../test/support/openai-compatible-server.ts';
import { allAttributeText, installTestTracing, waitForSpans } from '../helpers/tracing.ts';

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

const HMAC_KEY = 'integration-hmac-key';
const keyDir = mkdtempSync(join(tmpdir(), 'dt-openai-keys-'));
const baseConfig: AiAuditInstrumentationConfig = {
  hmacKey: HMAC_KEY,
  hmacKeyId: 'it-key',
  keyStore: new FileKeyStore(keyDir),
  models: { 'gpt-4o-mini': { riskLevel: 'limited', purpose: 'customer support triage' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
instrumentation.manuallyInstrument(openaiModule);
instrumentation.manuallyInstrument(openai6Module, 'openai');

let server: RunningServer;
let slowServer: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAiCompatibleServer();
  slowServer = await startOpenAiCompatibleServer({ chunkDelayMs: 20 });
  client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  instrumentation.disable();
  await server.close();
  await slowServer.close();
  rmSync(keyDir, { recursive: true, force: true });
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  diagErrors.length = 0;
});

const messages = [{ role: 'user' as const, content: 'Should ticket 1182 be escalated?' }];
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const oneDecision = async () => {
  const [span] = decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === 1));
  return span!;
};

describe('openai chat.completions.create', () => {
  it('records a GenAI span with audit attributes', async () => {
    const completion = await withAuditContext(
      { subjectId: 'cust-77', actorId: 'agent-3', sessionId: 's-1' },
      () =>
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          temperature: 0.2,
          max_tokens: 64,
          seed: 7,
        }),
    );
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.seed': 7,
      'gen_ai.response.model': 'gpt-4o-mini-2026-01-01',
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'audit.decision.outcome': 'stop',
      'gen_ai.usage.input_tokens': completion.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage?.completion_tokens,
      'server.address': '127.0.0.1',
      'audit.record.type': 'decision',
      'audit.decision.type': 'generation',
      'audit.decision.risk_level': 'limited',
      'audit.decision.purpose': 'customer support triage',
      'audit.model.id': 'gpt-4o-mini',
      'audit.model.type': 'llm',
      'audit.model.version': 'gpt-4o-mini-2026-01-01',
      'audit.subject.id': 'cust-77',
      'audit.actor.id': 'agent-3',
      'session.id': 's-1',
      'audit.input.hash_key_id': 'it-key',
      'audit.output.hash_key_id': 'it-key',
      'audit.input.capture_mode': 'hash',
    });
    expect(span.attributes['audit.decision.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(span.attributes['audit.decision.confidence']).toBeUndefined();
    expect(JSON.stringify(span.attributes)).not.toContain('ticket 1182');
  });

  it('derives confidence from token logprobs when the caller asks for them', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, logprobs: true });
    expect((await oneDecision()).attributes['audit.decision.confidence']).toBeCloseTo(0.9, 5);
  });

  it('keeps hashes stable under one key and different under another', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const first = await oneDecision();
    tracing.reset();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const second = await oneDecision();
    expect(second.attributes['audit.input.hash']).toBe(first.attributes['audit.input.hash']);
    expect(second.attributes['audit.output.hash']).toBe(first.attributes['audit.output.hash']);
    tracing.reset();
    instrumentation.setConfig({ ...baseConfig, hmacKey: 'rotated-key', hmacKeyId: undefined });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const rotated = await oneDecision();
    expect(rotated.attributes['audit.input.hash']).not.toBe(first.attributes['audit.input.hash']);
    expect(rotated.attributes['audit.input.hash_key_id']).toMatch(/^hk-/);
  });

  it('records HTTP errors as error spans and rethrows the SDK error unchanged', async () => {
    const error = await client.chat.completions
      .create({ model: 'fail-500', messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('InternalServerError');
    expect(span.events.some((event) => event.name === 'exception')).toBe(true);
  });

  it('hands the decision reference to onDecision, for oversight recorded later', async () => {
    const references: DecisionReference[] = [];
    instrumentation.setConfig({ ...baseConfig, onDecision: (reference) => references.push(reference) });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const span = await oneDecision();
    expect(references).toEqual([
      {
        decisionId: span.attributes['audit.decision.id'],
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        traceFlags: span.spanContext().traceFlags,
        // The version is the dated snapshot the response named, known only when the call ended.
        modelId: span.attributes['audit.model.id'],
        modelVersion: span.attributes['audit.model.version'],
      },
    ]);
    expect(references[0]?.modelVersion).toEqual(expect.any(String));
    recordOversight({ decision: references[0]!, action: 'review', reviewer: 'qa-1' });
    const oversight = tracing.spans().find((candidate) => candidate.name === 'audit.oversight');
    expect(oversight?.links[0]?.context.spanId).toBe(span.spanContext().spanId);
    expect(oversight?.attributes['audit.model.version']).toBe(span.attributes['audit.model.version']);
  });

  it('keeps the APIPromise helpers working', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.object).toBe('chat.completion');
    await oneDecision();
  });
});

describe('openai streams', () => {
  const streamParams = {
    model: 'gpt-4o-mini',
    messages,
    stream: true as const,
    stream_options: { include_usage: true },
  };

  it('end on completion, with the output hash equal to the non-streamed one', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const plain = await oneDecision();
    tracing.reset();
    const stream = await client.chat.completions.create({ ...streamParams, logprobs: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_REPLY);
    const span = await oneDecision();
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(
      plain.attributes['gen_ai.usage.output_tokens'],
    );
    expect(span.attributes['audit.decision.confidence']).toBeCloseTo(0.9, 5);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('end when the consumer breaks out, hashing what was received', async () => {
    const stream = await client.chat.completions.create(streamParams);
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) break;
    }
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(span.attributes['audit.decision.outcome']).toBeUndefined();
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('end when the consumer aborts through the controller', async () => {
    const slow = new OpenAI({ baseURL: slowServer.url, apiKey: 'test', maxRetries: 0 });
    const stream = await slow.chat.completions.create(streamParams);
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 2) stream.controller.abort();
    }
    const span = await oneDecision();
    expect(span.ended).toBe(true);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('end with an error span when the stream fails, and the consumer still sees the error', async () => {
    const stream = await client.chat.completions.create({ ...streamParams, model: 'stream-fail' });
    const consume = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('APIError');
  });

  it('stay correct with tee(): one span, both branches get every chunk', async () => {
    const stream = await client.chat.completions.create(streamParams);
    const [left, right] = stream.tee();
    const read = async (branch: typeof left) => {
      let text = '';
      for await (const chunk of branch) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    const [a, b] = await Promise.all([read(left), read(right)]);
    expect(a).toBe(DEFAULT_REPLY);
    expect(b).toBe(DEFAULT_REPLY);
    await oneDecision();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(decisions(tracing.spans())).toHaveLength(1);
  });

  it('stay correct on double iteration: the SDK rejects the second, the span is neither ended twice nor errored', async () => {
    const stream = await client.chat.completions.create(streamParams);
    for await (const _chunk of stream) {
      // drain
    }
    const again = async () => {
      for await (const _chunk of stream) {
        // the SDK throws before yielding
      }
    };
    await expect(again()).rejects.toThrow(/consumed/);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(diagErrors).toEqual([]);
  });
});

describe('openai tool calls', () => {
  const tools = [
    {
      type: 'function' as const,
      function: { name: 'escalate_ticket', parameters: { type: 'object', properties: {} } },
    },
  ];

  it('are part of the recorded output, with the same hash plain and streamed', async () => {
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const plain = await oneDecision();
    const [message] = JSON.parse(String(plain.attributes['audit.output.content'])) as {
      tool_calls: { name: string; arguments: string }[];
    }[];
    expect(message?.tool_calls).toEqual([
      expect.objectContaining({ name: 'escalate_ticket', arguments: '{"action":"escalate"}' }),
    ]);
    tracing.reset();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools,
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }
    const streamed = await oneDecision();
    expect(streamed.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(streamed.attributes['audit.decision.outcome']).toBe('tool_calls');
    // Same output apart from the call id the server mints per request; each hash covers exactly its content.
    const withoutIds = (span: typeof plain) =>
      String(span.attributes['audit.output.content']).replace(/call_\w+/g, 'call_x');
    expect(withoutIds(streamed)).toBe(withoutIds(plain));
    for (const span of [plain, streamed]) {
      expect(span.attributes['audit.output.hash']).toBe(
        createHmac('sha256', HMAC_KEY).update(String(span.attributes['audit.output.content'])).digest('hex'),
      );
    }
  });
});

describe('openai responses.create and embeddings.create', () => {
  it('records a plain response with logprob confidence', async () => {
    const response = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Summarise ticket 1182',
      instructions: 'Be brief',
      include: ['message.output_text.logprobs'],
    });
    expect(response.output_text).toBe(DEFAULT_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': response.id,
      'gen_ai.response.finish_reasons': ['completed'],
      'gen_ai.usage.input_tokens': response.usage?.input_tokens,
    });
    expect(span.attributes['audit.decision.confidence']).toBeCloseTo(0.9, 5);
  });

  it('records a streamed response when response.completed arrives, with the same output hash', async () => {
    await client.responses.create({ model: 'gpt-4o-mini', input: 'Summarise ticket 1182' });
    const plain = await oneDecision();
    tracing.reset();
    const stream = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Summarise ticket 1182',
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    const span = await oneDecision();
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes['gen_ai.response.id']).toMatch(/^resp_/);
  });

  it('records embeddings', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(result.data).toHaveLength(2);
    const span = await oneDecision();
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'audit.model.type': 'embedding',
      'audit.decision.type': 'extraction',
      'gen_ai.usage.input_tokens': 2,
    });
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('patches the previous major (openai 6) as well', async () => {
    const previous = new OpenAI6({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
    const stream = await previous.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    for await (const _chunk of stream) {
      // drain
    }
    const span = await oneDecision();
    expect(span.attributes['gen_ai.response.model']).toBe('gpt-4o-mini-2026-01-01');
  });
});

describe('privacy modes', () => {
  const PII = [
    'jane.doe@example.com',
    '+44 20 7946 0958',
    '4111 1111 1111 1111',
    'DE89 3704 0044 0532 0130 00',
    '123-45-6789',
  ];
  const piiPrompt = `Customer ${PII[0]}, phone ${PII[1]}, card ${PII[2]}, IBAN ${PII[3]}, SSN ${PII[4]} asks for a refund.`;
  let piiServer: RunningServer;
  beforeAll(async () => {
    piiServer = await startOpenAiCompatibleServer({
      reply: () => `Refund approved for ${PII[0]} to card ${PII[2]}.`,
    });
  });
  afterAll(() => piiServer.close());

  it.each(['hash', 'redact', 'encrypt'] as const)(
    '%s mode leaves no plaintext PII in any attribute',
    async (mode) => {
      instrumentation.setConfig({ ...baseConfig, captureInput: mode, captureOutput: mode });
      const pii = new OpenAI({ baseURL: piiServer.url, apiKey: 'test', maxRetries: 0 });
      await withAuditContext({ subjectId: 'cust-pii' }, async () => {
        await pii.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: piiPrompt }],
        });
        const stream = await pii.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: piiPrompt }],
          stream: true,
        });
        for await (const _chunk of stream) {
          // drain
        }
      });
      const spans = decisions(await waitForSpans(tracing, (all) => decisions(all).length === 2));
      const text = allAttributeText(spans).join('\n');
      for (const secret of PII) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.replace(/[\s-]/g, ''));
      }
      for (const span of spans) {
        expect(span.attributes['audit.input.capture_mode']).toBe(mode);
        if (mode === 'redact')
          expect(String(span.attributes['audit.input.content'])).toContain('[REDACTED:email]');
        if (mode === 'encrypt') {
          expect(span.attributes['audit.input.encryption_key_id']).toBe(
            FileKeyStore.keyIdForSubject('cust-pii'),
          );
          expect(span.attributes['audit.output.ciphertext']).toBeTypeOf('string');
        }
      }
    },
  );

  it('full mode records the messages under gen_ai.input.messages / gen_ai.output.messages', async () => {
    instrumentation.setConfig({ ...baseConfig, captureInput: 'full', captureOutput: 'full' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const span = await oneDecision();
    expect(JSON.parse(String(span.attributes['gen_ai.input.messages']))).toEqual(messages);
    expect(span.attributes['audit.input.content']).toBe(span.attributes['gen_ai.input.messages']);
    expect(JSON.parse(String(span.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', content: DEFAULT_REPLY },
    ]);
  });
});

describe('fail-open', () => {
  const throwingKeyStore = {
    getOrCreateKey: (): DataKey => {
      throw new Error('forced keystore failure');
    },
    getKey: () => undefined,
    deleteSubjectKey: () => false,
    listKeyIds: () => [],
  };

  it('an internal throw at span start leaves the call untouched, still records the decision, and reports through diag', async () => {
    instrumentation.setConfig({ ...baseConfig, captureInput: 'encrypt', keyStore: throwingKeyStore });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_REPLY);
    const spans = decisions(await waitForSpans(tracing, (all) => decisions(all).length === 2));
    for (const span of spans) {
      expect(span.attributes['audit.input.capture_mode']).toBe('none');
      expect(span.attributes['audit.input.ciphertext']).toBeUndefined();
      expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(diagErrors).toHaveLength(2);
    expect(String(diagErrors[0]?.[1])).toContain('forced keystore failure');
  });

  it('an internal throw while recording the response still ends the span and returns the result', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      captureOutput: 'encrypt',
      keyStore: throwingKeyStore,
      onDecision: () => {
        throw new Error('forced hook failure');
      },
    });
    const error = await client.chat.completions
      .create({ model: 'fail-400', messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    const spans = decisions(await waitForSpans(tracing, (all) => decisions(all).length === 2));
    expect(spans[1]?.attributes['audit.output.ciphertext']).toBeUndefined();
    expect(spans[1]?.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
    expect(diagErrors.map((args) => String(args[1])).join()).toContain('forced hook failure');
  });
});

describe('record loss policy', () => {
  const full = { canAccept: () => false };

  it('fail-closed: a call whose record cannot be kept is refused before the request is sent', async () => {
    instrumentation.setConfig({ ...baseConfig, recordLossPolicy: 'fail-closed', recordAdmission: full });
    const before = server.requests.length;
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DecisionRefusedError);
    expect(error).toMatchObject({ code: 'DECISION_REFUSED', modelId: 'gpt-4o-mini' });
    const streamError = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, stream: true })
      .catch((caught: unknown) => caught);
    expect(streamError).toBeInstanceOf(DecisionRefusedError);
    expect(server.requests.length).toBe(before);
    expect(tracing.spans()).toEqual([]);
  });

  it('fail-open: the same call goes out and returns the reply', async () => {
    instrumentation.setConfig({ ...baseConfig, recordLossPolicy: 'fail-open', recordAdmission: full });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    await oneDecision();
  });
});
