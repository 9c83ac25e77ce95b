// CPU cost of recording AI calls as audit decisions.
//
//   npm run bench:instrumentation -- [--rounds 3] [--blocks 20] [--calls 50] [--pairs 6] [--peers-only] [--raw <file>]
//     [--transport http|memory]
//     [--decision-only] [--baseline <dir>] [--signing-baseline <dir>] [--breakdown [--parts]] [--floor]
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
//   The instrumentations of one major take turns in one child process (paired-cpu.ts: in each of --blocks blocks,
//   every instrumentation runs a bare and an instrumented batch of --calls calls; the order rotates from block to
//   block), so ours and a peer are compared block by block, measured seconds apart under the same load; children of
//   both majors run in --rounds interleaved rounds. Every batch is checked for its spans (none bare, one per call
//   from the instrumentation's scope instrumented, ours with the audit attributes): a peer recording nothing fails
//   the run. --peers-only stops after this comparison; --raw <file> writes every batch's figures there as JSON.
//   --breakdown (alone) times the parts of our openai path one by one, answered from memory, OpenLLMetry beside;
//   with --parts also the bare span plus one piece of our work at a time (the input and output serialised, the
//   same serialised and HMAC-ed, the request described and the response read, a decision id). With --trees
//   <dir>,<dir>,… instead: ours as installed from each of those source trees, and OpenLLMetry, nothing else. Every
//   tree is loaded from outside the workspace, so no arm shares code with another, as in the --peers-only child: with
//   --baseline, ours from the workspace shares GenAiDecision with the breakdown's other arms and measured 0.89×
//   (90 % 0.71–0.99; main thread 0.91×) an identical copy given as the baseline, an A/A bias in its favour.
//   --floor (alone) times, in one process and a tight loop, what a span costs the SDK with no attributes, with the
//   11 attributes OpenLLMetry records and with the 27 of one of our decisions, and our decision's start and end
//   (GenAiDecision, capture none and hash): CPU and bytes allocated per decision, without any SDK call between.
//   --transport memory gives the openai client a fetch that replays the server's answer to one real request from
//   memory: the same SDK and instrumentation code without socket work, far less noise on a loaded machine.
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
//     ), both spooling for real (fsync none) and shipping to an exporter that discards. These in-process benches
//     alternate --pairs bare/instrumented batch pairs of their own sizes.
//   - every other instrumented SDK (@google/genai, Bedrock Runtime, Mistral, MCP callTool, the Vercel AI SDK,
//     LangChain, anthropic, openai) against its own bare call: instrumentation-sdks.bench.ts, run last with its own
//     servers, the same way (--rounds, --blocks, --calls).
//   --decision-only skips the openai children and the SDKs.
// CPU per call = process.cpuUsage() (user + system) of the client process over a batch / calls; the main thread's
// own CPU (process.threadCpuUsage()) is printed beside it. Spans go through a BatchSpanProcessor, flushed at the end
// of every batch, to an exporter that discards them, so span processing is in the figures but no I/O is.
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { BatchSpanProcessor, type ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AiAuditInstrumentation, configureAudit, decision } from '@decisiontrail/instrumentation';
import type * as InstrumentationApi from '@decisiontrail/instrumentation';
import { generateSigningKey } from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { DecisionCounter } from '@decisiontrail/signing-exporter/internal';
import {
  auditTextBytes,
  chatCompletionsSpec,
  GenAiDecision,
  resolveAuditSettings,
  uuidv7,
} from '@decisiontrail/instrumentation/internal';
import type * as SigningExporterApi from '@decisiontrail/signing-exporter';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';
import { runSdkOverheads } from './instrumentation-sdks.bench.ts';
import {
  type Arm,
  type ArmPairs,
  blockRatios,
  type CpuSample,
  DiscardingExporter,
  formatSpread,
  loadAverage,
  median,
  overheads,
  paired,
  type PairedResult,
  ratioOfMedians,
  runArms,
  spread,
} from './paired-cpu.ts';

