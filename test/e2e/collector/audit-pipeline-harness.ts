import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { openServeBackend } from '@decisiontrail/cli/internal';
import { openStore, type Store } from '@decisiontrail/clickhouse';
import { configureAudit, decision, recordFeedback, recordOversight } from '@decisiontrail/instrumentation';
import type { DecisionReference } from '@decisiontrail/instrumentation';
import { auditStoreFrom, parseConfig, startProcessor, type ProcessorHandle } from '@decisiontrail/processor';
import {
  FileCheckpointWitness,
  exportPublicKey,
  generateSigningKey,
  readWitnessFile,
  verifySpans,
  type SigningKey,
  type StoreQueryName,
  type VerificationReport,
} from '@decisiontrail/core';
import { SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { COLLECTOR_CONFIG_DIR } from '../../integration/collector/otelcol-harness.ts';

/**
 * Hands each ended span to one of several signing pipelines in turn: a stand-in for several replicas
 * of the app, one stream each. It also counts the spans, which are all leaves of some stream.
 */
class ReplicaSpanProcessor implements SpanProcessor {
  readonly #replicas: SpanProcessor[];
  #next = 0;
  ended = 0;

  constructor(replicas: SpanProcessor[]) {
    this.#replicas = replicas;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.ended += 1;
    this.#replicas[this.#next]?.onEnd(span);
    this.#next = (this.#next + 1) % this.#replicas.length;
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => replica.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => replica.shutdown()));
  }
}

/**
 * An application instrumented the way decisiontrail's examples are: `@decisiontrail/instrumentation`
 * for decision, oversight and feedback spans, and `SigningSpanExporter` in front of an OTLP/HTTP
 * exporter pointed at the Collector, for all its spans (its HTTP and database spans are leaves of the
 * stream too). The tracer provider is global, so one app per test file (vitest runs each file in its
 * own process).
 */
export class AuditApp {
  readonly key: SigningKey;
  /** Checkpoint witness file of each stream, by stream id. */
  readonly witnessPaths: ReadonlyMap<string, string>;
  readonly #provider: TracerProvider;
  readonly #replicas: ReplicaSpanProcessor;
  readonly #tracer: Tracer;

  private constructor(
    provider: TracerProvider,
    replicas: ReplicaSpanProcessor,
    key: SigningKey,
    witnessPaths: Map<string, string>,
  ) {
    this.#provider = provider;
    this.#replicas = replicas;
    this.#tracer = provider.getTracer('loan-service');
    this.key = key;
    this.witnessPaths = witnessPaths;
  }

  /**
   * Starts the app; its exporters send to `collectorUrl` (`http://host:port`, OTLP/HTTP protobuf).
   * `streamIds` gives one signing stream per id (default: one stream with a random id).
   */
  static start(options: { collectorUrl: string; dir: string; streamIds?: string[] }): AuditApp {
    const key = generateSigningKey('e2e-loan-service');
    // 30 s lets the OTLP exporter's retries (connection refused, 503) outlast a Collector restart.
    const otlp = () =>
      new OTLPTraceExporter({ url: `${options.collectorUrl}/v1/traces`, timeoutMillis: 30_000 });
    const batch = {
      scheduledDelayMillis: 100,
      maxExportBatchSize: 256,
      exportTimeoutMillis: 60_000,
      maxQueueSize: 100_000,
    };
    const witnessPaths = new Map<string, string>();
    const signingPipelines = (options.streamIds ?? [undefined]).map((streamId, index) => {
      const witnessPath = join(options.dir, `checkpoints-${index}.witness.jsonl`);
      const exporter = new SigningSpanExporter({
        exporter: otlp(),
        key,
        witness: new FileCheckpointWitness(witnessPath),
        ...(streamId !== undefined && { streamId }),
      });
      witnessPaths.set(exporter.streamId, witnessPath);
      return new BatchSpanProcessor({ exporter, ...batch });
    });
    const replicas = new ReplicaSpanProcessor(signingPipelines);
    const provider = new TracerProvider({
      sampler: new AlwaysOnSampler(),
      resource: resourceFromAttributes({ 'service.name': 'loan-service', 'service.version': '2.4.0' }),
      spanProcessors: [replicas],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    configureAudit({ hmacKey: 'e2e-collector-hmac-key', hmacKeyId: 'e2e' });
    return new AuditApp(provider, replicas, key, witnessPaths);
  }

  /** Spans the app ended so far: every one is a signed leaf. */
  get spansEnded(): number {
    return this.#replicas.ended;
  }

  /** The signed checkpoint notes the app witnessed for the given streams (all when omitted). */
  async witnessCheckpoints(streams?: Iterable<string>): Promise<string[]> {
    const wanted = [...(streams ?? this.witnessPaths.keys())];
    const notes = await Promise.all(
      wanted.map((stream) => {
        const path = this.witnessPaths.get(stream);
        return path === undefined ? [] : readWitnessFile(path);
      }),
    );
    return notes.flat();
  }

  /** One credit decision; `insideRequest` makes it the child of an ordinary request trace. */
  decide(index: number, insideRequest = false): DecisionReference {
    const run = () =>
      decision(
        { modelId: 'credit-model', version: '3.1.0', modelType: 'classifier', input: { applicant: index } },
        (handle) => {
          handle.setOutcome(index % 3 === 0 ? 'deny' : 'approve');
          handle.setConfidence(0.5 + (index % 50) / 100);
          return handle.reference;
        },
      );
    if (!insideRequest) return run();
    return this.#tracer.startActiveSpan('POST /loans', (request) => {
      try {
        return run();
      } finally {
        request.end();
      }
    });
  }

