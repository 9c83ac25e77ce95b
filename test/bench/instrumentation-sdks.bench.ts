// CPU cost per call of recording each AI SDK's calls as decisions (#22), against the same call bare.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/instrumentation-sdks.bench.ts [--rounds 3] [--pairs 6] [--calls 100]
//
// `npm run bench:instrumentation` runs it after the openai comparison. The wire-format test servers (Gemini,
// Bedrock Runtime over HTTP/2, Mistral, OpenAI) run in a process of their own, so their CPU is not in the
// figures. Each variant runs in a fresh child process that alternates batches of sequential calls (1 KB prompt)
// bare and instrumented — A, B, A, B, … — and reports the median of the paired differences of CPU per call
// (process.cpuUsage, user + system, of the client process); rounds interleave the children and the median round
// is reported. "Instrumented" is @decisiontrail/instrumentation in hash mode; "bare" is the module unpatched (for
// the Vercel AI SDK, whose integration stays registered, a call that passes `telemetry: { integrations: [] }`).
// The MCP variant's server runs in the client process over the SDK's in-memory transport: its CPU is in both
// states alike. Spans go through a BatchSpanProcessor to an exporter that discards them.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { execFile, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { AiAuditInstrumentation } from '@decisiontrail/instrumentation';
import { bedrockClientConfig, startBedrockRuntimeServer } from '../support/bedrock-runtime-server.ts';
import { startGeminiServer } from '../support/gemini-server.ts';
import type { RunningServer } from '../support/http-server.ts';
import { startMistralServer } from '../support/mistral-server.ts';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';

const run = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
/** Rounds of children, bare/instrumented batch pairs per child, calls per batch. */
export interface SdkBenchSettings {
  rounds: number;
  pairs: number;
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
          pairs: { type: 'string', default: '6' },
          calls: { type: 'string', default: '100' },
        },
      })
    : {
        values: { server: false, rounds: '3', pairs: '6', calls: '100' } as Record<string, string | boolean>,
      };
const PAIRS = Number(args['pairs']);
const CALLS = Number(args['calls']);
const PROMPT =
  `Assess this support ticket and decide whether to escalate it. ${'Details of the customer issue. '.repeat(40)}`.slice(
    0,
    1024,
  );
const HMAC_KEY = 'benchmark-hmac-key';

/** Where the servers listen, as the server process reports it. */
interface ServerUrls {
  gemini: string;
  bedrock: string;
  mistral: string;
  openai: string;
}

const VARIANTS = {
  'genai-generate': '@google/genai models.generateContent',
  'genai-stream': '@google/genai models.generateContentStream',
  'bedrock-converse': '@aws-sdk/client-bedrock-runtime Converse',
  'bedrock-converse-stream': '@aws-sdk/client-bedrock-runtime ConverseStream',
  'mistral-complete': '@mistralai/mistralai chat.complete',
  'mistral-stream': '@mistralai/mistralai chat.stream',
  'mcp-call-tool': '@modelcontextprotocol/sdk callTool (in-memory)',
  'ai-generate-text': 'ai generateText (@ai-sdk/openai)',
  'langchain-invoke': '@langchain/openai ChatOpenAI.invoke',
} as const;
type Variant = keyof typeof VARIANTS;

interface PairedResult {
  bare: number;
  instrumented: number;
  overhead: number;
  spans: number;
}