const run = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
const { values: args } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    group: { type: 'string' },
    url: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    blocks: { type: 'string', default: '20' },
    calls: { type: 'string', default: '50' },
    pairs: { type: 'string', default: '6' },
    'peers-only': { type: 'boolean', default: false },
    breakdown: { type: 'boolean', default: false },
    parts: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    raw: { type: 'string' },
    transport: { type: 'string', default: 'http' },
    'decision-only': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    trees: { type: 'string' },
    'signing-baseline': { type: 'string' },
  },
});
if (args.transport !== 'http' && args.transport !== 'memory') {
  throw new Error(`--transport must be http or memory, not ${args.transport}`);
}
const ROUNDS = Number(args.rounds);
const BLOCKS = Number(args.blocks);
const CALLS = Number(args.calls);
const PAIRS = Number(args.pairs);
const PROMPT =
  `Assess this support ticket and decide whether to escalate it. ${'Details of the customer issue. '.repeat(40)}`.slice(
    0,
    1024,
  );
const HMAC_KEY = 'benchmark-hmac-key';

/** The openai majors measured, each in children of its own: the instrumentations that support it, and ours. */
type Group = 'openai6' | 'openai7';
const GROUPS: Record<Group, { version: string; module: string; arms: ArmName[] }> = {
  // openai 6 is the one major all three peers support.
  openai6: {
    version: '6.30.1',
    module: 'openai6',
    arms: ['contrib', 'openllmetry', 'openinference', 'ours'],
  },
  // Contrib and OpenLLMetry stop below 7 (they would record nothing there).
  openai7: { version: '7.57.0', module: 'openai', arms: ['openinference', 'ours'] },
};
type ArmName = 'contrib' | 'openllmetry' | 'openinference' | 'ours';
const LABELS: Record<ArmName, string> = {
  contrib: '@opentelemetry/instrumentation-openai 0.22.0 (contrib)',
  openllmetry: '@traceloop/instrumentation-openai 0.27.0 (OpenLLMetry)',
  openinference: '@arizeai/openinference-instrumentation-openai 4.2.7 (OpenInference)',
  ours: '@decisiontrail/instrumentation (hash mode, audit attributes)',
};
/** The instrumentation scope each one's spans carry. */
const SCOPES: Record<ArmName, string> = {
  contrib: '@opentelemetry/instrumentation-openai',
  openllmetry: '@traceloop/instrumentation-openai',
  openinference: '@arizeai/openinference-instrumentation-openai',
  ours: '@decisiontrail/instrumentation',
};

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

interface OpenAiModule {
  OpenAI: new (options: object) => { chat: { completions: { create(params: object): Promise<unknown> } } };
}

/** Patch and unpatch of one instrumentation on the given openai module. */
function instrumentationOf(
  name: ArmName,
  provider: TracerProvider,
  openaiModule: OpenAiModule,
  version: string,
): { patch: () => void; unpatch: () => void } {
  if (name === 'ours') {
    configureAudit({ hmacKey: HMAC_KEY });
    const ours = new AiAuditInstrumentation({ hmacKey: HMAC_KEY });
    ours.setTracerProvider(provider);
    ours.disable();
    return {
      patch: () => {
        ours.enable();
        ours.manuallyInstrument(openaiModule, 'openai');
      },
      unpatch: () => ours.disable(),
    };
  }
  // The openai 6 alias package is not named "openai" on disk, and no peer is loaded before the module it patches,
  // so each peer's own module patch is applied by hand (the one its require hook would apply).
  let definition: ModulePatch;
  if (name === 'contrib') {
    const contrib = new OpenAIInstrumentation();
    contrib.setTracerProvider(provider);
    definition = contrib.getModuleDefinitions()[0]!;
  } else if (name === 'openllmetry') {
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
  return {
    patch: () => void definition.patch!(openaiModule, version),
    unpatch: () => definition.unpatch!(openaiModule, version),
  };
}

/**
 * A `fetch` that answers every request from memory with the status, headers and body the server gave to one real
 * request over HTTP: the SDK and the instrumentations run exactly as over the network, without the socket work and
 * the server's scheduling, which on a loaded machine are most of the noise.
 */
async function replayingFetch(url: string, params: object): Promise<typeof fetch> {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify(params),
  });
  if (!response.ok) throw new Error(`the server answered ${response.status} to the request to replay`);
  const body = await response.text();
  const headers = [...response.headers];
  return () => Promise.resolve(new Response(body, { status: 200, headers }));
}

