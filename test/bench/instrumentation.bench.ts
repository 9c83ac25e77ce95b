// CPU cost of recording AI calls as audit decisions.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/instrumentation.bench.ts [--rounds 3] [--pairs 6] [--calls 200]
//     [--decision-only] [--baseline <dir>] [--signing-baseline <dir>]
//
// One run measures, against the same OpenAI-compatible server running in its own process, every peer
// instrumentation on the openai major it supports and ours on the same major, each against that major bare:
//   - openai 6 (the one major all three peers support) with @opentelemetry/instrumentation-openai 0.22 (contrib),
//     @traceloop/instrumentation-openai 0.27 (OpenLLMetry, openai >=4 <7), @arizeai/openinference-instrumentation-
//     openai 4.2.7 (OpenInference, openai 5, 6 and 7) and ours;
//   - openai 7 with OpenInference and with ours (contrib and OpenLLMetry stop below 7: they would record nothing);
//   each with its defaults: contrib records no message content, OpenLLMetry and OpenInference record the prompt and
//   the answer as span attributes, ours records HMAC hashes of them (hash mode) and the audit attributes.
//   OpenLLMetry and OpenInference bring their own OpenTelemetry versions, so they live in test/bench/peers
//   (installed there on first use, outside the workspaces); the spans still go to the same SDK provider.
//   - decision() alone in hash mode;
//   - the record loss policy (#19): decision() now against decision() before the policy (--baseline: a directory
//     holding that version's packages/instrumentation/src, e.g.
//       git archive 244a6dc~1 packages/instrumentation/src | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
//     ), fail-closed (a DurableSpanProcessor's canAccept() before each decision) against fail-open, and the
//     DurableSpanProcessor's drop-and-count path on a full spool against a span processor that does nothing.
//   - decision accounting (#19 item 4): the decision counter alone (what DurableSpanProcessor.onEnd and
//     SigningSpanExporter.export run for every span) against a span processor that does nothing, and decision()
//     through a DurableSpanProcessor now against one before the counter (--signing-baseline: a directory holding
//     that version's packages/signing-exporter/src, e.g.
//       git archive edb87c2~1 packages/signing-exporter/src | tar -x -C /tmp/base-signing && \
//       ln -s $PWD/node_modules /tmp/base-signing/
//     ), both spooling for real (fsync none) and shipping to an exporter that discards.
//   - every other instrumented SDK (@google/genai, Bedrock Runtime, Mistral, MCP callTool, the Vercel AI SDK,
//     LangChain) against its own bare call: instrumentation-sdks.bench.ts, run last with its own servers.
//   --decision-only skips the openai children.
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
import { execFile, spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AiAuditInstrumentation, configureAudit, decision } from '@decisiontrail/instrumentation';
import type * as InstrumentationApi from '@decisiontrail/instrumentation';
import { generateSigningKey } from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { DecisionCounter } from '@decisiontrail/signing-exporter/internal';
import type * as SigningExporterApi from '@decisiontrail/signing-exporter';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';
import { runSdkOverheads } from './instrumentation-sdks.bench.ts';

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
    'decision-only': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    'signing-baseline': { type: 'string' },
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

type Variant =
  | 'openai6-contrib'
  | 'openai6-openllmetry'
  | 'openai6-openinference'
  | 'openai6-ours'
  | 'openai7-openinference'
  | 'openai7-ours';
const VARIANTS: Variant[] = [
  'openai6-contrib',
  'openai6-openllmetry',
  'openai6-openinference',
  'openai6-ours',
  'openai7-openinference',
  'openai7-ours',
];
const LABELS: Record<Variant, string> = {
  'openai6-contrib': 'openai 6.30.1 + @opentelemetry/instrumentation-openai 0.22.0',
  'openai6-openllmetry': 'openai 6.30.1 + @traceloop/instrumentation-openai 0.27.0',
  'openai6-openinference': 'openai 6.30.1 + @arizeai/openinference-instrumentation-openai 4.2.7',
  'openai6-ours': 'openai 6.30.1 + @decisiontrail/instrumentation (hash mode)',
  'openai7-openinference': 'openai 7.57.0 + @arizeai/openinference-instrumentation-openai 4.2.7',
  'openai7-ours': 'openai 7.57.0 + @decisiontrail/instrumentation (hash mode)',
};
/** Ours against each peer on the same openai major: [ours, peer]. */
const COMPARISONS: [Variant, Variant][] = [
  ['openai6-ours', 'openai6-contrib'],
  ['openai6-ours', 'openai6-openllmetry'],
  ['openai6-ours', 'openai6-openinference'],
  ['openai7-ours', 'openai7-openinference'],
];

