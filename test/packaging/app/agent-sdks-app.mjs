// Scenario (d) of the packaging test: an application with no decisiontrail code that uses the agent SDKs the
// instrumentation supports as optional peers, installed from the registry beside the tarballs, started with
// `node --import @decisiontrail/instrumentation/register` and DECISIONTRAIL_START_SDK=true. One call of each SDK
// against the local wire-format servers whose URLs the test passes (TEST_*_URL), all inside one request span of the
// plain OpenTelemetry API, then one MCP tool run; prints the trace id (as JSON) for `decisiontrail timeline`.
import { createOpenAI } from '@ai-sdk/openai';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { ChatOpenAI } from '@langchain/openai';
import { Mistral } from '@mistralai/mistralai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { trace } from '@opentelemetry/api';
import { generateText } from 'ai';
import { z } from 'zod';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const prompt = 'Should ticket 1182 be escalated?';

const traceId = await trace
  .getTracer('agent-sdks-app')
  .startActiveSpan('POST /tickets/1182', async (span) => {
    try {
      await new GoogleGenAI({
        apiKey: 'test',
        httpOptions: { baseUrl: env('TEST_GEMINI_URL') },
      }).models.generateContent({ model: 'gemini-2.5-flash', contents: prompt });

      const bedrock = new BedrockRuntimeClient({
        endpoint: env('TEST_BEDROCK_URL'),
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
        maxAttempts: 1,
      });
      await bedrock.send(
        new ConverseCommand({
          modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
          messages: [{ role: 'user', content: [{ text: prompt }] }],
        }),
      );
      const streamed = await bedrock.send(
        new InvokeModelWithResponseStreamCommand({
          modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
          body: JSON.stringify({
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 100,
            messages: [{ role: 'user', content: prompt }],
          }),
        }),
      );
      let chunks = 0;
      for await (const event of streamed.body) if (event.chunk) chunks += 1;
      if (chunks === 0) throw new Error('InvokeModelWithResponseStream sent no chunk');
      bedrock.destroy();

      await new Mistral({ apiKey: 'test', serverURL: env('TEST_MISTRAL_URL') }).chat.complete({
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: prompt }],
      });
      await generateText({
        model: createOpenAI({ baseURL: env('TEST_OPENAI_URL'), apiKey: 'test' }).chat('gpt-4o-mini'),
        prompt,
      });
      await new ChatOpenAI({
        model: 'gpt-4.1-mini',
        apiKey: 'test',
        maxRetries: 0,
        configuration: { baseURL: env('TEST_OPENAI_URL') },
      }).invoke(prompt);

      const tools = new McpServer({ name: 'desk', version: '1.0.0' });
      tools.registerTool('escalate_ticket', { inputSchema: { action: z.string() } }, () => ({
        content: [{ type: 'text', text: 'escalated' }],
      }));
      const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
      await tools.connect(serverTransport);
      const mcp = new Client({ name: 'agent', version: '1.0.0' });
      await mcp.connect(clientTransport);
      await mcp.callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } });
      await mcp.close();
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
process.stdout.write(`${JSON.stringify({ traceId })}\n`);
