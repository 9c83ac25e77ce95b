import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import * as mcpClientModule from '@modelcontextprotocol/sdk/client/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  type AiAuditInstrumentationConfig,
  type DecisionReference,
  withAuditContext,
  withRequestingDecision,
} from '@decisiontrail/instrumentation';
import { requestedActions } from '@decisiontrail/instrumentation/internal';
import {
  startAnthropicMessagesServer,
  TOOL_INPUT,
} from '../../../../test/support/anthropic-messages-server.ts';
import type { RunningServer } from '../../../../test/support/http-server.ts';
import { startOpenAiCompatibleServer } from '../../../../test/support/openai-compatible-server.ts';
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

const HMAC_KEY = 'mcp-hmac-key';
const baseConfig: AiAuditInstrumentationConfig = { hmacKey: HMAC_KEY, hmacKeyId: 'mcp-key' };
const instrumentation = new AiAuditInstrumentation(baseConfig);
const mcpPatched = instrumentation.manuallyInstrument(mcpClientModule);
instrumentation.manuallyInstrument(openaiModule);
instrumentation.manuallyInstrument(anthropicModule);

/** What the tools did, as the server saw it: a tool run is an action with effect outside the model. */
const toolRuns: { name: string; arguments: unknown }[] = [];

function startToolServer(): McpServer {
  const server = new McpServer({ name: 'ticket-desk', version: '1.0.0' });
  server.registerTool(
    'escalate_ticket',
    { description: 'Escalates a support ticket', inputSchema: { action: z.string() } },
    (args) => {
      toolRuns.push({ name: 'escalate_ticket', arguments: args });
      return { content: [{ type: 'text', text: `ticket ${args.action}d` }] };
    },
  );
  server.registerTool(
    'approve_claim',
    { description: 'Approves an insurance claim', inputSchema: { claim: z.number(), action: z.string() } },
    (args) => {
      toolRuns.push({ name: 'approve_claim', arguments: args });
      return { content: [{ type: 'text', text: `claim ${args.claim} ${args.action}d` }] };
    },
  );
  server.registerTool(
    'close_account',
    { description: 'Closes an account', inputSchema: { account: z.string() } },
    (args) => {
      toolRuns.push({ name: 'close_account', arguments: args });
      return { content: [{ type: 'text', text: 'account is frozen, not closed' }], isError: true };
    },
  );
  return server;
}

let mcpServer: McpServer;
let mcp: Client;
let openaiServer: RunningServer;
let anthropicServer: RunningServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  mcpServer = startToolServer();
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await mcpServer.connect(serverTransport);
  mcp = new Client({ name: 'support-agent', version: '1.0.0' });
  await mcp.connect(clientTransport);
  openaiServer = await startOpenAiCompatibleServer();
  anthropicServer = await startAnthropicMessagesServer();
  openai = new OpenAI({ baseURL: openaiServer.url, apiKey: 'test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: anthropicServer.url, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  instrumentation.disable();
  await mcp.close();
  await mcpServer.close();
  await openaiServer.close();
  await anthropicServer.close();
});
beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  tracing.reset();
  toolRuns.length = 0;
  diagErrors.length = 0;
  // Each test starts with no pending tool request, so a link can only come from that test's own decisions.
  requestedActions.clear();
});

const ofType = (type: string) => (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes['audit.record.type'] === type);
const actions = ofType('action');
const decisions = ofType('decision');

/** Asks the OpenAI-compatible server, which answers a request with tools by calling the first one. */
async function openAiDecidesToEscalate() {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Ticket 1182 has waited 9 days. Act on it.' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'escalate_ticket',
          parameters: { type: 'object', properties: { action: { type: 'string' } } },
        },
      },
    ],
  });
  const call = completion.choices[0]?.message.tool_calls?.[0];
  if (call?.type !== 'function') throw new Error('the server did not call the tool');
  return call;
}