/** The peers that bring their own OpenTelemetry versions, installed apart from the workspaces. */
const PEERS_DIR = resolve(import.meta.dirname, 'peers');
const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));

/** Installs test/bench/peers from its lock file when it is not installed yet. */
function ensurePeersInstalled(): void {
  if (existsSync(join(PEERS_DIR, 'node_modules', '@traceloop', 'instrumentation-openai'))) return;
  process.stderr.write('installing the peer instrumentations in test/bench/peers (npm ci)\n');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEERS_DIR, stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`npm ci in ${PEERS_DIR} failed (${result.status ?? result.signal})`);
}

/** The part of an instrumentation's module definition the bench drives by hand. */
interface ModulePatch {
  patch?: (moduleExports: unknown, moduleVersion?: string) => unknown;
  unpatch?: (moduleExports: unknown, moduleVersion?: string) => void;
}

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

/** A span processor that hands ended spans to whichever processor a bench selects (none by default). */
const SWITCHED_PROCESSOR = {
  target: undefined as { onEnd(span: ReadableSpan): void } | undefined,
  onStart: () => undefined,
  onEnd(span: ReadableSpan): void {
    this.target?.onEnd(span);
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

function installProvider(): { provider: TracerProvider; exporter: DiscardingExporter } {
  const exporter = new DiscardingExporter();
  const provider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter }), SWITCHED_PROCESSOR],
  });
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
  const openaiVersion = variant.startsWith('openai6') ? '6.30.1' : '7.57.0';
  const openaiModule = createRequire(import.meta.url)(
    variant.startsWith('openai6') ? 'openai6' : 'openai',
  ) as OpenAiModule;
  let patch: () => void;
  let unpatch: () => void;
  if (!variant.endsWith('-ours')) {
    // The openai 6 alias package is not named "openai" on disk, and no peer is loaded before the module it
    // patches, so each peer's own module patch is applied by hand (the one its require hook would apply).
    let definition: ModulePatch;
    if (variant === 'openai6-contrib') {
      const contrib = new OpenAIInstrumentation();
      contrib.setTracerProvider(provider);
      definition = contrib.getModuleDefinitions()[0]!;
    } else if (variant === 'openai6-openllmetry') {
      const { OpenAIInstrumentation: OpenLLMetry } = peerRequire('@traceloop/instrumentation-openai') as {
        OpenAIInstrumentation: new () => {
          setTracerProvider(provider: TracerProvider): void;
          getModuleDefinitions(): ModulePatch[];
        };
      };
      const openllmetry = new OpenLLMetry();
      openllmetry.setTracerProvider(provider);
      definition = openllmetry.getModuleDefinitions()[0]!;
    } else {
      const { OpenAIInstrumentation: OpenInference } = peerRequire(
        '@arizeai/openinference-instrumentation-openai',
      ) as {
        OpenAIInstrumentation: new (options: { tracerProvider: TracerProvider }) => Required<ModulePatch>;
      };
      // OpenInference builds its tracer from the provider given to its constructor. Its InstrumentationBase
      // (@opentelemetry/instrumentation 0.46) has no getModuleDefinitions(): its own patch and unpatch are public.
      const openinference = new OpenInference({ tracerProvider: provider });
      definition = {
        patch: (moduleExports, moduleVersion) => openinference.patch(moduleExports, moduleVersion),
        unpatch: (moduleExports, moduleVersion) => openinference.unpatch(moduleExports, moduleVersion),
      };
    }
    patch = () => void definition.patch!(openaiModule, openaiVersion);
    unpatch = () => definition.unpatch!(openaiModule, openaiVersion);
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
  // A peer that recorded nothing would show as free: every instrumented call must have left a span.
  const expected = (PAIRS + 1) * CALLS;
  if (exporter.exported !== expected) {
    throw new Error(`${variant}: ${exporter.exported} spans for ${expected} instrumented calls`);
  }
  const line: PairedResult = { ...result, spans: exporter.exported };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  await provider.shutdown();
}

type Tracing = ReturnType<typeof installProvider>;

/** Installs the provider both in-process benches share: the global provider can be set only once per process. */
async function runDecisionBenches(): Promise<{
  decision: PairedResult;
  recordLoss: { label: string; result: PairedResult; note: string }[];
}> {
  const tracing = installProvider();
  try {
    return { decision: await runDecisionBench(tracing), recordLoss: await runRecordLossBench(tracing) };
  } finally {
    await tracing.provider.shutdown();
  }
}

async function runDecisionBench({ provider, exporter }: Tracing): Promise<PairedResult> {
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
  if (sink === 0) throw new Error('unreachable');
  return { ...result, spans };
}

type InstrumentationModule = typeof InstrumentationApi;

