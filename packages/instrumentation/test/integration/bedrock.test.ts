import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockRuntime,
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type InvokeModelWithResponseStreamCommandOutput,
  ListAsyncInvokesCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  DecisionRefusedError,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import {
  BEDROCK_TOOL_INPUT,
  bedrockClientConfig,
  DEFAULT_BEDROCK_REPLY,
  startBedrockRuntimeServer,
} from '../../../../test/support/bedrock-runtime-server.ts';
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

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const baseConfig: AiAuditInstrumentationConfig = {
  hmacKey: 'bedrock-hmac-key',
  hmacKeyId: 'bedrock-key',
  models: { [MODEL]: { riskLevel: 'high', purpose: 'invoice approval' } },
};
const instrumentation = new AiAuditInstrumentation(baseConfig);
const patched = instrumentation.manuallyInstrument(bedrockModule);

let server: RunningServer;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  server = await startBedrockRuntimeServer();
  client = new BedrockRuntimeClient(bedrockClientConfig(server));
});
afterAll(async () => {
  instrumentation.disable();
  client.destroy();
  await server.close();
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  diagErrors.length = 0;
});

const messages = [{ role: 'user' as const, content: [{ text: 'Can invoice INV-2207 be paid?' }] }];
const system = [{ text: 'You approve invoices.' }];
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const oneDecision = async () => {
  const [span] = decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === 1));
  return span!;
};
const drain = async (output: { stream?: AsyncIterable<unknown> }) => {
  let text = '';
  for await (const event of output.stream ?? []) {
    const delta = (event as { contentBlockDelta?: { delta?: { text?: string } } }).contentBlockDelta;
    text += delta?.delta?.text ?? '';
  }
  return text;
};

describe('@aws-sdk/client-bedrock-runtime Converse', () => {
  it('is recognised by manuallyInstrument', () => {
    expect(patched).toBe(true);
  });

  it('records a GenAI span with audit attributes', async () => {
    const output = await withAuditContext({ subjectId: 'vendor-12', actorId: 'ap-bot' }, () =>
      client.send(
        new ConverseCommand({
          modelId: MODEL,
          messages,
          system,
          inferenceConfig: { temperature: 0.1, maxTokens: 256 },
        }),
      ),
    );
    expect(output.output?.message?.content?.[0]?.text).toBe(DEFAULT_BEDROCK_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.model': MODEL,
      'gen_ai.request.temperature': 0.1,
      'gen_ai.request.max_tokens': 256,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': output.usage?.inputTokens,
      'gen_ai.usage.output_tokens': output.usage?.outputTokens,
      'audit.decision.risk_level': 'high',
      'audit.decision.purpose': 'invoice approval',
      'audit.model.id': MODEL,
      'audit.subject.id': 'vendor-12',
      'audit.actor.id': 'ap-bot',
      'audit.input.capture_mode': 'hash',
      'audit.input.hash_key_id': 'bedrock-key',
    });
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(span.attributes)).not.toContain('INV-2207');
  });

  it('records service errors as error spans and rethrows the SDK exception unchanged', async () => {
    const error = await client
      .send(new ConverseCommand({ modelId: 'fail-400', messages }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationException);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('ValidationException');
  });

  it('serves the callback form of send and the aggregated client', async () => {
    const viaCallback = await new Promise<ConverseCommandOutput | undefined>((resolve, reject) => {
      client.send(new ConverseCommand({ modelId: MODEL, messages }), (error, output) =>
        error ? reject(error) : resolve(output),
      );
    });
    expect(viaCallback?.stopReason).toBe('end_turn');
    const throttled = await new Promise<unknown>((resolve) => {
      client.send(new ConverseCommand({ modelId: 'fail-429', messages }), {}, (error) => resolve(error));
    });
    expect(throttled).toBeInstanceOf(ThrottlingException);
    const aggregated = new BedrockRuntime(bedrockClientConfig(server));
    await aggregated.converse({ modelId: MODEL, messages });
    aggregated.destroy();
    const spans = decisions(await waitForSpans(tracing, (all) => decisions(all).length === 3));
    expect(spans.map((span) => span.status.code)).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
  });

  it('leaves other commands unrecorded', async () => {
    await client.send(new ListAsyncInvokesCommand({})).catch(() => undefined);
    expect(decisions(tracing.spans())).toEqual([]);
  });
});

