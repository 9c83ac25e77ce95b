// CPU cost of recording AI calls as audit decisions.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/instrumentation.bench.ts [--batches 7] [--calls 300]
//
// One run measures, against the same OpenAI-compatible server running in its own process:
//   - openai 6 uninstrumented, with @opentelemetry/instrumentation-openai (contrib), and with ours;
//   - openai 7 uninstrumented and with ours (the contrib range stops below 7: it would record nothing there);
//   - decision() alone in hash mode.
// Each openai variant runs in a fresh child process (the two instrumentations patch the same prototype, and a
// fresh process keeps JIT state comparable): warm-up, then batches of sequential chat.completions.create calls
// with a 1 KB prompt; CPU per call = process.cpuUsage() (user + system) of the client process over the batch / calls.
// The median batch is reported. Spans go through a BatchSpanProcessor to an exporter that discards them, so span
// processing is in the figure but no I/O is.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { AiAuditInstrumentation, configureAudit, decision } from '@decisiontrail/instrumentation';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';

const run = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
const { values: args } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    variant: { type: 'string' },
    url: { type: 'string' },
    batches: { type: 'string', default: '7' },
    calls: { type: 'string', default: '300' },
  },
});
const BATCHES = Number(args.batches);
const CALLS = Number(args.calls);
const PROMPT =
  `Assess this support ticket and decide whether to escalate it. ${'Details of the customer issue. '.repeat(40)}`.slice(
    0,
    1024,
  );
const HMAC_KEY = 'benchmark-hmac-key';

type Variant = 'openai6-bare' | 'openai6-contrib' | 'openai6-ours' | 'openai7-bare' | 'openai7-ours';
const VARIANTS: Variant[] = [
  'openai6-bare',
  'openai6-contrib',
  'openai6-ours',
  'openai7-bare',
  'openai7-ours',
];

/** An exporter that drops spans, so the figures contain span processing but no I/O. */
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

function installProvider(): { provider: TracerProvider; exporter: DiscardingExporter } {
  const exporter = new DiscardingExporter();
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { provider, exporter };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** CPU microseconds per call of `fn`, median over batches. */
async function cpuPerCall(
  fn: () => Promise<unknown> | unknown,
  calls: number,
  batches: number,
): Promise<number> {
  for (let i = 0; i < calls; i++) await fn();
  const perBatch: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) await fn();
    const used = process.cpuUsage(start);
    perBatch.push((used.user + used.system) / calls);
  }
  return median(perBatch);
}

interface OpenAiLike {
  chat: { completions: { create(params: object): Promise<unknown> } };
}

async function runVariant(variant: Variant, url: string): Promise<void> {
  const { provider, exporter } = installProvider();
  const require = createRequire(import.meta.url);
  const moduleName = variant.startsWith('openai6') ? 'openai6' : 'openai';
  const openaiModule = require(moduleName) as { OpenAI: new (options: object) => OpenAiLike };
  if (variant === 'openai6-contrib') {
    const contrib = new OpenAIInstrumentation();
    contrib.setTracerProvider(provider);
    // The alias package is not named "openai" on disk, so apply the contrib's own module patch by hand.
    contrib.getModuleDefinitions()[0]!.patch!(openaiModule, '6.30.1');
  } else if (variant.endsWith('-ours')) {
    configureAudit({ hmacKey: HMAC_KEY });
    const ours = new AiAuditInstrumentation({ hmacKey: HMAC_KEY });
    ours.setTracerProvider(provider);
    ours.manuallyInstrument(openaiModule, 'openai');
  }
  const client = new openaiModule.OpenAI({ baseURL: url, apiKey: 'bench', maxRetries: 0 });
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] };
  const microseconds = await cpuPerCall(() => client.chat.completions.create(params), CALLS, BATCHES);
  await provider.forceFlush();
  process.stdout.write(`${JSON.stringify({ variant, microseconds, spans: exporter.exported })}\n`);
  await provider.shutdown();
}