describe('@modelcontextprotocol/sdk Client.callTool', () => {
  it('is recognised by manuallyInstrument', () => {
    expect(mcpPatched).toBe(true);
  });

  it('records a tool run with no requesting decision as an execute_tool action span', async () => {
    const result = await withAuditContext({ subjectId: 'cust-77', actorId: 'agent-3' }, () =>
      mcp.callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } }),
    );
    expect(result.content).toEqual([{ type: 'text', text: 'ticket escalated' }]);
    expect(toolRuns).toEqual([{ name: 'escalate_ticket', arguments: { action: 'escalate' } }]);
    const [span] = actions(await waitForSpans(tracing, (spans) => actions(spans).length === 1));
    expect(span?.name).toBe('execute_tool escalate_ticket');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes).toMatchObject({
      'audit.record.type': 'action',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'escalate_ticket',
      'gen_ai.tool.type': 'extension',
      'audit.subject.id': 'cust-77',
      'audit.actor.id': 'agent-3',
      'audit.input.capture_mode': 'hash',
      'audit.input.hash_key_id': 'mcp-key',
      'audit.output.capture_mode': 'hash',
    });
    expect(span?.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(span?.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(span?.attributes['audit.decision.id']).toBeUndefined();
    expect(span?.links).toEqual([]);
  });

  it('ties the run to the openai decision that requested it: model decided → tool ran → result', async () => {
    const call = await openAiDecidesToEscalate();
    await mcp.callTool({
      name: call.function.name,
      arguments: JSON.parse(call.function.arguments) as Record<string, unknown>,
    });
    const spans = await waitForSpans(
      tracing,
      (all) => actions(all).length === 1 && decisions(all).length === 1,
    );
    const [decision] = decisions(spans);
    const [action] = actions(spans);
    expect(decision?.attributes['audit.action.requested_tools']).toEqual(['escalate_ticket']);
    expect(action?.attributes).toMatchObject({
      'audit.decision.id': decision?.attributes['audit.decision.id'],
      'audit.action.link_basis': 'arguments',
      'gen_ai.tool.call.id': call.id,
    });
    expect(action?.links.map((link) => link.context.spanId)).toEqual([decision?.spanContext().spanId]);
  });

  it('ties a run whose arguments differ from the request by tool name, and consumes each request once', async () => {
    const call = await openAiDecidesToEscalate();
    await mcp.callTool({ name: call.function.name, arguments: { action: 'de-escalate' } });
    await mcp.callTool({ name: call.function.name, arguments: { action: 'escalate' } });
    const spans = await waitForSpans(tracing, (all) => actions(all).length === 2);
    const [first, second] = actions(spans);
    expect(first?.attributes['audit.action.link_basis']).toBe('tool_name');
    expect(first?.attributes['audit.decision.id']).toBe(decisions(spans)[0]?.attributes['audit.decision.id']);
    expect(second?.attributes['audit.decision.id']).toBeUndefined();
  });

  it('never ties a run to a decision about another data subject', async () => {
    const call = await withAuditContext({ subjectId: 'cust-1' }, () => openAiDecidesToEscalate());
    await withAuditContext({ subjectId: 'cust-2' }, () =>
      mcp.callTool({
        name: call.function.name,
        arguments: JSON.parse(call.function.arguments) as Record<string, unknown>,
      }),
    );
    const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
    expect(action?.attributes['audit.decision.id']).toBeUndefined();
  });

  it('ties the run to an anthropic tool_use request', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Claim 5531 is covered. Act on it.' }],
      tools: [{ name: 'approve_claim', input_schema: { type: 'object' } }],
    });
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.input).toEqual(TOOL_INPUT);
    await mcp.callTool({ name: 'approve_claim', arguments: toolUse?.input as Record<string, unknown> });
    const spans = await waitForSpans(
      tracing,
      (all) => actions(all).length === 1 && decisions(all).length === 1,
    );
    expect(actions(spans)[0]?.attributes).toMatchObject({
      'audit.decision.id': decisions(spans)[0]?.attributes['audit.decision.id'],
      'audit.action.link_basis': 'arguments',
      'gen_ai.tool.call.id': toolUse?.type === 'tool_use' ? toolUse.id : undefined,
    });
  });

  it('takes the requesting decision the application names', async () => {
    const decision: DecisionReference = {
      decisionId: '0192f5e4-7c3a-7b21-9d4e-2f6a1c0b8e55',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    };
    await withRequestingDecision(decision, () =>
      mcp.callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } }),
    );
    const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
    expect(action?.attributes['audit.decision.id']).toBe(decision.decisionId);
    expect(action?.attributes['audit.action.link_basis']).toBe('explicit');
    expect(action?.links[0]?.context.spanId).toBe(decision.spanId);
  });

  it('marks a run whose tool reports an error, and returns the result unchanged', async () => {
    const result = await mcp.callTool({ name: 'close_account', arguments: { account: 'acc-9' } });
    expect(result.isError).toBe(true);
    const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
    expect(action?.status.code).toBe(SpanStatusCode.ERROR);
    expect(action?.attributes['error.type']).toBe('tool_error');
  });

  it('records a call that fails (a closed connection) as an error span and rethrows the SDK error', async () => {
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const server = startToolServer();
    await server.connect(serverTransport);
    const closed = new Client({ name: 'support-agent', version: '1.0.0' });
    await closed.connect(clientTransport);
    await closed.close();
    await server.close();
    const error = await closed
      .callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
    expect(action?.status.code).toBe(SpanStatusCode.ERROR);
    expect(action?.attributes['error.type']).toBe((error as Error).constructor.name);
    expect(toolRuns).toEqual([]);
  });

  it.each(['hash', 'redact', 'encrypt'] as const)(
    '%s mode leaves no plaintext argument in any attribute',
    async (mode) => {
      instrumentation.setConfig({ ...baseConfig, captureInput: mode, captureOutput: mode });
      const secret = 'jane.doe@example.com';
      await withAuditContext({ subjectId: 'cust-pii' }, () =>
        mcp.callTool({ name: 'escalate_ticket', arguments: { action: `mail ${secret}` } }),
      );
      const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
      expect(allAttributeText([action!]).join('\n')).not.toContain(secret);
      expect(action?.attributes['audit.input.capture_mode']).toBe(mode);
    },
  );

  it('fails open: an internal throw at span start leaves the tool call untouched', async () => {
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
    const result = await mcp.callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } });
    expect(result.content).toEqual([{ type: 'text', text: 'ticket escalated' }]);
    const [action] = actions(await waitForSpans(tracing, (all) => actions(all).length === 1));
    expect(action?.attributes['audit.input.capture_mode']).toBe('none');
    expect(String(diagErrors[0]?.[1])).toContain('forced keystore failure');
  });
});