describe('@aws-sdk/client-bedrock-runtime ConverseStream', () => {
  it('ends on completion, with input and output hashes equal to the plain call', async () => {
    await client.send(new ConverseCommand({ modelId: MODEL, messages, system }));
    const plain = await oneDecision();
    tracing.reset();
    const output = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages, system }));
    expect(await drain(output)).toBe(DEFAULT_BEDROCK_REPLY);
    const span = await oneDecision();
    expect(span.attributes['audit.input.hash']).toBe(plain.attributes['audit.input.hash']);
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': plain.attributes['gen_ai.usage.input_tokens'],
      'gen_ai.usage.output_tokens': plain.attributes['gen_ai.usage.output_tokens'],
    });
  });

  it('records the tool use the model asks for, equal plain and streamed', async () => {
    const toolConfig = {
      tools: [{ toolSpec: { name: 'pay_invoice', inputSchema: { json: { type: 'object' } } } }],
    };
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const plainOutput = await client.send(new ConverseCommand({ modelId: MODEL, messages, toolConfig }));
    expect(plainOutput.output?.message?.content?.[1]?.toolUse?.input).toEqual(BEDROCK_TOOL_INPUT);
    const plain = await oneDecision();
    expect(plain.attributes['audit.action.requested_tools']).toEqual(['pay_invoice']);
    const [message] = JSON.parse(String(plain.attributes['gen_ai.output.messages'])) as {
      tool_calls: { name: string; arguments: string }[];
    }[];
    expect(message?.tool_calls.map(({ name, arguments: args }) => [name, JSON.parse(args)])).toEqual([
      ['pay_invoice', BEDROCK_TOOL_INPUT],
    ]);
    tracing.reset();
    await drain(await client.send(new ConverseStreamCommand({ modelId: MODEL, messages, toolConfig })));
    const streamed = await oneDecision();
    const [streamedMessage] = JSON.parse(String(streamed.attributes['gen_ai.output.messages'])) as {
      tool_calls: { name: string; arguments: string }[];
    }[];
    expect(streamedMessage?.tool_calls[0]?.arguments).toBe(JSON.stringify(BEDROCK_TOOL_INPUT));
    expect(streamed.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_use']);
  });

  it('ends when the consumer breaks out', async () => {
    const output = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages }));
    let events = 0;
    for await (const _event of output.stream ?? []) {
      if (++events === 3) break;
    }
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ends with an error span on an exception message, and the consumer still sees the error', async () => {
    const output = await client.send(new ConverseStreamCommand({ modelId: 'stream-fail', messages }));
    await expect(drain(output)).rejects.toThrow(/simulated failure mid-stream/);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('ModelStreamErrorException');
  });
});

const anthropicBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 200,
    temperature: 0.2,
    messages: [{ role: 'user', content: 'Can invoice INV-2207 be paid?' }],
    ...extra,
  });
/** Reads every chunk the caller would, decoding each one's bytes. */
const drainInvokeStream = async (output: InvokeModelWithResponseStreamCommandOutput) => {
  const events: Record<string, unknown>[] = [];
  for await (const event of output.body ?? []) {
    if (event.chunk?.bytes)
      events.push(JSON.parse(new TextDecoder().decode(event.chunk.bytes)) as Record<string, unknown>);
  }
  return events;
};