  /** A reviewer's override of an earlier decision. */
  override(reference: DecisionReference): void {
    recordOversight({
      decision: reference,
      action: 'override',
      reviewer: 'analyst-3',
      newOutcome: 'approve',
    });
  }

  /** Ground truth for an earlier decision. */
  feedback(reference: DecisionReference): void {
    recordFeedback({ decision: reference, correct: true, source: 'repayment' });
  }

  /** An ordinary request trace of three spans, no audit attributes. */
  ordinaryTrace(): string {
    return this.#tracer.startActiveSpan('GET /loans/:id', (root) => {
      for (const name of ['db.select loans', 'cache.get rates']) this.#tracer.startSpan(name).end();
      root.end();
      return root.spanContext().traceId;
    });
  }

  async flush(): Promise<void> {
    await this.#provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}

/** `decisiontrail serve` in this process, over an embedded store the test also reads. */
export class Decisiontrail {
  readonly store: Store;
  readonly port: number;
  readonly #dir: string;
  #handle: ProcessorHandle | undefined;

  private constructor(store: Store, dir: string, port: number) {
    this.store = store;
    this.#dir = dir;
    this.port = port;
  }

  /** Opens the store under `dir` and starts the processor on `port`, trusting `key`. */
  static async start(options: { dir: string; port: number; key: SigningKey }): Promise<Decisiontrail> {
    const keysDir = join(options.dir, 'keys');
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(join(keysDir, 'loan-service.pub'), `${exportPublicKey(options.key).vkey}\n`);
    const store = await openStore({ dataDir: join(options.dir, 'data') });
    const processor = new Decisiontrail(store, options.dir, options.port);
    await processor.restart();
    return processor;
  }

  /** Base URL of the OTLP receiver (`http://127.0.0.1:<port>`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the processor again on the same port, write-ahead log and store (after {@link stop}). */
  async restart(): Promise<void> {
    const config = parseConfig(
      [
        'storage: { dataDir: data }',
        'keys: { dir: keys }',
        // The app signs all its spans, so its ordinary spans are leaves too: keep them.
        `processor: { receiver: { port: ${this.port} }, queue: { dir: queue }, stages: { route: { other: store } } }`,
      ].join('\n'),
      { baseDir: this.#dir, env: {} },
    );
    this.#handle = await startProcessor(config, {
      store: auditStoreFrom(this.store, { owned: false }),
      log: () => {},
    });
  }

  /** Stops the processor: the port closes, the store stays open. */
  async stop(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
  }

  /** `decisiontrail verify` over every stored signed span, with the app's key and witness file. */
  async verify(app: AuditApp): Promise<VerificationReport> {
    const records = await this.store.spansForVerification();
    return verifySpans(records, {
      publicKeys: [app.key.verifierKey],
      witnessCheckpoints: await app.witnessCheckpoints(),
    });
  }

  /**
   * How many times each decision id is stored in otel_traces, read raw (no FINAL, no LIMIT BY), so a
   * duplicate insert shows up here even where the store's queries would hide it.
   */
  async rawDecisionCounts(): Promise<Map<string, number>> {
    const result = await this.store.client.query({
      query:
        "SELECT SpanAttributes['audit.decision.id'] AS id, count() AS n FROM otel_traces " +
        "WHERE SpanAttributes['audit.record.type'] = 'decision' GROUP BY id",
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ id: string; n: string | number }>();
    return new Map(rows.map((row) => [row.id, Number(row.n)]));
  }
}

/** The transform a team might add to "normalize" outcomes: it rewrites a signed attribute. */
export const OUTCOME_REWRITE =
  'set(attributes["audit.decision.outcome"], "approve") where attributes["audit.decision.outcome"] == "deny"';

/**
 * Writes gateway.yaml with one mistake added, the one collector-config/README.md warns about: a
 * transform on the audit branch (`transform/normalize`, {@link OUTCOME_REWRITE}). Returns the parsed
 * document too, for the wiring check.
 */
export function writeGatewayWithAuditTransform(path: string): unknown {
  const document = parse(readFileSync(join(COLLECTOR_CONFIG_DIR, 'gateway.yaml'), 'utf8')) as {
    processors: Record<string, unknown>;
    service: { pipelines: Record<string, { processors?: string[] }> };
  };
  document.processors['transform/normalize'] = {
    error_mode: 'propagate',
    trace_statements: [{ context: 'span', statements: [OUTCOME_REWRITE] }],
  };
  const audit = document.service.pipelines['traces/audit'];
  if (audit === undefined) throw new Error('gateway.yaml has no traces/audit pipeline');
  audit.processors = ['transform/normalize'];
  writeFileSync(path, stringify(document));
  return document;
}

const CLI = resolve(import.meta.dirname, '../../../packages/cli/bin/decisiontrail.js');

/** Runs the `decisiontrail` command in `cwd` and returns its exit status and output. */
export function runDecisiontrail(
  args: string[],
  cwd: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `decisiontrail serve` as its own process, as an operator runs it: one embedded store per process,
 * so several processors behind a gateway tier are several of these.
 */
export class ServeProcess {
  readonly dir: string;
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #output: () => string;

  private constructor(
    dir: string,
    url: string,
    child: ChildProcess,
    exited: Promise<void>,
    output: () => string,
  ) {
    this.dir = dir;
    this.url = url;
    this.#child = child;
    this.#exited = exited;
    this.#output = output;
  }

  /** Everything serve printed so far. */
  output(): string {
    return this.#output();
  }

  /** The processor's Prometheus metrics text (spans received, accepted, rejected, queue depth, ...). */
  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  /**
   * Writes `decisiontrail.yaml` and the trusted key under `dir`, starts `serve`, waits until it listens.
   * `verifyOnIngest: false` turns the processor's verify stage off, so what arrives is stored as is.
   */
  static async start(options: {
    dir: string;
    key: SigningKey;
    verifyOnIngest?: boolean;
  }): Promise<ServeProcess> {
    mkdirSync(join(options.dir, 'keys'), { recursive: true });
    writeFileSync(join(options.dir, 'keys', 'loan-service.pub'), `${exportPublicKey(options.key).vkey}\n`);
    writeFileSync(
      join(options.dir, 'decisiontrail.yaml'),
      'storage: { dataDir: data }\nkeys: { dir: keys }\n' +
        `processor: { queue: { dir: queue }, stages: { verify: { enabled: ${options.verifyOnIngest ?? true} }, route: { other: store } } }\n`,
    );
    const child = spawn(process.execPath, [CLI, 'serve', '--config', 'decisiontrail.yaml', '--port', '0'], {
      cwd: options.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let output = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`decisiontrail serve did not start:\n${output}`)),
        60_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+?) /.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`decisiontrail serve exited (${code}):\n${output}`));
      });
    });
    return new ServeProcess(options.dir, url, child, exited, () => output);
  }

  /**
   * Calls a store query through serve's loopback query endpoint with the CLI's own client (what the CLI does
   * while serve runs; it sends a query again when serve reset the kept-alive connection it went out on).
   */
  async query<T>(name: StoreQueryName, params: Record<string, unknown>): Promise<T> {
    const backend = openServeBackend(
      { pid: this.#child.pid ?? 0, url: this.url },
      { token: undefined, ca: undefined },
    );
    const query = backend.queries[name] as unknown as (params: Record<string, unknown>) => Promise<T>;
    return query(params);
  }

  /** SIGTERM: serve drains what it acknowledged and exits. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await this.#exited;
  }
}
