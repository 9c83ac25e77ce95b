import Anthropic, * as anthropicModule from '@anthropic-ai/sdk';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  DecisionRefusedError,
  withAuditContext,
} from '@decisiontrail/instrumentation';
import {
  DEFAULT_ANTHROPIC_REPLY,
  startAnthropicMessagesServer,
  TOOL_INPUT,
} from '../../../../test/support/anthropic-messages-server.ts';
import type { RunningServer } from '../../../../test/support/http-server.ts';
import { installTestTracing, waitForSpans } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const instrumentation = new AiAuditInstrumentation({ hmacKey: 'anthropic-key', hmacKeyId: 'ak' });
instrumentation.manuallyInstrument(anthropicModule);

let server: RunningServer;
let slowServer: RunningServer;
let client: Anthropic;
beforeAll(async () => {
  server = await startAnthropicMessagesServer();
  slowServer = await startAnthropicMessagesServer({ chunkDelayMs: 20 });
  client = new Anthropic({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  instrumentation.disable();
  await server.close();
  await slowServer.close();
});
beforeEach(() => tracing.reset());

const params = {
  model: 'claude-test-1',
  max_tokens: 128,
  system: 'You assess insurance claims.',
  messages: [{ role: 'user' as const, content: 'Claim 5531: water damage, policy covers floods.' }],
};
const decisions = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === 'decision');
const oneDecision = async () =>
  decisions(await waitForSpans(tracing, (spans) => decisions(spans).length === 1))[0]!;

describe('@anthropic-ai/sdk messages', () => {
  it('records messages.create as a GenAI decision span', async () => {
    const message = await withAuditContext({ subjectId: 'claimant-9' }, () => client.messages.create(params));
    expect(message.content[0]).toMatchObject({ type: 'text', text: DEFAULT_ANTHROPIC_REPLY });
    const span = await oneDecision();
    expect(span.name).toBe('chat claude-test-1');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-test-1',
      'gen_ai.request.max_tokens': 128,
      'gen_ai.response.model': 'claude-test-1',
      'gen_ai.response.id': message.id,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
      'audit.subject.id': 'claimant-9',
      'audit.input.hash_key_id': 'ak',
    });
  });

  it('records stream: true when the stream completes, with the same output hash', async () => {
    await client.messages.create(params);
    const plain = await oneDecision();
    tracing.reset();
    const stream = await client.messages.create({ ...params, stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('message_stop');
    const span = await oneDecision();
    expect(span.attributes['audit.output.hash']).toBe(plain.attributes['audit.output.hash']);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(
      plain.attributes['gen_ai.usage.output_tokens'],
    );
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['end_turn']);
  });

  it('records messages.stream() once, ending with the final message', async () => {
    const stream = client.messages.stream(params);
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ text: DEFAULT_ANTHROPIC_REPLY });
    const span = await oneDecision();
    expect(span.attributes['gen_ai.response.id']).toBe(final.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(decisions(tracing.spans())).toHaveLength(1);
  });

  it('ends the span when messages.stream() is aborted', async () => {
    const slow = new Anthropic({ baseURL: slowServer.url, apiKey: 'test', maxRetries: 0 });
    const stream = slow.messages.stream(params);
    stream.on('text', () => stream.abort());
    await expect(stream.finalMessage()).rejects.toThrow();
    const span = await oneDecision();
    expect(span.ended).toBe(true);
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('ends the span when the consumer breaks out of a raw stream', async () => {
    const stream = await client.messages.create({ ...params, stream: true });
    for await (const event of stream) {
      if (event.type === 'content_block_delta') break;
    }
    const span = await oneDecision();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records tool use in the output, assembled the same plain and streamed', async () => {
    instrumentation.setConfig({ hmacKey: 'anthropic-key', hmacKeyId: 'ak', captureOutput: 'full' });
    const tools = [
      { name: 'settle_claim', description: 'Settle a claim', input_schema: { type: 'object' as const } },
    ];
    const plain = await client.messages.create({ ...params, tools });
    expect(plain.stop_reason).toBe('tool_use');
    const plainSpan = await oneDecision();
    tracing.reset();
    const stream = await client.messages.create({ ...params, tools, stream: true });
    for await (const _event of stream) {
      // drain
    }
    const streamSpan = await oneDecision();
    instrumentation.setConfig({ hmacKey: 'anthropic-key', hmacKeyId: 'ak' });
    expect(streamSpan.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_use']);
    // The tool input streams as whitespace-laden partial JSON; recorded arguments are normalized, so only the
    // tool-use id the server mints per request differs.
    const content = (span: ReadableSpan) =>
      String(span.attributes['audit.output.content']).replace(/toolu_\w+/g, 'toolu_x');
    expect(content(streamSpan)).toBe(content(plainSpan));
    expect(JSON.parse(String(plainSpan.attributes['audit.output.content']))).toEqual([
      {
        role: 'assistant',
        content: 'Checking the policy.',
        tool_calls: [
          {
            id: expect.stringMatching(/^toolu_/),
            name: 'settle_claim',
            arguments: JSON.stringify(TOOL_INPUT),
          },
        ],
      },
    ]);
  });

  it('records errors: HTTP failures and failures mid-stream', async () => {
    await expect(client.messages.create({ ...params, model: 'fail-529' })).rejects.toBeInstanceOf(
      Anthropic.APIError,
    );
    const httpSpan = await oneDecision();
    expect(httpSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(httpSpan.attributes['error.type']).toMatch(/Error$/);
    tracing.reset();
    const stream = await client.messages.create({ ...params, model: 'stream-fail', stream: true });
    const drain = async () => {
      for await (const _event of stream) {
        // drain
      }
    };
    await expect(drain()).rejects.toBeInstanceOf(Anthropic.APIError);
    const streamSpan = await oneDecision();
    expect(streamSpan.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('record loss policy', () => {
  it('fail-closed: a message whose record cannot be kept is refused before the request is sent', async () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({
      ...config,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    try {
      const before = server.requests.length;
      const error = await client.messages.create(params).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DecisionRefusedError);
      expect(error).toMatchObject({ code: 'DECISION_REFUSED', modelId: params.model });
      expect(server.requests.length).toBe(before);
      expect(tracing.spans()).toEqual([]);
    } finally {
      instrumentation.setConfig(config);
    }
  });
});