/** The arms of --breakdown: the parts of our openai path one by one, and OpenLLMetry beside them. */
const BREAKDOWN: Record<string, string> = {
  span: 'a span, the SDK call in its context, ended from a then (what every wrapper does)',
  attributes: 'the same span carrying all the attributes of one of our decisions, made beforehand',
  decision: 'GenAiDecision start and end, capture none (our attributes, computed)',
  hashed: 'GenAiDecision start and end, hash mode (+ input and output serialised and HMAC-ed)',
  ours: '@decisiontrail/instrumentation (hash mode), as installed',
  openllmetry: '@traceloop/instrumentation-openai 0.27.0, for reference',
};
// With --baseline <dir>: ours as installed from an earlier source tree, beside the current one in the same blocks.
// With --parts: the span of the first arm plus one piece of our work at a time, at the start and end of the call.
if ((args.breakdown || args.group === 'breakdown') && args.trees !== undefined) {
  for (const name of Object.keys(BREAKDOWN)) if (name !== 'openllmetry') delete BREAKDOWN[name];
  const openllmetry = BREAKDOWN['openllmetry']!;
  delete BREAKDOWN['openllmetry'];
  args.trees
    .split(',')
    .forEach((dir, index) => (BREAKDOWN[`tree${index}`] = `ours as installed, from ${dir}`));
  BREAKDOWN['openllmetry'] = openllmetry;
} else if (args.breakdown || args.group === 'breakdown') {
  if (args.baseline !== undefined) BREAKDOWN['before'] = `ours as installed, from ${args.baseline}`;
  if (args.parts) {
    BREAKDOWN['serialised'] =
      'the span + the input and output serialised (auditTextBytes, as hash mode does)';
    BREAKDOWN['hmacs'] = 'the span + the input and output serialised and HMAC-ed (two HMAC-SHA-256)';
    BREAKDOWN['described'] =
      'the span + the request described and the response read (describe, fromResponse)';
    BREAKDOWN['id'] = 'the span + a decision id (uuidv7)';
  }
}
const BREAKDOWN_SCOPE = 'decisiontrail-bench-breakdown';

