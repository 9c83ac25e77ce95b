import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort } from '../../support/free-port.ts';

/** Folder of the shipped Collector configurations. */
export const COLLECTOR_CONFIG_DIR = resolve(import.meta.dirname, '../../../collector-config');

/**
 * Path of the Collector built from collector-config/builder-config.yaml (`npm run collector:build`),
 * or `undefined` when it has not been built on this machine. The build script owns the cache layout.
 */
export function otelcolBinary(): string | undefined {
  const script = join(COLLECTOR_CONFIG_DIR, 'scripts', 'build-collector.mjs');
  const result = spawnSync(process.execPath, [script, '--print-path'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build-collector.mjs --print-path failed: ${result.stderr}`);
  const path = result.stdout.trim();
  return existsSync(path) ? path : undefined;
}

/** Message for a suite skipped because the binary is missing; CI builds it first, so CI never skips. */
export const MISSING_BINARY_MESSAGE =
  'SKIPPED: no Collector binary for collector-config/builder-config.yaml; run `npm run collector:build` (.ci/run does)';

export { freePort };

/** The loopback ports one Collector instance listens on. */
export interface CollectorPorts {
  grpc: number;
  http: number;
  health: number;
  metrics: number;
}

/** Picks free ports for one Collector instance. */
export async function collectorPorts(): Promise<CollectorPorts> {
  return {
    grpc: await freePort(),
    http: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
  };
}

/** The environment the shipped configs read, pointing every listener at loopback. */
export function collectorEnv(ports: CollectorPorts, storageDir: string): Record<string, string> {
  return {
    OTELCOL_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
    OTELCOL_HTTP_ENDPOINT: `127.0.0.1:${ports.http}`,
    OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
    OTELCOL_METRICS_PORT: String(ports.metrics),
    OTELCOL_STORAGE_DIR: storageDir,
  };
}

/** A Collector process started by {@link startCollector}. */
export interface RunningCollector {
  readonly process: ChildProcess;
  /** Everything the Collector printed so far (it logs to stderr). */
  output(): string;
  /** SIGTERM and wait: the Collector drains what it can and closes its queue files. */
  stop(): Promise<void>;
  /** SIGKILL and wait: nothing is drained, only what is on disk survives. */
  kill(): Promise<void>;
}

/** Options of {@link startCollector}. */
export interface StartCollectorOptions {
  binary: string;
  /** A config file path (absolute, or relative to collector-config/); several are merged in order. */
  config: string | string[];
  env: Record<string, string>;
  healthPort: number;
  /** `--set` overrides, e.g. `exporters::otlp_http/backend::encoding=json`. */
  set?: string[];
  /** @default 30000 */
  readyTimeoutMs?: number;
}

/** Starts a Collector and resolves once its health_check endpoint answers 200. */
export async function startCollector(options: StartCollectorOptions): Promise<RunningCollector> {
  const configs = Array.isArray(options.config) ? options.config : [options.config];
  const args = [
    ...configs.flatMap((config) => ['--config', resolve(COLLECTOR_CONFIG_DIR, config)]),
    ...(options.set ?? []).map((value) => `--set=${value}`),
  ];
  const child = spawn(options.binary, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const collector: RunningCollector = {
    process: child,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Collector exited during start (${child.exitCode ?? child.signalCode}):\n${log}`);
    }
    let healthy = false;
    try {
      healthy = (await fetch(`http://127.0.0.1:${options.healthPort}/`)).status === 200;
    } catch {
      // Not listening yet.
    }
    if (healthy) {
      // The pipelines are built, and their warnings logged, before health_check reports ready.
      const deprecations = deprecationWarnings(log);
      if (deprecations.length === 0) return collector;
      await collector.kill();
      throw new Error(
        `Collector logged ${deprecations.length} deprecation warning(s) at start; use the current names:\n` +
          deprecations.join('\n'),
      );
    }
    await sleep(100);
  }
  await collector.kill();
  throw new Error(`Collector not healthy after ${options.readyTimeoutMs ?? 30_000} ms:\n${log}`);
}