describe('@aws-sdk/client-bedrock-runtime InvokeModelWithResponseStream', () => {
  it('reads an Anthropic stream from its chunks: output and tokens as the plain InvokeModel call records them', async () => {
    const body = anthropicBody();
    await client.send(new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }));
    const plain = await oneDecision();
    tracing.reset();
    const output = await withAuditContext({ subjectId: 'vendor-12' }, () =>
      client.send(
        new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: 'application/json' }),
      ),
    );
    const events = await drainInvokeStream(output);
    const text = events
      .map((event) => (event['delta'] as { text?: string } | undefined)?.text ?? '')
      .join('');
    expect(text).toBe(DEFAULT_BEDROCK_REPLY);
    const span = await oneDecision();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const messageStart = events[0]?.['message'] as { id: string };
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.model': MODEL,
      'gen_ai.request.max_tokens': 200,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.id': messageStart.id,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': plain.attributes['gen_ai.usage.input_tokens'],
      'gen_ai.usage.output_tokens': plain.attributes['gen_ai.usage.output_tokens'],
      'audit.subject.id': 'vendor-12',
      'audit.input.hash': plain.attributes['audit.input.hash'],
      'audit.output.hash': plain.attributes['audit.output.hash'],
    });
    expect(JSON.stringify(span.attributes)).not.toContain('INV-2207');
  });

  it('records the tool use an Anthropic model asks for in the stream', async () => {
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const body = anthropicBody({ tools: [{ name: 'pay_invoice', input_schema: { type: 'object' } }] });
    await drainInvokeStream(
      await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body })),
    );
    const span = await oneDecision();
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_use']);
    expect(span.attributes['audit.action.requested_tools']).toEqual(['pay_invoice']);
    const [message] = JSON.parse(String(span.attributes['gen_ai.output.messages'])) as {
      tool_calls: { name: string; arguments: string }[];
    }[];
    expect(message?.tool_calls.map(({ name, arguments: args }) => [name, JSON.parse(args)])).toEqual([
      ['pay_invoice', BEDROCK_TOOL_INPUT],
    ]);
  });

  it('keeps the chunks of another model family as sent, with the tokens Bedrock counted', async () => {
    instrumentation.setConfig({ ...baseConfig, captureOutput: 'full' });
    const modelId = 'meta.llama3-1-8b-instruct-v1:0';
    const body = JSON.stringify({ prompt: 'Can invoice INV-2207 be paid?', max_gen_len: 128 });
    const events = await drainInvokeStream(
      await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body })),
    );
    expect(events.map((event) => event['generation']).join('')).toBe(DEFAULT_BEDROCK_REPLY);
    const metrics = events.at(-1)?.['amazon-bedrock-invocationMetrics'] as {
      inputTokenCount: number;
      outputTokenCount: number;
    };
    const span = await oneDecision();
    expect(span.name).toBe(`text_completion ${modelId}`);
    expect(span.attributes).toMatchObject({
      'gen_ai.request.max_tokens': 128,
      'gen_ai.usage.input_tokens': metrics.inputTokenCount,
      'gen_ai.usage.output_tokens': metrics.outputTokenCount,
    });
    // Each chunk's text as received (the server writes JSON.stringify of each event), one per line.
    expect(span.attributes['audit.output.content']).toBe(
      events.map((event) => JSON.stringify(event)).join('\n'),
    );
  });

  it('ends when the consumer breaks out, and with an error span on an exception message', async () => {
    const output = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: anthropicBody() }),
    );
    let events = 0;
    for await (const _event of output.body ?? []) {
      if (++events === 3) break;
    }
    const broken = await oneDecision();
    expect(broken.status.code).toBe(SpanStatusCode.UNSET);
    expect(broken.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    tracing.reset();
    const failing = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: 'stream-fail', body: anthropicBody() }),
    );
    await expect(drainInvokeStream(failing)).rejects.toThrow(/simulated failure mid-stream/);
    const failed = await oneDecision();
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('ModelStreamErrorException');
  });

  it('records a refused request as an error span and rethrows the SDK exception unchanged', async () => {
    const error = await client
      .send(new InvokeModelWithResponseStreamCommand({ modelId: 'fail-429', body: anthropicBody() }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottlingException);
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('ThrottlingException');
  });
});

describe('@aws-sdk/client-bedrock-runtime InvokeModel', () => {
  it('records the body as sent and reads an Anthropic Messages answer', async () => {
    instrumentation.setConfig({ ...baseConfig, captureInput: 'full' });
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      temperature: 0.2,
      messages: [{ role: 'user', content: 'Can invoice INV-2207 be paid?' }],
    });
    const output = await client.send(
      new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }),
    );
    const answer = JSON.parse(new TextDecoder().decode(output.body)) as {
      id: string;
      usage: { output_tokens: number };
    };
    const span = await oneDecision();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.max_tokens': 200,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.id': answer.id,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.output_tokens': answer.usage.output_tokens,
      'audit.input.content': body,
    });
  });

  it('refuses before sending under fail-closed when the record cannot be kept', async () => {
    instrumentation.setConfig({
      ...baseConfig,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    const before = server.requests.length;
    await expect(client.send(new ConverseCommand({ modelId: MODEL, messages }))).rejects.toBeInstanceOf(
      DecisionRefusedError,
    );
    await expect(client.send(new ConverseStreamCommand({ modelId: MODEL, messages }))).rejects.toBeInstanceOf(
      DecisionRefusedError,
    );
    await expect(
      client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: anthropicBody() })),
    ).rejects.toBeInstanceOf(DecisionRefusedError);
    expect(server.requests.length).toBe(before);
    expect(tracing.spans()).toEqual([]);
  });

  it.each(['hash', 'redact', 'encrypt'] as const)(
    '%s mode leaves no plaintext prompt in any attribute',
    async (mode) => {
      instrumentation.setConfig({ ...baseConfig, captureInput: mode, captureOutput: mode });
      const secret = 'jane.doe@example.com';
      await withAuditContext({ subjectId: 'vendor-pii' }, () =>
        client.send(
          new ConverseCommand({
            modelId: MODEL,
            messages: [{ role: 'user', content: [{ text: `Mail ${secret}` }] }],
          }),
        ),
      );
      const span = await oneDecision();
      expect(allAttributeText([span]).join('\n')).not.toContain(secret);
      expect(span.attributes['audit.input.capture_mode']).toBe(mode);
    },
  );
});