/** The record loss policy's cost on decision(), each as a paired bare/instrumented comparison in this process. */
async function runRecordLossBench({
  provider,
  exporter,
}: Tracing): Promise<{ label: string; result: PairedResult; note: string }[]> {
  const lines: { label: string; result: PairedResult; note: string }[] = [];
  let sink = 0;
  const body = () => (sink += PROMPT.length);
  const decide = (api: Pick<InstrumentationModule, 'decision'>) =>
    api.decision({ modelId: 'credit-v1', version: '1.0.0', input: PROMPT }, (handle) => {
      handle.setOutcome('approve');
      handle.setConfidence(0.9);
      return body();
    });
  const spansBefore = () => exporter.exported;

  if (args.baseline !== undefined) {
    // The same source before the policy, loaded as a second module instance over the same OTel API and provider.
    const before = (await import(
      pathToFileURL(resolve(args.baseline, 'packages/instrumentation/src/index.ts')).href
    )) as InstrumentationModule;
    before.configureAudit({ hmacKey: HMAC_KEY });
    configureAudit({ hmacKey: HMAC_KEY });
    let now = false;
    const start = spansBefore();
    const result = await paired(
      () => (now ? decide({ decision }) : decide(before)),
      () => (now = true),
      () => (now = false),
      20_000,
      PAIRS,
    );
    await provider.forceFlush();
    lines.push({
      label: 'decision() now, fail-open (default)',
      result: { ...result, spans: spansBefore() - start },
      note: 'bare = decision() before the policy',
    });
  }

  const dir = mkdtempSync(join(tmpdir(), 'dt-bench-spool-'));
  try {
    const admission = new DurableSpanProcessor({
      exporter: new DiscardingExporter(),
      key: generateSigningKey(),
      spoolDir: join(dir, 'admission'),
      witness: null,
    });
    const start = spansBefore();
    const closed = await paired(
      () => decide({ decision }),
      () =>
        configureAudit({ hmacKey: HMAC_KEY, recordLossPolicy: 'fail-closed', recordAdmission: admission }),
      () => configureAudit({ hmacKey: HMAC_KEY }),
      20_000,
      PAIRS,
    );
    await provider.forceFlush();
    lines.push({
      label: 'decision() fail-closed, admitted',
      result: { ...closed, spans: spansBefore() - start },
      note: 'bare = fail-open; the difference is canAccept()',
    });
    await admission.shutdown();

    // A spool that can keep nothing: every audit span takes the drop-and-count path.
    const full = new DurableSpanProcessor({
      exporter: new DiscardingExporter(),
      key: generateSigningKey(),
      spoolDir: join(dir, 'full'),
      witness: null,
      maxSpoolBytes: 1,
    });
    let ended: ReadableSpan | undefined;
    const probe = new TracerProvider({
      spanProcessors: [{ ...IDLE_PROCESSOR, onEnd: (span: ReadableSpan) => void (ended = span) }],
    });
    probe
      .getTracer('bench')
      .startSpan('audit.decision credit-v1', { attributes: { 'audit.record.type': 'decision', pad: PROMPT } })
      .end();
    const span = ended!;
    let target: { onEnd(span: ReadableSpan): void } = IDLE_PROCESSOR;
    const drop = await paired(
      () => target.onEnd(span),
      () => (target = full),
      () => (target = IDLE_PROCESSOR),
      200_000,
      PAIRS,
    );
    lines.push({
      label: 'DurableSpanProcessor.onEnd, full spool',
      result: { ...drop, spans: full.stats.droppedAuditSpans },
      note: 'bare = a span processor that does nothing',
    });
    await full.shutdown();

    // The accounting path alone: the counter every decision span passes through in the signer.
    const counter = new DecisionCounter();
    const counting = { ...IDLE_PROCESSOR, onEnd: (ended: ReadableSpan) => counter.observe(ended) };
    const count = await paired(
      () => target.onEnd(span),
      () => (target = counting),
      () => (target = IDLE_PROCESSOR),
      200_000,
      PAIRS,
    );
    lines.push({
      label: 'decision counter (per decision span)',
      result: { ...count, spans: counter.totals().reduce((a, t) => a + t.decisions, 0) },
      note: 'bare = a span processor that does nothing',
    });
    await probe.shutdown();

    if (args['signing-baseline'] !== undefined) {
      // decision() with a DurableSpanProcessor behind it, now against the same processor before the counter.
      const before = (await import(
        pathToFileURL(resolve(args['signing-baseline'], 'packages/signing-exporter/src/index.ts')).href
      )) as typeof SigningExporterApi;
      const spooling = (Processor: typeof DurableSpanProcessor, name: string) =>
        new Processor({
          exporter: new DiscardingExporter(),
          key: generateSigningKey(),
          spoolDir: join(dir, name),
          witness: null,
          fsync: 'none',
        });
      const now = spooling(DurableSpanProcessor, 'counted');
      const then = spooling(before.DurableSpanProcessor, 'uncounted');
      configureAudit({ hmacKey: HMAC_KEY });
      const start = spansBefore();
      const result = await paired(
        () => decide({ decision }),
        () => (SWITCHED_PROCESSOR.target = now),
        () => (SWITCHED_PROCESSOR.target = then),
        20_000,
        PAIRS,
      );
      SWITCHED_PROCESSOR.target = undefined;
      await provider.forceFlush();
      lines.push({
        label: 'decision() through a DurableSpanProcessor',
        result: { ...result, spans: spansBefore() - start },
        note: 'bare = the processor before the decision counter',
      });
      // The same comparison between two instances of the processor before the counter: how far apart two
      // spooling processors come out with nothing different between them (disk writes, shipping, load).
      const control = spooling(before.DurableSpanProcessor, 'control');
      const startControl = spansBefore();
      const same = await paired(
        () => decide({ decision }),
        () => (SWITCHED_PROCESSOR.target = control),
        () => (SWITCHED_PROCESSOR.target = then),
        20_000,
        PAIRS,
      );
      SWITCHED_PROCESSOR.target = undefined;
      await provider.forceFlush();
      lines.push({
        label: 'decision() through a DurableSpanProcessor, control',
        result: { ...same, spans: spansBefore() - startControl },
        note: 'both sides the processor before the counter: the noise',
      });
      await now.shutdown();
      await then.shutdown();
      await control.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (sink === 0) throw new Error('unreachable');
  return lines;
}

/** The 1, 5 and 15 minute load averages, as printed beside the figures. */
function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

/** A span processor that does nothing. */
const IDLE_PROCESSOR = {
  onStart: () => undefined,
  onEnd: (_span: ReadableSpan) => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

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
  if (args['decision-only']) {
    const figures = await runDecisionBenches();
    printDecisionFigures(figures.decision, figures.recordLoss, 40);
    return;
  }
  ensurePeersInstalled();
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  // Rounds interleave the children, so a change in machine load during the run spreads over all of them.
  const loadBefore = loadAverage();
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
  const inProcess = await runDecisionBenches();

  console.log(
    `\nCPU per call, client process, ${ROUNDS} rounds × ${PAIRS} bare/instrumented batch pairs of ${CALLS} calls, 1 KB prompt, node ${process.version}, load average ${loadBefore} before, ${loadAverage()} after\n`,
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
      `${LABELS[variant].padEnd(width)}  ${`${figure.bare.toFixed(0)} µs`.padStart(9)}  ${`${figure.instrumented.toFixed(0)} µs`.padStart(12)}  ${`${figure.overhead < 0 ? '' : '+'}${figure.overhead.toFixed(0)} µs`.padStart(9)}   (rounds: ${rounded})`,
    );
  }
  printDecisionFigures(inProcess.decision, inProcess.recordLoss, width);
  console.log('');
  for (const [ours, peer] of COMPARISONS) {
    const theirs = figures.get(peer)!.overhead;
    // A ratio to an overhead lost in the noise (zero or below) says nothing.
    const ratio = theirs > 0 ? `${(figures.get(ours)!.overhead / theirs).toFixed(2)}×` : 'n/a';
    console.log(`ours / ${LABELS[peer].split(' + ')[1]} overhead on openai ${peer.slice(6, 7)}: ${ratio}`);
  }
  // Every other instrumented SDK against its own bare call (#22): servers and children of its own.
  await runSdkOverheads({ rounds: ROUNDS, pairs: PAIRS, calls: Math.min(CALLS, 100) });
}

function printDecisionFigures(
  decisionFigures: PairedResult,
  recordLoss: { label: string; result: PairedResult; note: string }[],
  width: number,
): void {
  console.log(
    `\nCPU per call, in process, ${PAIRS} bare/instrumented batch pairs, node ${process.version}, load average ${loadAverage()}\n`,
  );
  const lines = [
    {
      label: 'decision() in hash mode, 1 KB input',
      result: decisionFigures,
      note: 'bare = the callback alone',
    },
    ...recordLoss,
  ];
  const labelWidth = Math.max(width, ...lines.map((line) => line.label.length));
  for (const { label, result, note } of lines) {
    const sign = result.overhead < 0 ? '' : '+';
    console.log(
      `${label.padEnd(labelWidth)}  ${`${result.bare.toFixed(2)} µs`.padStart(9)}  ${`${result.instrumented.toFixed(2)} µs`.padStart(12)}  ${`${sign}${result.overhead.toFixed(2)} µs`.padStart(9)}   (${note}; ${result.spans} spans)`,
    );
  }
}

await main();
