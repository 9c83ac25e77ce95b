import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as genaiModule from '@google/genai';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  DecisionRefusedError,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import {
  DEFAULT_GEMINI_REPLY,
  GEMINI_AVG_LOGPROB,
  GEMINI_FUNCTION_ARGS,
  startGeminiServer,
} from '../../../../test/support/gemini-server.ts';
import type { RunningServer } from '../../../../test/support/http-server.ts';
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

const baseConfig: AiAuditInstrumentationConfig = {
  hmacKey: 'genai-hmac-key',
  hmacKeyId: 'genai-key',
  models: { 'gemini-2.5-flash': { riskLevel: 'limited', purpose: 'customs triage' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
const patched = instrumentation.manuallyInstrument(genaiModule);

let server: RunningServer;
let ai: GoogleGenAI;

beforeAll(async () => {
  server = await startGeminiServer();
  ai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: server.url } });
});
afterAll(async () => {
  instrumentation.disable();
  await server.close();
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  diagErrors.length = 0;
});

const contents = 'Does shipment SH-4410 qualify for expedited clearance?';
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const oneDecision = async () => {
  const [span] = decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === 1));
  return span!;
};

describe('@google/genai models.generateContent', () => {
  it('is recognised by manuallyInstrument', () => {
    expect(patched).toBe(true);
  });

  it('records a GenAI span with audit attributes', async () => {
    const response = await withAuditContext({ subjectId: 'shipper-9', sessionId: 's-g' }, () =>
      ai.models.generateContent({
        model: 'gemini-2.5-flash',
        contents,
        config: { temperature: 0.3, maxOutputTokens: 128, seed: 11, systemInstruction: 'Be brief.' },
      }),
    );
    expect(response.text).toBe(DEFAULT_GEMINI_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe('generate_content gemini-2.5-flash');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 128,
      'gen_ai.request.seed': 11,
      'gen_ai.response.model': 'gemini-2.5-flash-001',
      'gen_ai.response.id': response.responseId,
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.input_tokens': response.usageMetadata?.promptTokenCount,
      'gen_ai.usage.output_tokens': response.usageMetadata?.candidatesTokenCount,
      'server.address': '127.0.0.1',
      'audit.decision.type': 'generation',
      'audit.decision.risk_level': 'limited',
      'audit.decision.purpose': 'customs triage',
      'audit.model.id': 'gemini-2.5-flash',
      'audit.model.version': 'gemini-2.5-flash-001',
      'audit.subject.id': 'shipper-9',
      'session.id': 's-g',
      'audit.input.capture_mode': 'hash',
      'audit.input.hash_key_id': 'genai-key',
    });
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(span.attributes['audit.decision.confidence']).toBeUndefined();
    expect(JSON.stringify(span.attributes)).not.toContain('SH-4410');
  });

  it('derives confidence from avgLogprobs when the caller asks for logprobs', async () => {
    await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents,
      config: { responseLogprobs: true },
    });
    expect((await oneDecision()).attributes['audit.decision.confidence']).toBeCloseTo(
      Math.exp(GEMINI_AVG_LOGPROB),
      6,
    );
  });

  it('records HTTP errors as error spans and rethrows the SDK error unchanged', async () => {
    const error = await ai.models
      .generateContent({ model: 'fail-500', contents })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('ApiError');
  });

  it('records the function call the model asks for as part of the output, equal plain and streamed', async () => {
    const tools = [
      { functionDeclarations: [{ name: 'expedite_shipment', parametersJsonSchema: { type: 'object' } }] },
    ];
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents,
      config: { tools },
    });
    expect(response.functionCalls?.[0]?.args).toEqual(GEMINI_FUNCTION_ARGS);
    const plain = await oneDecision();
    expect(plain.attributes['audit.action.requested_tools']).toEqual(['expedite_shipment']);
    expect(JSON.parse(String(plain.attributes['gen_ai.output.messages']))).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: '', name: 'expedite_shipment', arguments: JSON.stringify(GEMINI_FUNCTION_ARGS) }],
      },
    ]);
    tracing.reset();
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents,
      config: { tools },
    });
    for await (const _chunk of stream) {
      // drain
    }
    const streamed = await oneDecision();
    expect(streamed.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
  });
});

describe('@google/genai models.generateContentStream', () => {
  it('ends on completion, with the output hash equal to the plain one', async () => {
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents });
    const plain = await oneDecision();
    tracing.reset();
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents,
      config: { responseLogprobs: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    expect(text).toBe(DEFAULT_GEMINI_REPLY);
    const span = await oneDecision();
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes['audit.input.hash']).toBe(plain.attributes['audit.input.hash']);
    expect(span.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.response.id': expect.stringMatching(/^gem-/),
      'gen_ai.usage.output_tokens': plain.attributes['gen_ai.usage.output_tokens'],
    });
    expect(span.attributes['audit.decision.confidence']).toBeCloseTo(Math.exp(GEMINI_AVG_LOGPROB), 6);
  });

  it('ends when the consumer breaks out, hashing what was received', async () => {
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 2) break;
    }
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ends with an error span when the stream fails, and the consumer still sees the error', async () => {
    const stream = await ai.models.generateContentStream({ model: 'stream-fail', contents });
    const consume = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow(/simulated failure mid-stream/);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('@google/genai privacy and failure policy', () => {
  it.each(['hash', 'redact', 'encrypt'] as const)(
    '%s mode leaves no plaintext prompt in any attribute',
    async (mode) => {
      const secret = 'jane.doe@example.com';
      instrumentation.setConfig({ ...baseConfig, captureInput: mode, captureOutput: mode });
      await withAuditContext({ subjectId: 'shipper-pii' }, () =>
        ai.models.generateContent({ model: 'gemini-2.5-flash', contents: `Contact ${secret} about SH-4410` }),
      );
      const span = await oneDecision();
      expect(allAttributeText([span]).join('\n')).not.toContain(secret);
      expect(span.attributes['audit.input.capture_mode']).toBe(mode === 'encrypt' ? 'encrypt' : mode);
    },
  );

  it('fails open: an internal throw at span start leaves the call untouched and reports through diag', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      captureInput: 'encrypt',
      keyStore: {
        getOrCreateKey: () => {
          throw new Error('forced keystore failure');
        },
        getKey: () => undefined,
        deleteSubjectKey: () => false,
        listKeyIds: () => [],
      },
    });
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents });
    expect(response.text).toBe(DEFAULT_GEMINI_REPLY);
    const span = await oneDecision();
    expect(span.attributes['audit.input.capture_mode']).toBe('none');
    expect(String(diagErrors[0]?.[1])).toContain('forced keystore failure');
  });

  it('fail-closed: a call whose record cannot be kept is refused before the request is sent', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    const before = server.requests.length;
    await expect(ai.models.generateContent({ model: 'gemini-2.5-flash', contents })).rejects.toBeInstanceOf(
      DecisionRefusedError,
    );
    await expect(
      ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents }),
    ).rejects.toBeInstanceOf(DecisionRefusedError);
    expect(server.requests.length).toBe(before);
    expect(tracing.spans()).toEqual([]);
  });
});