/** One --breakdown child: openai 6 answered from memory, each part of our path as an arm against the bare call. */
async function runBreakdownChild(url: string): Promise<void> {
  const { provider, exporter } = installProvider();
  const openaiModule = createRequire(import.meta.url)('openai6') as OpenAiModule & {
    OpenAI: { Chat: { Completions: { prototype: { create: (...args: unknown[]) => unknown } } } };
  };
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] };
  const client = new openaiModule.OpenAI({
    baseURL: url,
    apiKey: 'bench',
    maxRetries: 0,
    fetch: await replayingFetch(url, params),
  });
  const call = () => client.chat.completions.create(params);
  const prototype = openaiModule.OpenAI.Chat.Completions.prototype;
  const original = prototype.create;
  const tracer = provider.getTracer(BREAKDOWN_SCOPE);
  const hashed = resolveAuditSettings({ hmacKey: HMAC_KEY });
  const uncaptured = resolveAuditSettings({ hmacKey: HMAC_KEY, captureInput: 'none', captureOutput: 'none' });

  // The attributes of one real decision on this call, split into what is known at its start and at its end.
  let recorded: ReadableSpan | undefined;
  const probe = new TracerProvider({
    spanProcessors: [{ ...IDLE_PROCESSOR, onEnd: (span: ReadableSpan) => void (recorded = span) }],
  });
  const answer = (await (await replayingFetch(url, params))(url)).json() as Promise<object>;
  const probeCall = GenAiDecision.start(
    probe.getTracer('probe'),
    hashed,
    chatCompletionsSpec.describe(params, url),
  );
  probeCall.end(chatCompletionsSpec.fromResponse((await answer) as never));
  const endKeys =
    /^(gen_ai\.response|gen_ai\.usage|gen_ai\.output|audit\.output|audit\.decision\.(outcome|confidence)|audit\.model\.version)/;
  const all = Object.entries(recorded!.attributes);
  const startAttributes = Object.fromEntries(all.filter(([key]) => !endKeys.test(key)));
  const endAttributes = Object.fromEntries(all.filter(([key]) => endKeys.test(key)));

  const wrappers: Record<
    string,
    (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown
  > = {
    span: (create) =>
      function (this: unknown, ...callArgs: unknown[]) {
        const span = tracer.startSpan('chat gpt-4o-mini');
        const returned = context.with(trace.setSpan(context.active(), span), () =>
          create.apply(this, callArgs),
        ) as Promise<unknown>;
        returned.then(
          () => span.end(),
          () => span.end(),
        );
        return returned;
      },
    attributes: (create) =>
      function (this: unknown, ...callArgs: unknown[]) {
        const span = tracer.startSpan('chat gpt-4o-mini', { attributes: { ...startAttributes } });
        const returned = context.with(trace.setSpan(context.active(), span), () =>
          create.apply(this, callArgs),
        ) as Promise<unknown>;
        returned.then(
          () => {
            span.setAttributes({ ...endAttributes });
            span.end();
          },
          () => span.end(),
        );
        return returned;
      },
  };
  const decisionWrapper = (settings: typeof hashed) => (create: (...args: unknown[]) => unknown) =>
    function (this: unknown, ...callArgs: unknown[]) {
      const decision = GenAiDecision.start(
        tracer,
        settings,
        chatCompletionsSpec.describe(callArgs[0] as never, url),
      );
      const returned = context.with(decision.context, () => create.apply(this, callArgs)) as Promise<unknown>;
      returned.then(
        (value) => decision.end(chatCompletionsSpec.fromResponse(value as never)),
        (error: unknown) => decision.fail(error),
      );
      return returned;
    };
  wrappers['decision'] = decisionWrapper(uncaptured);
  wrappers['hashed'] = decisionWrapper(hashed);
  // --parts: the span arm with one piece of our work at the start of the call and one at its end.
  const spanWith =
    (atStart: () => unknown, atEnd: (value: unknown) => unknown) =>
    (create: (...args: unknown[]) => unknown) =>
      function (this: unknown, ...callArgs: unknown[]) {
        const span = tracer.startSpan('chat gpt-4o-mini');
        atStart();
        const returned = context.with(trace.setSpan(context.active(), span), () =>
          create.apply(this, callArgs),
        ) as Promise<unknown>;
        returned.then(
          (value) => {
            atEnd(value);
            span.end();
          },
          () => span.end(),
        );
        return returned;
      };
  const hasher = hashed.hasher!;
  const output = chatCompletionsSpec.fromResponse((await answer) as never).output;
  wrappers['serialised'] = spanWith(
    () => auditTextBytes(params.messages),
    () => auditTextBytes(output),
  );
  wrappers['hmacs'] = spanWith(
    () => hasher.digest(auditTextBytes(params.messages)),
    () => hasher.digest(auditTextBytes(output)),
  );
  wrappers['described'] = spanWith(
    () => chatCompletionsSpec.describe(params, url),
    (value) => chatCompletionsSpec.fromResponse(value as never),
  );
  wrappers['id'] = spanWith(
    () => uuidv7(),
    () => undefined,
  );

  const before =
    args.baseline === undefined
      ? undefined
      : ((await import(
          pathToFileURL(resolve(args.baseline, 'packages/instrumentation/src/index.ts')).href
        )) as { AiAuditInstrumentation: typeof AiAuditInstrumentation });
  const trees = await Promise.all(
    (args.trees?.split(',') ?? []).map(
      async (dir) =>
        (await import(pathToFileURL(resolve(dir, 'packages/instrumentation/src/index.ts')).href)) as {
          AiAuditInstrumentation: typeof AiAuditInstrumentation;
        },
    ),
  );
  const arms: Arm[] = Object.keys(BREAKDOWN).map((name) => {
    const tree = name.startsWith('tree') ? trees[Number(name.slice(4))] : undefined;
    if ((name === 'before' && before) || tree) {
      const earlier = new (tree ?? before)!.AiAuditInstrumentation({ hmacKey: HMAC_KEY });
      earlier.setTracerProvider(provider);
      earlier.disable();
      return {
        name,
        bare: call,
        patch: () => {
          earlier.enable();
          earlier.manuallyInstrument(openaiModule, 'openai');
        },
        unpatch: () => earlier.disable(),
        scope: SCOPES.ours,
        audited: true,
      };
    }
    if (name === 'ours' || name === 'openllmetry') {
      return {
        name,
        bare: call,
        ...instrumentationOf(name, provider, openaiModule, '6.30.1'),
        scope: SCOPES[name],
        audited: name === 'ours',
      };
    }
    const wrapped = wrappers[name]!(original);
    return {
      name,
      bare: call,
      patch: () => void (prototype.create = wrapped),
      unpatch: () => void (prototype.create = original),
      scope: BREAKDOWN_SCOPE,
    };
  });
  const results = await runArms(arms, {
    blocks: BLOCKS,
    calls: CALLS,
    exporter,
    flush: () => provider.forceFlush(),
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
  await probe.shutdown();
  await provider.shutdown();
}

/** --breakdown: where our overhead on an openai call goes, the parts against each other in the same blocks. */
async function runBreakdown(): Promise<void> {
  ensurePeersInstalled();
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  const loadBefore = loadAverage();
  const children: ArmPairs[][] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { stdout } = await run(
        process.execPath,
        [
          '--conditions=@decisiontrail/source',
          '--expose-gc',
          thisFile,
          ...['--group', 'breakdown', '--url', url, '--blocks', String(BLOCKS), '--calls', String(CALLS)],
          ...(args.baseline === undefined ? [] : ['--baseline', args.baseline]),
          ...(args.trees === undefined ? [] : ['--trees', args.trees]),
          ...(args.parts ? ['--parts'] : []),
        ],
        { maxBuffer: 1 << 24 },
      );
      children.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as ArmPairs[]);
    }
  } finally {
    server.stdin.end();
  }
  console.log(
    `\nWhere our overhead goes: openai 6.30.1 chat.completions.create with a 1 KB prompt answered from memory; ${ROUNDS} children × ${BLOCKS} blocks × ${CALLS} calls per batch; CPU per call over the bare call, median [p25–p75]; node ${process.version}; load average ${loadBefore} before, ${loadAverage()} after\n`,
  );
  const width = Math.max(...Object.values(BREAKDOWN).map((label) => label.length));
  console.log(`${''.padEnd(width)}  ${'process'.padStart(20)}  ${'main thread only'.padStart(20)}`);
  const of = (name: string) => children.map((child) => child.find((arm) => arm.name === name)!);
  for (const [name, label] of Object.entries(BREAKDOWN)) {
    const pairs = of(name);
    console.log(
      `${label.padEnd(width)}  ${formatSpread(spread(overheads(pairs, 'process')), 0, ' µs').padStart(20)}  ${formatSpread(spread(overheads(pairs, 'thread')), 0, ' µs').padStart(20)}`,
    );
  }
  // Ours against the other arms measured in the same blocks: the earlier tree (--baseline) and OpenLLMetry; with
  // --trees, every tree after the first against the first, and every tree against OpenLLMetry.
  const treeNames = Object.keys(BREAKDOWN).filter((name) => name.startsWith('tree'));
  const comparisons: [string, string][] =
    treeNames.length > 0
      ? [
          ...treeNames.slice(1).map((name): [string, string] => [name, 'tree0']),
          ...treeNames.map((name): [string, string] => [name, 'openllmetry']),
        ]
      : ['before', 'openllmetry'].filter((name) => name in BREAKDOWN).map((name) => ['ours', name]);
  for (const [arm, other] of comparisons) {
    for (const measure of ['process', 'thread'] as const) {
      const { ratio, low, high } = ratioOfMedians(of(arm), of(other), measure);
      const { oursNotAbove, blocks } = blockRatios(of(arm), of(other), measure);
      console.log(
        `${arm} / ${other} (${measure === 'process' ? 'process' : 'main thread'}): of the medians ${ratio.toFixed(2)}× (90 % ${low.toFixed(2)}–${high.toFixed(2)}); ${arm} ≤ ${other} in ${oursNotAbove}/${blocks} blocks`,
      );
    }
  }
}

