// CPU cost per call of recording each AI SDK's calls as decisions (#22), against the same call bare.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/instrumentation-sdks.bench.ts [--rounds 3] [--blocks 20] [--calls 50]
//
// `npm run bench:instrumentation` runs it after the peer comparison. The wire-format test servers (OpenAI,
// Anthropic Messages, Gemini, Bedrock Runtime over HTTP/2, Mistral) run in a process of their own, so their CPU is
// not in the figures. Each SDK runs in a fresh child process (--expose-gc) that alternates batches of sequential
// calls (1 KB prompt) bare and instrumented — paired-cpu.ts: --blocks pairs of --calls calls, the order alternating —
// and reports every pair; rounds interleave the children. CPU per call is process.cpuUsage() (user + system) of the
// client process, the main thread's own beside it; the figures are medians and quartiles of the per-pair
// differences and of the per-pair ratios instrumented / bare. "Instrumented" is @decisiontrail/instrumentation in
// hash mode, and every instrumented batch must leave one span per call with the audit attributes, every bare batch
// none; "bare" is the module unpatched (for the Vercel AI SDK, whose integration stays registered, a call that
// passes `telemetry: { integrations: [] }`). The MCP variant's server runs in the client process over the SDK's
// in-memory transport: its CPU is in both states alike. Spans go through a BatchSpanProcessor, flushed at the end of
// each batch, to an exporter that discards them.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { execFile, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { AiAuditInstrumentation } from '@decisiontrail/instrumentation';
import { startAnthropicMessagesServer } from '../support/anthropic-messages-server.ts';
import { bedrockClientConfig, startBedrockRuntimeServer } from '../support/bedrock-runtime-server.ts';
import { startGeminiServer } from '../support/gemini-server.ts';
import type { RunningServer } from '../support/http-server.ts';
import { startMistralServer } from '../support/mistral-server.ts';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';
import {
  type ArmPairs,
  DiscardingExporter,
  formatSpread,
  loadAverage,
  median,
  overheads,
  runArms,
  spread,
} from './paired-cpu.ts';

const run = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
/** Rounds of children, bare/instrumented batch pairs per child, calls per batch. */
export interface SdkBenchSettings {
  rounds: number;
  blocks: number;
  calls: number;
}

// Read only when this file runs as the script: instrumentation.bench.ts imports it with options of its own.
const { values: args } =
  process.argv[1] === fileURLToPath(import.meta.url)
    ? parseArgs({
        options: {
          server: { type: 'boolean', default: false },
          variant: { type: 'string' },
          urls: { type: 'string' },
          rounds: { type: 'string', default: '3' },
          blocks: { type: 'string', default: '20' },
          calls: { type: 'string', default: '50' },
        },
      })
    : {
        values: { server: false, rounds: '3', blocks: '20', calls: '50' } as Record<string, string | boolean>,
      };
const BLOCKS = Number(args['blocks']);
const CALLS = Number(args['calls']);
const PROMPT =
  `Assess this support ticket and decide whether to escalate it. ${'Details of the customer issue. '.repeat(40)}`.slice(
    0,
    1024,
  );
const HMAC_KEY = 'benchmark-hmac-key';

/** Where the servers listen, as the server process reports it. */
interface ServerUrls {
  openai: string;
  anthropic: string;
  gemini: string;
  bedrock: string;
  mistral: string;
}

const VARIANTS = {
  'openai-create': 'openai 7 chat.completions.create',
  'openai-stream': 'openai 7 chat.completions.create, stream',
  'anthropic-create': '@anthropic-ai/sdk messages.create',
  'anthropic-stream': '@anthropic-ai/sdk messages.create, stream',
  'genai-generate': '@google/genai models.generateContent',
  'genai-stream': '@google/genai models.generateContentStream',
  'bedrock-converse': '@aws-sdk/client-bedrock-runtime Converse',
  'bedrock-converse-stream': '@aws-sdk/client-bedrock-runtime ConverseStream',
  'bedrock-invoke-model': '@aws-sdk/client-bedrock-runtime InvokeModel',
  'mistral-complete': '@mistralai/mistralai chat.complete',
  'mistral-stream': '@mistralai/mistralai chat.stream',
  'ai-generate-text': 'ai generateText (@ai-sdk/openai)',
  'langchain-invoke': '@langchain/openai ChatOpenAI.invoke',
  'mcp-call-tool': '@modelcontextprotocol/sdk callTool (in-memory)',
} as const;
type Variant = keyof typeof VARIANTS;

async function drain(iterable: AsyncIterable<unknown> | undefined): Promise<void> {
  for await (const _item of iterable ?? []) {
    // consume
  }
}