async function runDecisionBench(): Promise<{ bare: number; decision: number; spans: number }> {
  const { provider, exporter } = installProvider();
  configureAudit({ hmacKey: HMAC_KEY });
  const input = PROMPT;
  let sink = 0;
  const calls = 20_000;
  const bare = await cpuPerCall(() => (sink += input.length), calls, BATCHES);
  const measured = await cpuPerCall(
    () =>
      decision({ modelId: 'credit-v1', version: '1.0.0', input }, (handle) => {
        handle.setOutcome('approve');
        handle.setConfidence(0.9);
        return (sink += input.length);
      }),
    calls,
    BATCHES,
  );
  await provider.forceFlush();
  const spans = exporter.exported;
  await provider.shutdown();
  if (sink === 0) throw new Error('unreachable');
  return { bare, decision: measured, spans };
}

async function main(): Promise<void> {
  if (args.server) {
    const server = await startOpenAiCompatibleServer();
    process.stdout.write(`${server.url}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
    return;
  }
  if (args.variant) {
    await runVariant(args.variant as Variant, args.url!);
    return;
  }
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  const results = new Map<Variant, { microseconds: number; spans: number }>();
  try {
    for (const variant of VARIANTS) {
      const { stdout } = await run(
        process.execPath,
        [
          '--conditions=@decisiontrail/source',
          thisFile,
          '--variant',
          variant,
          '--url',
          url,
          '--batches',
          String(BATCHES),
          '--calls',
          String(CALLS),
        ],
        { maxBuffer: 1 << 20 },
      );
      const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as { microseconds: number; spans: number };
      results.set(variant, line);
    }
  } finally {
    server.stdin.end();
  }
  const decisionFigures = await runDecisionBench();
  const get = (variant: Variant) => results.get(variant)!;
  const overhead = (variant: Variant, base: Variant) => get(variant).microseconds - get(base).microseconds;
  const rows: [string, string, string][] = [
    [
      'openai 6, uninstrumented',
      `${get('openai6-bare').microseconds.toFixed(0)} µs`,
      `${get('openai6-bare').spans} spans`,
    ],
    [
      'openai 6 + @opentelemetry/instrumentation-openai 0.22.0',
      `${get('openai6-contrib').microseconds.toFixed(0)} µs (+${overhead('openai6-contrib', 'openai6-bare').toFixed(0)})`,
      `${get('openai6-contrib').spans} spans`,
    ],
    [
      'openai 6 + @decisiontrail/instrumentation (hash mode)',
      `${get('openai6-ours').microseconds.toFixed(0)} µs (+${overhead('openai6-ours', 'openai6-bare').toFixed(0)})`,
      `${get('openai6-ours').spans} spans`,
    ],
    [
      'openai 7, uninstrumented',
      `${get('openai7-bare').microseconds.toFixed(0)} µs`,
      `${get('openai7-bare').spans} spans`,
    ],
    [
      'openai 7 + @decisiontrail/instrumentation (hash mode)',
      `${get('openai7-ours').microseconds.toFixed(0)} µs (+${overhead('openai7-ours', 'openai7-bare').toFixed(0)})`,
      `${get('openai7-ours').spans} spans`,
    ],
    ['loop body alone (decision() baseline)', `${decisionFigures.bare.toFixed(2)} µs`, ''],
    [
      'decision() in hash mode, 1 KB input',
      `${decisionFigures.decision.toFixed(2)} µs (+${(decisionFigures.decision - decisionFigures.bare).toFixed(2)})`,
      `${decisionFigures.spans} spans`,
    ],
  ];
  const ratio = overhead('openai6-ours', 'openai6-bare') / overhead('openai6-contrib', 'openai6-bare');
  console.log(
    `\nCPU per call (median of ${BATCHES} batches of ${CALLS} calls; decision(): batches of 20000), node ${process.version}\n`,
  );
  const width = Math.max(...rows.map((row) => row[0].length));
  for (const [name, figure, spans] of rows)
    console.log(`${name.padEnd(width)}  ${figure.padEnd(22)} ${spans}`);
  console.log(`\nours / contrib overhead on openai 6: ${ratio.toFixed(2)}×`);
}

await main();