/**
 * --floor: the SDK's cost of a span by the attributes it carries, and our decision's start and end, in a tight loop
 * in this process (main thread CPU, the median of 5 rounds of --calls × 1,000 decisions) with the bytes allocated
 * per decision (V8's sampling heap profiler, collected objects included). No SDK call runs in between, so caches
 * stay warm: between real calls everything costs two to four times this.
 */
async function runFloor(): Promise<void> {
  const { provider, exporter } = installProvider();
  const tracer = provider.getTracer(BREAKDOWN_SCOPE);
  const url = 'http://127.0.0.1:4000/v1';
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] };
  const answer = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2026-01-01',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'The application meets the published lending criteria.' },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 200, completion_tokens: 9, total_tokens: 209 },
  };
  const hashed = resolveAuditSettings({ hmacKey: HMAC_KEY });
  const uncaptured = resolveAuditSettings({ hmacKey: HMAC_KEY, captureInput: 'none', captureOutput: 'none' });
  const decide = (settings: typeof hashed) => () =>
    GenAiDecision.start(tracer, settings, chatCompletionsSpec.describe(params, url)).end(
      chatCompletionsSpec.fromResponse(answer),
    );
  // The attributes of one of our decisions, split as our start and end set them.
  let recorded: ReadableSpan | undefined;
  const probe = new TracerProvider({
    spanProcessors: [{ ...IDLE_PROCESSOR, onEnd: (span: ReadableSpan) => void (recorded = span) }],
  });
  GenAiDecision.start(probe.getTracer('probe'), hashed, chatCompletionsSpec.describe(params, url)).end(
    chatCompletionsSpec.fromResponse(answer),
  );
  const endKeys =
    /^(gen_ai\.response|gen_ai\.usage|gen_ai\.output|audit\.output|audit\.decision\.(outcome|confidence)|audit\.model\.version)/;
  const sampling =
    /^(gen_ai\.(operation|provider)\.name|gen_ai\.request\.model|server\.|audit\.record\.type)/;
  const all = Object.entries(recorded!.attributes);
  const startAttributes = Object.fromEntries(all.filter(([key]) => sampling.test(key)));
  const restAttributes = Object.fromEntries(all.filter(([key]) => !sampling.test(key) && !endKeys.test(key)));
  const endAttributes = Object.entries(Object.fromEntries(all.filter(([key]) => endKeys.test(key))));
  // What OpenLLMetry 0.27 records on the same call: 4 attributes at the start, 7 at the end, one by one.
  const theirStart = {
    'gen_ai.provider.name': 'openai',
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.input.messages': JSON.stringify(params.messages),
  };
  const theirEnd = Object.entries({
    'gen_ai.response.model': answer.model,
    'gen_ai.response.id': answer.id,
    'gen_ai.usage.total_tokens': 209,
    'gen_ai.usage.output_tokens': 9,
    'gen_ai.usage.input_tokens': 200,
    'gen_ai.output.messages': JSON.stringify([answer.choices[0]!.message]),
  });
  const loops: [string, () => void][] = [
    ['a span, no attributes', () => tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT }).end()],
    [
      "a span with OpenLLMetry's 11 attributes, made beforehand",
      () => {
        const span = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: theirStart });
        for (const [key, value] of theirEnd) span.setAttribute(key, value);
        span.setAttribute('gen_ai.response.finish_reasons', ['stop']);
        span.end();
      },
    ],
    [
      `a span with our ${all.length} attributes, made beforehand`,
      () => {
        const span = tracer.startSpan('chat gpt-4o-mini', {
          kind: SpanKind.CLIENT,
          attributes: startAttributes,
        });
        span.setAttributes(restAttributes);
        const end: Attributes = {};
        for (const [key, value] of endAttributes) end[key] = Array.isArray(value) ? [...value] : value;
        span.setAttributes(end);
        span.end();
      },
    ],
    ['GenAiDecision start and end, capture none', decide(uncaptured)],
    ['GenAiDecision start and end, hash mode', decide(hashed)],
  ];
  const session = new Session();
  session.connect();
  const perLoop = CALLS * 1_000;
  console.log(
    `\nTight loop, one process, ${perLoop} decisions per round, 5 rounds; main thread CPU per decision (median [min–max]) and bytes allocated; node ${process.version}; load average ${loadAverage()} before`,
  );
  for (const [label, loop] of loops) {
    for (let i = 0; i < 20_000; i++) loop();
    await provider.forceFlush();
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const start = process.threadCpuUsage();
      for (let i = 0; i < perLoop; i++) loop();
      await provider.forceFlush();
      const used = process.threadCpuUsage(start);
      rounds.push((used.user + used.system) / perLoop);
    }
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
    for (let i = 0; i < 20_000; i++) loop();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
      profile: { samples: { size: number }[] };
    };
    const bytes = profile.samples.reduce((sum, sample) => sum + sample.size, 0) / 20_000;
    console.log(
      `${label.padEnd(60)} ${median(rounds).toFixed(2).padStart(6)} µs [${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}]  ${(bytes / 1024).toFixed(1).padStart(5)} KB`,
    );
  }
  session.disconnect();
  console.log(`load average ${loadAverage()} after; ${exporter.exported} spans exported`);
  await probe.shutdown();
  await provider.shutdown();
}