/** One variant's calls and the module(s) the instrumentation patches for it. */
async function prepare(
  variant: Variant,
  urls: ServerUrls,
): Promise<{ modules: unknown[]; bare: () => Promise<unknown>; instrumented?: () => Promise<unknown> }> {
  switch (variant) {
    case 'openai-create':
    case 'openai-stream': {
      const openaiModule = await import('openai');
      const client = new openaiModule.OpenAI({ baseURL: urls.openai, apiKey: 'bench', maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: PROMPT }];
      return {
        modules: [openaiModule],
        bare:
          variant === 'openai-create'
            ? () => client.chat.completions.create({ model: 'gpt-4o-mini', messages })
            : async () =>
                drain(await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })),
      };
    }
    case 'anthropic-create':
    case 'anthropic-stream': {
      const anthropicModule = await import('@anthropic-ai/sdk');
      const client = new anthropicModule.Anthropic({
        baseURL: urls.anthropic,
        apiKey: 'bench',
        maxRetries: 0,
      });
      const params = {
        model: 'claude-3-5-haiku-latest',
        max_tokens: 256,
        messages: [{ role: 'user' as const, content: PROMPT }],
      };
      return {
        modules: [anthropicModule],
        bare:
          variant === 'anthropic-create'
            ? () => client.messages.create(params)
            : async () => drain(await client.messages.create({ ...params, stream: true })),
      };
    }
    case 'genai-generate':
    case 'genai-stream': {
      const genai = await import('@google/genai');
      const ai = new genai.GoogleGenAI({ apiKey: 'bench', httpOptions: { baseUrl: urls.gemini } });
      const params = { model: 'gemini-2.5-flash', contents: PROMPT };
      return {
        modules: [genai],
        bare:
          variant === 'genai-generate'
            ? () => ai.models.generateContent(params)
            : async () => drain(await ai.models.generateContentStream(params)),
      };
    }
    case 'bedrock-converse':
    case 'bedrock-converse-stream':
    case 'bedrock-invoke-model': {
      const bedrock = await import('@aws-sdk/client-bedrock-runtime');
      const client = new bedrock.BedrockRuntimeClient(
        bedrockClientConfig({ url: urls.bedrock } as RunningServer),
      );
      const modelId = 'anthropic.claude-3-5-haiku-20241022-v1:0';
      const input = { modelId, messages: [{ role: 'user' as const, content: [{ text: PROMPT }] }] };
      // InvokeModel takes the model family's own body: an Anthropic Messages request.
      const body = JSON.stringify({
        anthropic_version: 'bedrock-2023-05-31',
        max_tokens: 256,
        messages: [{ role: 'user', content: PROMPT }],
      });
      return {
        modules: [bedrock],
        bare:
          variant === 'bedrock-converse'
            ? () => client.send(new bedrock.ConverseCommand(input))
            : variant === 'bedrock-converse-stream'
              ? async () => drain((await client.send(new bedrock.ConverseStreamCommand(input))).stream)
              : () =>
                  client.send(
                    new bedrock.InvokeModelCommand({ modelId, body, contentType: 'application/json' }),
                  ),
      };
    }
    case 'mistral-complete':
    case 'mistral-stream': {
      const mistral = await import('@mistralai/mistralai');
      const client = new mistral.Mistral({ apiKey: 'bench', serverURL: urls.mistral });
      const request = {
        model: 'mistral-small-latest',
        messages: [{ role: 'user' as const, content: PROMPT }],
      };
      return {
        modules: [mistral],
        bare:
          variant === 'mistral-complete'
            ? () => client.chat.complete(request)
            : async () => drain(await client.chat.stream(request)),
      };
    }
    case 'mcp-call-tool': {
      const clientModule = await import('@modelcontextprotocol/sdk/client/index.js');
      const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
      const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
      const { z } = await import('zod');
      const server = new McpServer({ name: 'bench', version: '1.0.0' });
      server.registerTool('escalate_ticket', { inputSchema: { note: z.string() } }, (input) => ({
        content: [{ type: 'text', text: `escalated: ${input.note.length}` }],
      }));
      const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
      await server.connect(serverTransport);
      const client = new clientModule.Client({ name: 'bench', version: '1.0.0' });
      await client.connect(clientTransport);
      return {
        modules: [clientModule],
        bare: () => client.callTool({ name: 'escalate_ticket', arguments: { note: PROMPT } }),
      };
    }
    case 'ai-generate-text': {
      const ai = await import('ai');
      const { createOpenAI } = await import('@ai-sdk/openai');
      const model = createOpenAI({ baseURL: urls.openai, apiKey: 'bench' }).chat('gpt-4o-mini');
      return {
        modules: [ai],
        // The integration stays registered once registered: a call with its own (empty) list goes without it.
        bare: () =>
          ai.generateText({ model, prompt: PROMPT, maxRetries: 0, telemetry: { integrations: [] } }),
        instrumented: () => ai.generateText({ model, prompt: PROMPT, maxRetries: 0 }),
      };
    }
    case 'langchain-invoke': {
      const chatModels = await import('@langchain/core/language_models/chat_models');
      const openaiModule = await import('openai');
      const { ChatOpenAI } = await import('@langchain/openai');
      const model = new ChatOpenAI({
        model: 'gpt-4o-mini',
        apiKey: 'bench',
        maxRetries: 0,
        configuration: { baseURL: urls.openai },
      });
      // The openai client underneath is instrumented too, as in an application; it records nothing inside.
      return { modules: [chatModels, openaiModule], bare: () => model.invoke(PROMPT) };
    }
  }
}