/**
 * The warnings in a Collector log that announce something deprecated (an alias such as `otlphttp`, a
 * setting, a feature gate): each line at level `warn` (the console encoding's second field) that says
 * "deprecated".
 */
export function deprecationWarnings(log: string): string[] {
  return log
    .split('\n')
    .filter((line) => line.split('\t')[1] === 'warn' && /deprecat/i.test(line))
    .map((line) => line.trim());
}

/**
 * Batches waiting in an exporter's sending queue, from the Collector's own Prometheus metrics
 * (`otelcol_exporter_queue_size`): shows that acknowledged spans are held in the queue.
 */
export async function exporterQueueSize(metricsPort: number, exporterId: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (row) => row.startsWith('otelcol_exporter_queue_size{') && row.includes(`exporter="${exporterId}"`),
    );
  if (line === undefined) throw new Error(`no otelcol_exporter_queue_size for ${exporterId}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A span as an OTLP/JSON sink saw it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
}

/**
 * A local OTLP/HTTP JSON endpoint (`/v1/traces`) that records every span it accepts, standing in
 * for the team's tracing backend or a processor in routing tests. `status` makes it refuse requests.
 */
export class OtlpJsonSink {
  readonly spans: ReceivedSpan[] = [];
  /** When set, requests are answered with this status and their spans are not recorded. */
  status: number | undefined;
  #server: Server;

  private constructor() {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (this.status !== undefined) {
          response.writeHead(this.status).end();
          return;
        }
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (request.url !== '/v1/traces' || !String(request.headers['content-type']).includes('json')) {
          response.writeHead(415).end();
          return;
        }
        this.spans.push(...spansOfOtlpJson(JSON.parse(body.toString('utf8')) as OtlpJsonRequest));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  /** Starts a sink on a free loopback port. */
  static async start(): Promise<OtlpJsonSink> {
    const sink = new OtlpJsonSink();
    await new Promise<void>((done) => sink.#server.listen(0, '127.0.0.1', done));
    return sink;
  }

  /** Base URL for an otlp_http exporter's `endpoint`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }
}

/** A span to send, in the few fields the routing tests need. */
export interface SpanToSend {
  traceId: string;
  spanId: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
  /** Marks the span's status as ERROR. */
  error?: boolean;
}

interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}

interface OtlpJsonRequest {
  resourceSpans?: {
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        name: string;
        attributes?: { key: string; value: OtlpJsonValue }[];
      }[];
    }[];
  }[];
}

function spansOfOtlpJson(request: OtlpJsonRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const attributes: ReceivedSpan['attributes'] = {};
        for (const { key, value } of span.attributes ?? []) {
          attributes[key] =
            value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue);
        }
        spans.push({ traceId: span.traceId, spanId: span.spanId, name: span.name, attributes });
      }
    }
  }
  return spans;
}

function toOtlpJsonValue(value: string | number | boolean): OtlpJsonValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

/** Sends spans to a Collector's OTLP/HTTP receiver as one JSON request; throws unless it answers 200. */
export async function sendOtlpJson(
  httpPort: number,
  serviceName: string,
  spans: SpanToSend[],
): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [
          {
            scope: { name: 'collector-routing-test', version: '1.0.0' },
            spans: spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              name: span.name,
              kind: 1,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 1_000_000n),
              ...(span.error === true ? { status: { code: 2 } } : {}),
              attributes: Object.entries(span.attributes).map(([key, value]) => ({
                key,
                value: toOtlpJsonValue(value),
              })),
            })),
          },
        ],
      },
    ],
  };
  const response = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`Collector answered ${response.status}: ${await response.text()}`);
}

/**
 * The processor gateway-tier.yaml sends a stream to: OTTL's FNV() (FNV-1a 64 read as int64) of the
 * stream id, mod 2, with a nonzero remainder meaning processor 1.
 */
export function gatewayTierProcessorOf(stream: string): 0 | 1 {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(stream, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  // Only the parity matters, and reading the hash as signed does not change it.
  return hash % 2n === 1n ? 1 : 0;
}

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(intervalMs);
  }
  return condition();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