class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], resultCallback: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    resultCallback({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function batchCpu(fn: () => Promise<unknown>, calls: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

/** Alternates bare and instrumented batches (after a warm-up of both) and pairs them up. */
async function paired(
  bare: () => Promise<unknown>,
  instrumented: () => Promise<unknown>,
  patch: () => void,
  unpatch: () => void,
): Promise<Omit<PairedResult, 'spans'>> {
  patch();
  await batchCpu(instrumented, CALLS);
  unpatch();
  await batchCpu(bare, CALLS);
  const plain: number[] = [];
  const patched: number[] = [];
  const differences: number[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    let a: number;
    let b: number;
    if (pair % 2 === 0) {
      a = await batchCpu(bare, CALLS);
      patch();
      b = await batchCpu(instrumented, CALLS);
      unpatch();
    } else {
      patch();
      b = await batchCpu(instrumented, CALLS);
      unpatch();
      a = await batchCpu(bare, CALLS);
    }
    plain.push(a);
    patched.push(b);
    differences.push(b - a);
  }
  return { bare: median(plain), instrumented: median(patched), overhead: median(differences) };
}

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
    case 'bedrock-converse-stream': {
      const bedrock = await import('@aws-sdk/client-bedrock-runtime');
      const client = new bedrock.BedrockRuntimeClient(
        bedrockClientConfig({ url: urls.bedrock } as RunningServer),
      );
      const input = {
        modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
        messages: [{ role: 'user' as const, content: [{ text: PROMPT }] }],
      };
      return {
        modules: [bedrock],
        bare:
          variant === 'bedrock-converse'
            ? () => client.send(new bedrock.ConverseCommand(input))
            : async () => drain((await client.send(new bedrock.ConverseStreamCommand(input))).stream),
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
  const { modules, bare, instrumented = bare } = await prepare(variant, urls);
  const ours = new AiAuditInstrumentation({ hmacKey: HMAC_KEY });
  ours.setTracerProvider(provider);
  ours.disable();
  const patch = () => {
    ours.enable();
    for (const module of modules) ours.manuallyInstrument(module);
  };
  const result = await paired(bare, instrumented, patch, () => ours.disable());
  await provider.forceFlush();
  // An instrumentation that recorded nothing would show as free: every instrumented call must have left a span.
  const expected = (PAIRS + 1) * CALLS;
  if (exporter.exported < expected) {
    throw new Error(`${variant}: ${exporter.exported} spans for ${expected} instrumented calls`);
  }
  process.stdout.write(`${JSON.stringify({ ...result, spans: exporter.exported })}\n`);
  await provider.shutdown();
  process.exit(0);
}

async function serve(): Promise<void> {
  const servers = {
    gemini: await startGeminiServer(),
    bedrock: await startBedrockRuntimeServer(),
    mistral: await startMistralServer(),
    openai: await startOpenAiCompatibleServer(),
  };
  const urls = Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, server.url]));
  process.stdout.write(`${JSON.stringify(urls)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void Promise.all(Object.values(servers).map((server) => server.close())).then(() => process.exit(0));
  });
}

function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(1))
    .join(' / ');
}

/** Runs every variant in interleaved rounds against one server process and prints the table. */
export async function runSdkOverheads({ rounds, pairs, calls }: SdkBenchSettings): Promise<void> {
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const urls = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  const loadBefore = loadAverage();
  const variants = Object.keys(VARIANTS) as Variant[];
  const results = new Map<Variant, PairedResult[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const { stdout } = await run(
          process.execPath,
          [
            '--conditions=@decisiontrail/source',
            thisFile,
            ...['--variant', variant, '--urls', urls, '--pairs', String(pairs), '--calls', String(calls)],
          ],
          { maxBuffer: 1 << 20 },
        );
        const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as PairedResult;
        results.set(variant, [...(results.get(variant) ?? []), line]);
      }
    }
  } finally {
    server.stdin.end();
  }
  console.log(
    `\nCPU per call by SDK, client process, ${rounds} rounds × ${pairs} bare/instrumented batch pairs of ${calls} calls, 1 KB prompt, node ${process.version}, load average ${loadBefore} before, ${loadAverage()} after\n`,
  );
  const width = Math.max(...Object.values(VARIANTS).map((label) => label.length));
  console.log(
    `${''.padEnd(width)}  ${'bare'.padStart(9)}  ${'instrumented'.padStart(12)}  ${'overhead'.padStart(9)}`,
  );
  for (const variant of variants) {
    const measured = results.get(variant)!;
    const overhead = median(measured.map((result) => result.overhead));
    const sign = overhead < 0 ? '' : '+';
    console.log(
      `${VARIANTS[variant].padEnd(width)}  ${`${median(measured.map((r) => r.bare)).toFixed(0)} µs`.padStart(9)}  ${`${median(measured.map((r) => r.instrumented)).toFixed(0)} µs`.padStart(12)}  ${`${sign}${overhead.toFixed(0)} µs`.padStart(9)}   (rounds: ${measured.map((r) => r.overhead.toFixed(0)).join(', ')})`,
    );
  }
}

if (process.argv[1] === thisFile) {
  if (args['server'] === true) await serve();
  else if (typeof args['variant'] === 'string')
    await runVariant(args['variant'] as Variant, JSON.parse(String(args['urls'])) as ServerUrls);
  else await runSdkOverheads({ rounds: Number(args['rounds']), pairs: PAIRS, calls: CALLS });
}
