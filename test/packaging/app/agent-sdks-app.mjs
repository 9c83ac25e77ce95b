// Scenario (d) of the packaging test: an application with no decisiontrail code that uses the agent SDKs the
// instrumentation supports as optional peers, installed from the registry beside the tarballs, started with
// `node --import @decisiontrail/instrumentation/register` and DECISIONTRAIL_START_SDK=true. One call of each SDK
// against the local wire-format servers whose URLs the test passes (TEST_*_URL), all inside one request span of the
// plain OpenTelemetry API, then one MCP tool run (test/support/agent-sdk-calls.cjs, copied beside it); prints the trace id (as JSON) for `decisiontrail timeline`.
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
import { callAgentSdks } from './agent-sdk-calls.cjs';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const traceId = await trace
  .getTracer('agent-sdks-app')
  .startActiveSpan('POST /tickets/1182', async (span) => {
    try {
      await callAgentSdks(
        {
          GoogleGenAI,
          BedrockRuntimeClient,
          ConverseCommand,
          InvokeModelWithResponseStreamCommand,
          Mistral,
          generateText,
          createOpenAI,
          ChatOpenAI,
          McpServer,
          Client,
          InMemoryTransport,
          z,
        },
        {
          gemini: env('TEST_GEMINI_URL'),
          bedrock: {
            endpoint: env('TEST_BEDROCK_URL'),
            region: 'us-east-1',
            credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
            maxAttempts: 1,
          },
          mistral: env('TEST_MISTRAL_URL'),
          openai: env('TEST_OPENAI_URL'),
        },
      );
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
process.stdout.write(`${JSON.stringify({ traceId })}\n`);
