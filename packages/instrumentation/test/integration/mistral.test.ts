import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as mistralModule from '@mistralai/mistralai';
import { Mistral } from '@mistralai/mistralai';
import { MistralError } from '@mistralai/mistralai/models/errors';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  DecisionRefusedError,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import type { RunningServer } from '../../../../test/support/http-server.ts';
import {
  DEFAULT_MISTRAL_REPLY,
  MISTRAL_TOOL_ARGUMENTS,
  startMistralServer,
} from '../../../../test/support/mistral-server.ts';
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
  hmacKey: 'mistral-hmac-key',
  hmacKeyId: 'mistral-key',
  models: { 'mistral-small-latest': { riskLevel: 'limited', purpose: 'refund triage' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
const patched = instrumentation.manuallyInstrument(mistralModule);

let server: RunningServer;
let client: Mistral;

beforeAll(async () => {
  server = await startMistralServer();
  client = new Mistral({ apiKey: 'test', serverURL: server.url });
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

const messages = [{ role: 'user' as const, content: 'Is the refund for order ORD-881 allowed?' }];
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const oneDecision = async () => {
  const [span] = decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === 1));
  return span!;
};
const tools = [
  { type: 'function' as const, function: { name: 'issue_refund', parameters: { type: 'object' } } },
];

describe('@mistralai/mistralai chat.complete', () => {
  it('is recognised by manuallyInstrument', () => {
    expect(patched).toBe(true);
  });

  it('records a GenAI span with audit attributes', async () => {
    const completion = await withAuditContext({ subjectId: 'cust-881' }, () =>
      client.chat.complete({
        model: 'mistral-small-latest',
        messages,
        temperature: 0.4,
        maxTokens: 80,
        randomSeed: 3,
      }),
    );
    expect(completion.choices[0]?.message?.content).toBe(DEFAULT_MISTRAL_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe('chat mistral-small-latest');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'mistral_ai',
      'gen_ai.request.model': 'mistral-small-latest',
      'gen_ai.request.temperature': 0.4,
      'gen_ai.request.max_tokens': 80,
      'gen_ai.request.seed': 3,
      'gen_ai.response.model': 'mistral-small-latest-2512',
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': completion.usage.promptTokens,
      'gen_ai.usage.output_tokens': completion.usage.completionTokens,
      'server.address': '127.0.0.1',
      'audit.decision.risk_level': 'limited',
      'audit.model.version': 'mistral-small-latest-2512',
      'audit.subject.id': 'cust-881',
      'audit.input.hash_key_id': 'mistral-key',
    });
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(span.attributes)).not.toContain('ORD-881');
  });

  it('records HTTP errors as error spans and rethrows the SDK error unchanged', async () => {
    const error = await client.chat
      .complete({ model: 'fail-500', messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MistralError);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe((error as Error).constructor.name);
  });

  it('records the tool call the model asks for, equal plain and streamed', async () => {
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const completion = await client.chat.complete({ model: 'mistral-small-latest', messages, tools });
    const toolCall = completion.choices[0]?.message?.toolCalls?.[0];
    const plain = await oneDecision();
    expect(plain.attributes['audit.action.requested_tools']).toEqual(['issue_refund']);
    expect(JSON.parse(String(plain.attributes['gen_ai.output.messages']))).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: toolCall?.id,
            name: 'issue_refund',
            arguments: JSON.stringify(JSON.parse(MISTRAL_TOOL_ARGUMENTS)),
          },
        ],
      },
    ]);
    expect(plain.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    tracing.reset();
    const stream = await client.chat.stream({ model: 'mistral-small-latest', messages, tools });
    for await (const _event of stream) {
      // drain
    }
    const streamed = await oneDecision();
    const [message] = JSON.parse(String(streamed.attributes['gen_ai.output.messages'])) as {
      tool_calls: { name: string; arguments: string }[];
    }[];
    expect(message?.tool_calls.map((call) => [call.name, call.arguments])).toEqual([
      ['issue_refund', JSON.stringify(JSON.parse(MISTRAL_TOOL_ARGUMENTS))],
    ]);
  });
});

describe('@mistralai/mistralai chat.stream', () => {
  it('ends on completion, with the output hash equal to the plain one', async () => {
    await client.chat.complete({ model: 'mistral-small-latest', messages });
    const plain = await oneDecision();
    tracing.reset();
    const stream = await client.chat.stream({ model: 'mistral-small-latest', messages });
    let text = '';
    for await (const event of stream) text += String(event.data.choices[0]?.delta.content ?? '');
    expect(text).toBe(DEFAULT_MISTRAL_REPLY);
    const span = await oneDecision();
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': plain.attributes['gen_ai.usage.input_tokens'],
      'gen_ai.usage.output_tokens': plain.attributes['gen_ai.usage.output_tokens'],
      'gen_ai.response.model': 'mistral-small-latest-2512',
    });
  });

  it('ends when the consumer breaks out, hashing what was received', async () => {
    const stream = await client.chat.stream({ model: 'mistral-small-latest', messages });
    let events = 0;
    for await (const _event of stream) {
      if (++events === 3) break;
    }
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ends with an error span when the connection drops mid-stream, and the consumer still sees the error', async () => {
    const stream = await client.chat.stream({ model: 'stream-fail', messages });
    const consume = async () => {
      for await (const _event of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('@mistralai/mistralai privacy and failure policy', () => {
  it.each(['hash', 'redact', 'encrypt'] as const)(
    '%s mode leaves no plaintext prompt in any attribute',
    async (mode) => {
      instrumentation.setConfig({ ...baseConfig, captureInput: mode, captureOutput: mode });
      const secret = 'jane.doe@example.com';
      await withAuditContext({ subjectId: 'cust-pii' }, () =>
        client.chat.complete({
          model: 'mistral-small-latest',
          messages: [{ role: 'user', content: `Refund ${secret}` }],
        }),
      );
      const span = await oneDecision();
      expect(allAttributeText([span]).join('\n')).not.toContain(secret);
      expect(span.attributes['audit.input.capture_mode']).toBe(mode);
    },
  );

  it('fail-closed: a call whose record cannot be kept is refused before the request is sent', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    const before = server.requests.length;
    await expect(client.chat.complete({ model: 'mistral-small-latest', messages })).rejects.toBeInstanceOf(
      DecisionRefusedError,
    );
    await expect(client.chat.stream({ model: 'mistral-small-latest', messages })).rejects.toBeInstanceOf(
      DecisionRefusedError,
    );
    expect(server.requests.length).toBe(before);
    expect(tracing.spans()).toEqual([]);
  });
});
