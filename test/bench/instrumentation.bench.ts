// CPU cost of recording AI calls as audit decisions.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/instrumentation.bench.ts [--rounds 3] [--pairs 6] [--calls 200]
//
// One run measures, against the same OpenAI-compatible server running in its own process:
//   - openai 6 with @opentelemetry/instrumentation-openai (contrib) and with ours, each against openai 6 bare;
//   - openai 7 with ours against openai 7 bare (the contrib range stops below 7: it would record nothing there);
//   - decision() alone in hash mode.
// Each instrumentation runs in a fresh child process (the two patch the same prototype). The child alternates
// batches of sequential chat.completions.create calls (1 KB prompt) with the module unpatched and patched —
// A, B, A, B, … — so both states see the same machine load; CPU per call = process.cpuUsage() (user + system)
// of the client process over a batch / calls, and the overhead is the median of the paired differences.
// Children run in interleaved rounds; the median round is reported. Spans go through a BatchSpanProcessor to an
// exporter that discards them, so span processing is in the figures but no I/O is.
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
    rounds: { type: 'string', default: '3' },
    pairs: { type: 'string', default: '6' },
    calls: { type: 'string', default: '200' },
  },
});
const ROUNDS = Number(args.rounds);
const PAIRS = Number(args.pairs);
const CALLS = Number(args.calls);
const PROMPT =
  `Assess this support ticket and decide whether to escalate it. ${'Details of the customer issue. '.repeat(40)}`.slice(
    0,
    1024,
  );
const HMAC_KEY = 'benchmark-hmac-key';

type Variant = 'openai6-contrib' | 'openai6-ours' | 'openai7-ours';
const VARIANTS: Variant[] = ['openai6-contrib', 'openai6-ours', 'openai7-ours'];
const LABELS: Record<Variant, string> = {
  'openai6-contrib': 'openai 6.30.1 + @opentelemetry/instrumentation-openai 0.22.0',
  'openai6-ours': 'openai 6.30.1 + @decisiontrail/instrumentation (hash mode)',
  'openai7-ours': 'openai 7.57.0 + @decisiontrail/instrumentation (hash mode)',
};

/** What one child measured. */
interface PairedResult {
  bare: number;
  instrumented: number;
  overhead: number;
  spans: number;
}

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
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** CPU microseconds per call over one batch of `calls`. */
async function batchCpu(fn: () => Promise<unknown> | unknown, calls: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

/** Alternates bare and instrumented batches (after a warm-up of both) and pairs them up. */
async function paired(
  fn: () => Promise<unknown> | unknown,
  patch: () => void,
  unpatch: () => void,
  calls: number,
  pairs: number,
): Promise<Omit<PairedResult, 'spans'>> {
  patch();
  await batchCpu(fn, calls);
  unpatch();
  await batchCpu(fn, calls);
  const bare: number[] = [];
  const instrumented: number[] = [];
  const differences: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    // Alternate which state goes first, so a trend within the pair does not favour either.
    const bareFirst = pair % 2 === 0;
    let plain: number;
    let patched: number;
    if (bareFirst) {
      plain = await batchCpu(fn, calls);
      patch();
      patched = await batchCpu(fn, calls);
      unpatch();
    } else {
      patch();
      patched = await batchCpu(fn, calls);
      unpatch();
      plain = await batchCpu(fn, calls);
    }
    bare.push(plain);
    instrumented.push(patched);
    differences.push(patched - plain);
  }
  return { bare: median(bare), instrumented: median(instrumented), overhead: median(differences) };
}

interface OpenAiModule {
  OpenAI: new (options: object) => { chat: { completions: { create(params: object): Promise<unknown> } } };
}