async function runVariant(variant: Variant, urls: ServerUrls): Promise<void> {
  const exporter = new DiscardingExporter();
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const { modules, bare, instrumented } = await prepare(variant, urls);
  const ours = new AiAuditInstrumentation({ hmacKey: HMAC_KEY });
  ours.setTracerProvider(provider);
  ours.disable();
  const [result] = await runArms(
    [
      {
        name: variant,
        bare,
        ...(instrumented ? { instrumented } : {}),
        patch: () => {
          ours.enable();
          for (const module of modules) ours.manuallyInstrument(module);
        },
        unpatch: () => ours.disable(),
        scope: '@decisiontrail/instrumentation',
        audited: true,
      },
    ],
    { blocks: BLOCKS, calls: CALLS, exporter, flush: () => provider.forceFlush() },
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await provider.shutdown();
  process.exit(0);
}

async function serve(): Promise<void> {
  const servers = {
    openai: await startOpenAiCompatibleServer(),
    anthropic: await startAnthropicMessagesServer(),
    gemini: await startGeminiServer(),
    bedrock: await startBedrockRuntimeServer(),
    mistral: await startMistralServer(),
  };
  const urls = Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, server.url]));
  process.stdout.write(`${JSON.stringify(urls)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void Promise.all(Object.values(servers).map((server) => server.close())).then(() => process.exit(0));
  });
}

/** Runs every variant in interleaved rounds against one server process and prints the table. */
export async function runSdkOverheads({ rounds, blocks, calls }: SdkBenchSettings): Promise<void> {
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const urls = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  const loadBefore = loadAverage();
  const variants = Object.keys(VARIANTS) as Variant[];
  const results = new Map<Variant, ArmPairs[]>();
  const loads: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const { stdout } = await run(
          process.execPath,
          [
            '--conditions=@decisiontrail/source',
            '--expose-gc',
            thisFile,
            ...['--variant', variant, '--urls', urls, '--blocks', String(blocks), '--calls', String(calls)],
          ],
          { maxBuffer: 1 << 24 },
        );
        const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as ArmPairs;
        results.set(variant, [...(results.get(variant) ?? []), line]);
      }
      loads.push(loadavg()[0]!.toFixed(1));
    }
  } finally {
    server.stdin.end();
  }
  console.log(
    `\nCPU per call by SDK, client process (user + system, all threads), 1 KB prompt; ${rounds} rounds of one child per SDK call, each ${blocks} bare/instrumented batch pairs of ${calls} calls; node ${process.version}; load average ${loadBefore} before, ${loadAverage()} after, 1-minute load after each round: ${loads.join(', ')}`,
  );
  const width = Math.max(...Object.values(VARIANTS).map((label) => label.length));
  console.log(
    `\n${''.padEnd(width)}  ${'bare'.padStart(8)}  ${'overhead [p25–p75]'.padStart(22)}  ${'instr. / bare'.padStart(22)}  ${'main thread only'.padStart(22)}  spans`,
  );
  for (const variant of variants) {
    const children = results.get(variant)!;
    const bare = median(children.flatMap((child) => child.bare.map((sample) => sample.process)));
    const ratios = children.flatMap((child) =>
      child.instrumented.map((sample, pair) => sample.process / child.bare[pair]!.process),
    );
    const spans = children.reduce((sum, child) => sum + child.spans, 0);
    const others = children.reduce((sum, child) => sum + child.otherSpans, 0);
    const bareOthers = children.reduce((sum, child) => sum + child.bareOtherSpans, 0);
    console.log(
      `${VARIANTS[variant].padEnd(width)}  ${`${bare.toFixed(0)} µs`.padStart(8)}  ${formatSpread(spread(overheads(children, 'process')), 0, ' µs').padStart(22)}  ${formatSpread(spread(ratios), 2, '×').padStart(22)}  ${formatSpread(spread(overheads(children, 'thread')), 0, ' µs').padStart(22)}  ${spans}${others + bareOthers > 0 ? ` (other scopes: ${others} instrumented, ${bareOthers} bare)` : ''}`,
    );
  }
}

if (process.argv[1] === thisFile) {
  if (args['server'] === true) await serve();
  else if (typeof args['variant'] === 'string')
    await runVariant(args['variant'] as Variant, JSON.parse(String(args['urls'])) as ServerUrls);
  else await runSdkOverheads({ rounds: Number(args['rounds']), blocks: BLOCKS, calls: CALLS });
}