/** One child: every instrumentation of the group in rotating turns, each paired with the call bare. */
async function runGroup(group: Group, url: string): Promise<void> {
  const { provider, exporter } = installProvider();
  const { version, module, arms: names } = GROUPS[group];
  const openaiModule = createRequire(import.meta.url)(module) as OpenAiModule;
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] };
  const client = new openaiModule.OpenAI({
    baseURL: url,
    apiKey: 'bench',
    maxRetries: 0,
    ...(args.transport === 'memory' ? { fetch: await replayingFetch(url, params) } : {}),
  });
  const call = () => client.chat.completions.create(params);
  const arms: Arm[] = names.map((name) => ({
    name,
    bare: call,
    ...instrumentationOf(name, provider, openaiModule, version),
    scope: SCOPES[name],
    audited: name === 'ours',
  }));
  const results = await runArms(arms, {
    blocks: BLOCKS,
    calls: CALLS,
    exporter,
    flush: () => provider.forceFlush(),
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
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
  if (args.group === 'breakdown') {
    await runBreakdownChild(args.url!);
    return;
  }
  if (args.group) {
    await runGroup(args.group as Group, args.url!);
    return;
  }
  if (args.breakdown) {
    await runBreakdown();
    return;
  }
  if (args.floor) {
    await runFloor();
    return;
  }
  if (args['decision-only']) {
    const figures = await runDecisionBenches();
    printDecisionFigures(figures.decision, figures.recordLoss, 40);
    return;
  }
  await runPeerComparison();
  if (args['peers-only']) return;
  const inProcess = await runDecisionBenches();
  printDecisionFigures(inProcess.decision, inProcess.recordLoss, 60);
  // Every other instrumented SDK against its own bare call (#22): servers and children of its own.
  await runSdkOverheads({ rounds: ROUNDS, blocks: BLOCKS, calls: CALLS });
}

/** Every peer and ours on the openai majors they support, children of each group in interleaved rounds. */
async function runPeerComparison(): Promise<void> {
  ensurePeersInstalled();
  const server = spawn(process.execPath, ['--conditions=@decisiontrail/source', thisFile, '--server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  // Rounds interleave the children, so a change in machine load during the run spreads over all of them.
  const loadBefore = loadAverage();
  const groups = Object.keys(GROUPS) as Group[];
  const children = new Map<Group, ArmPairs[][]>();
  const loads: string[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const group of groups) {
        const { stdout } = await run(
          process.execPath,
          [
            '--conditions=@decisiontrail/source',
            '--expose-gc',
            thisFile,
            ...['--group', group, '--url', url, '--blocks', String(BLOCKS), '--calls', String(CALLS)],
            ...['--transport', args.transport!],
          ],
          { maxBuffer: 1 << 24 },
        );
        children.set(group, [...(children.get(group) ?? []), JSON.parse(stdout.trim().split('\n').at(-1)!)]);
        loads.push(loadavg()[0]!.toFixed(1));
      }
    }
  } finally {
    server.stdin.end();
  }
  if (args.raw !== undefined) {
    writeFileSync(
      args.raw,
      JSON.stringify({ loadBefore, loadAfter: loadAverage(), loads, children: [...children] }),
    );
  }

  console.log(
    `\nCPU per call, client process (user + system, all threads), openai chat.completions.create with a 1 KB prompt, ${args.transport === 'memory' ? "answered from memory (the server's recorded answer)" : 'over HTTP to the server process'}; ${ROUNDS} rounds of one child per openai major, each child ${BLOCKS} blocks in which every instrumentation runs one bare and one instrumented batch of ${CALLS} calls; node ${process.version}; load average ${loadBefore} before, ${loadAverage()} after, 1-minute load after each child: ${loads.join(', ')}`,
  );
  const width = Math.max(...Object.values(LABELS).map((label) => label.length)) + 10;
  console.log(
    `\n${''.padEnd(width)}  ${'bare'.padStart(7)}  ${'instrumented'.padStart(12)}  ${'overhead [p25–p75]'.padStart(22)}  ${'main thread only'.padStart(22)}  spans`,
  );
  for (const group of groups) {
    const { version, arms } = GROUPS[group];
    for (const name of arms) {
      const pairs = children.get(group)!.map((child) => child.find((arm) => arm.name === name)!);
      const bare = median(pairs.flatMap((arm) => arm.bare.map((sample) => sample.process)));
      const instrumented = median(pairs.flatMap((arm) => arm.instrumented.map((sample) => sample.process)));
      const overhead = spread(overheads(pairs, 'process'));
      const thread = spread(overheads(pairs, 'thread'));
      const spans = pairs.reduce((sum, arm) => sum + arm.spans, 0);
      const others = pairs.reduce((sum, arm) => sum + arm.otherSpans, 0);
      const bareOthers = pairs.reduce((sum, arm) => sum + arm.bareOtherSpans, 0);
      console.log(
        `${`openai ${version} + ${LABELS[name]}`.padEnd(width)}  ${`${bare.toFixed(0)} µs`.padStart(7)}  ${`${instrumented.toFixed(0)} µs`.padStart(12)}  ${formatSpread(overhead, 0, ' µs').padStart(22)}  ${formatSpread(thread, 0, ' µs').padStart(22)}  ${spans}${others + bareOthers > 0 ? ` (other scopes: ${others} instrumented, ${bareOthers} bare)` : ''}`,
      );
    }
  }
  console.log(
    '\nours / peer: the ratio of the two overheads measured in the same block (median [p25–p75] over the blocks), the ratio of the median overheads with its 90 % bootstrap interval over the blocks, and the blocks where ours cost at most the peer',
  );
  for (const group of groups) {
    const { version, arms } = GROUPS[group];
    const of = (name: ArmName) =>
      children.get(group)!.map((child) => child.find((arm) => arm.name === name)!);
    const peers = arms.filter((name) => name !== 'ours');
    const lowest = peers.reduce((a, b) =>
      median(overheads(of(a), 'process')) <= median(overheads(of(b), 'process')) ? a : b,
    );
    for (const peer of peers) {
      const line = (measure: keyof CpuSample) => {
        const { ratios, undefinedBlocks, oursNotAbove, blocks } = blockRatios(of('ours'), of(peer), measure);
        const { ratio, low, high } = ratioOfMedians(of('ours'), of(peer), measure);
        const verdict = high <= 1 ? 'at most the peer' : low > 1 ? 'above the peer' : 'not told apart';
        const none = undefinedBlocks > 0 ? `, ${undefinedBlocks} blocks without a ratio (peer ≤ 0)` : '';
        // A ratio to a median overhead lost in the noise (zero or below) says nothing.
        const ofMedians =
          median(overheads(of(peer), measure)) > 0
            ? `${ratio.toFixed(2)}× (90 % ${low.toFixed(2)}–${high.toFixed(2)}: ${verdict})`
            : "n/a (the peer's median overhead is zero or below)";
        const perBlock = ratios.length > 0 ? formatSpread(spread(ratios), 2, '×') : 'n/a';
        return `per block ${perBlock}${none}; of the medians ${ofMedians}; ours ≤ peer in ${oursNotAbove}/${blocks} blocks`;
      };
      const mark = peers.length > 1 && peer === lowest ? ' (the lowest peer)' : '';
      console.log(`openai ${version}, ours / ${LABELS[peer]}${mark}: ${line('process')}`);
      console.log(`${''.padEnd(`openai ${version}, `.length)}main thread only: ${line('thread')}`);
    }
  }
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