async function runVariant(variant: Variant, url: string): Promise<void> {
  const { provider, exporter } = installProvider();
  const openaiModule = createRequire(import.meta.url)(
    variant.startsWith('openai6') ? 'openai6' : 'openai',
  ) as OpenAiModule;
  let patch: () => void;
  let unpatch: () => void;
  if (variant === 'openai6-contrib') {
    const contrib = new OpenAIInstrumentation();
    contrib.setTracerProvider(provider);
    // The alias package is not named "openai" on disk, so apply the contrib's own module patch by hand.
    const definition = contrib.getModuleDefinitions()[0]!;
    patch = () => definition.patch!(openaiModule, '6.30.1');
    unpatch = () => definition.unpatch!(openaiModule, '6.30.1');
  } else {
    configureAudit({ hmacKey: HMAC_KEY });
    const ours = new AiAuditInstrumentation({ hmacKey: HMAC_KEY });
    ours.setTracerProvider(provider);
    patch = () => {
      ours.enable();
      ours.manuallyInstrument(openaiModule, 'openai');
    };
    unpatch = () => ours.disable();
  }
  const client = new openaiModule.OpenAI({ baseURL: url, apiKey: 'bench', maxRetries: 0 });
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] };
  const result = await paired(() => client.chat.completions.create(params), patch, unpatch, CALLS, PAIRS);
  await provider.forceFlush();
  const line: PairedResult = { ...result, spans: exporter.exported };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  await provider.shutdown();
}

async function runDecisionBench(): Promise<PairedResult> {
  const { provider, exporter } = installProvider();
  configureAudit({ hmacKey: HMAC_KEY });
  let sink = 0;
  let record = false;
  const body = () => (sink += PROMPT.length);
  const result = await paired(
    () =>
      record
        ? decision({ modelId: 'credit-v1', version: '1.0.0', input: PROMPT }, (handle) => {
            handle.setOutcome('approve');
            handle.setConfidence(0.9);
            return body();
          })
        : body(),
    () => (record = true),
    () => (record = false),
    20_000,
    PAIRS,
  );
  await provider.forceFlush();
  const spans = exporter.exported;
  await provider.shutdown();
  if (sink === 0) throw new Error('unreachable');
  return { ...result, spans };
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
  // Rounds interleave the children, so a change in machine load during the run spreads over all of them.
  const rounds = new Map<Variant, PairedResult[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        const { stdout } = await run(
          process.execPath,
          [
            '--conditions=@decisiontrail/source',
            thisFile,
            ...['--variant', variant, '--url', url, '--pairs', String(PAIRS), '--calls', String(CALLS)],
          ],
          { maxBuffer: 1 << 20 },
        );
        const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as PairedResult;
        rounds.set(variant, [...(rounds.get(variant) ?? []), line]);
      }
    }
  } finally {
    server.stdin.end();
  }
  const summary = (results: PairedResult[]): PairedResult => ({
    bare: median(results.map((result) => result.bare)),
    instrumented: median(results.map((result) => result.instrumented)),
    overhead: median(results.map((result) => result.overhead)),
    spans: results[0]!.spans,
  });
  const figures = new Map(VARIANTS.map((variant) => [variant, summary(rounds.get(variant)!)]));
  const decisionFigures = await runDecisionBench();

  console.log(
    `\nCPU per call, client process, ${ROUNDS} rounds × ${PAIRS} bare/instrumented batch pairs of ${CALLS} calls, 1 KB prompt, node ${process.version}\n`,
  );
  const width = Math.max(...Object.values(LABELS).map((label) => label.length), 40);
  console.log(
    `${''.padEnd(width)}  ${'bare'.padStart(9)}  ${'instrumented'.padStart(12)}  ${'overhead'.padStart(9)}`,
  );
  for (const variant of VARIANTS) {
    const figure = figures.get(variant)!;
    const rounded = rounds
      .get(variant)!
      .map((result) => result.overhead.toFixed(0))
      .join(', ');
    console.log(
      `${LABELS[variant].padEnd(width)}  ${`${figure.bare.toFixed(0)} µs`.padStart(9)}  ${`${figure.instrumented.toFixed(0)} µs`.padStart(12)}  ${`+${figure.overhead.toFixed(0)} µs`.padStart(9)}   (rounds: ${rounded})`,
    );
  }
  console.log(
    `${'decision() in hash mode, 1 KB input'.padEnd(width)}  ${`${decisionFigures.bare.toFixed(2)} µs`.padStart(9)}  ${`${decisionFigures.instrumented.toFixed(2)} µs`.padStart(12)}  ${`+${decisionFigures.overhead.toFixed(2)} µs`.padStart(9)}   (bare = the callback alone)`,
  );
  const ratio = figures.get('openai6-ours')!.overhead / figures.get('openai6-contrib')!.overhead;
  console.log(`\nours / contrib overhead on openai 6: ${ratio.toFixed(2)}×`);
}

await main();
