import { readFile, rm, writeFile, rename, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { DecisionTrailConfig, ProcessorConfig } from './config.ts';
import { ProcessorError } from './errors.ts';
import { HttpAccess } from './http-access.ts';
import type { AccessDenial } from './http-access.ts';
import { loadTrustedKeys } from '@decisiontrail/core';
import { ProcessorMetrics } from './metrics.ts';
import { OtlpForwardSink } from './otlp-forward-sink.ts';
import { POLICY_APPLIED_ENCODING } from './policy-applied-entry.ts';
import { createOtlpTraceHandler } from './otlp-receiver.ts';
import { QueueDrainer } from './queue-drainer.ts';
import { createQueryHandler } from './query-endpoint.ts';
import { openAuditStore } from './audit-store.ts';
import type { AuditStore } from './audit-store.ts';
import type { SpanSink } from './span-sink.ts';
import { SpanWorker } from './span-worker.ts';
import { WitnessSubmitter } from './witness-submitter.ts';
import { WriteAheadLog } from './write-ahead-log.ts';

/** A running processor. */
export interface ProcessorHandle {
  /**
   * Base URL of the receiver, e.g. `http://127.0.0.1:4318` (`https://` with TLS; traces go to
   * `${url}/v1/traces`).
   */
  url: string;
  metrics: ProcessorMetrics;
  /**
   * Stops accepting requests, lets in-flight ones finish, drains everything acknowledged into the sinks
   * (up to `drainTimeoutMs`; what is left stays in the write-ahead log for the next start), then closes.
   */
  close(): Promise<void>;
}

/** Options of {@link startProcessor} beyond the config file. */
export interface StartProcessorOptions {
  /** An already open store to write to (tests and the demo share one); the processor does not close it. */
  store?: AuditStore;
  /** How long `close()` keeps draining. @default 30000 */
  drainTimeoutMs?: number;
  /** Receives operational messages (sink retries, drain failures). @default console.error */
  log?: (message: string) => void;
  /** Where `processor.auth.tokens[].env` variables are read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The file through which other processes find a processor that holds the embedded store. */
export const SERVE_FILE = 'serve.json';

function loopbackUrl(host: string, port: number, tls: boolean): string {
  // A wildcard bind is reachable on loopback; an IPv6 literal needs brackets.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${tls ? 'https' : 'http'}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

async function readTlsFile(file: string, key: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new ProcessorError(
      'CONFIG_INVALID',
      `processor.receiver.tls.${key}: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause },
    );
  }
}

/** A plain HTTP server, or HTTPS from `receiver.tls` (asking for client certificates when a client CA is set). */
async function createReceiverServer(
  tls: ProcessorConfig['receiver']['tls'],
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  if (tls === undefined) return createServer({ keepAliveTimeout: 5_000 }, handle);
  const [cert, key, clientCa] = await Promise.all([
    readTlsFile(tls.cert, 'cert'),
    readTlsFile(tls.key, 'key'),
    tls.clientCa === undefined ? undefined : readTlsFile(tls.clientCa, 'clientCa'),
  ]);
  try {
    return createTlsServer(
      {
        keepAliveTimeout: 5_000,
        cert,
        key,
        minVersion: 'TLSv1.2',
        // A client certificate is one way to authenticate, a bearer token the other: the handshake asks for
        // one and checks it against the CA, and a request without a verified one must carry a token instead.
        ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }),
      },
      handle,
    );
  } catch (cause) {
    throw new ProcessorError('CONFIG_INVALID', `processor.receiver.tls: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** The query name of a path segment; a malformed escape (which would throw in the request handler) names no query. */
function queryName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sendDenial(res: ServerResponse, denied: AccessDenial): void {
  res
    .writeHead(denied.status, { 'content-type': 'text/plain', ...denied.headers })
    .end(`${denied.message}\n`);
}

async function readHmacKey(file: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (cause) {
    throw new ProcessorError('CONFIG_INVALID', `policy hash rules need an HMAC key; cannot read ${file}`, {
      cause,
    });
  }
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(text)) {
    throw new ProcessorError('CONFIG_INVALID', `HMAC key file ${file} must hold at least 16 bytes as hex`);
  }
  return Buffer.from(text, 'hex');
}

/**
 * Starts the OTLP/HTTP receiver with its stages, durable queue and sinks (`decisiontrail serve` and the demo
 * call this in-process).
 */
export async function startProcessor(
  config: DecisionTrailConfig,
  options: StartProcessorOptions = {},
): Promise<ProcessorHandle> {
  const log = options.log ?? ((message: string) => console.error(`decisiontrail processor: ${message}`));
  const p = config.processor;
  const metrics = new ProcessorMetrics();
  // Before anything is opened: an unsafe bind or an unreadable token stops the start with nothing to undo.
  const access = await HttpAccess.create(p, options.env);
  const wal = await WriteAheadLog.open({ dir: p.queue.dir, segmentBytes: p.queue.segmentBytes });
  const cleanup: (() => Promise<void>)[] = [() => wal.close()];
  try {
    const verifierKeys = p.stages.verify.enabled
      ? (await loadTrustedKeys(config.keys)).map((key) => key.vkey)
      : undefined;
    const hmacKey = p.stages.policy.hash.length > 0 ? await readHmacKey(config.keys.hmacKey) : undefined;
    let store = options.store;
    if (store === undefined && p.sinks.clickhouse.enabled) {
      store = await openAuditStore(config);
      const owned = store;
      cleanup.unshift(() => owned.close());
    }
    let forward: SpanSink | undefined;
    const forwardUrl = p.sinks.forward.url;
    if (forwardUrl !== undefined) {
      const sink = new OtlpForwardSink({ ...p.sinks.forward, url: forwardUrl });
      forward = sink;
      cleanup.unshift(() => sink.close());
    }
    const policy = { ...p.stages.policy, hmacKey };
    // Requests are checked, and the policy applied, on a thread of their own: an acknowledgement never waits
    // behind the drain's batch work (decode, verify, encode) on the span worker. It holds no state — the span
    // worker owns the verifier and decodes every drained entry from the log — so nothing acknowledged depends
    // on it.
    const receipt = await SpanWorker.start(
      {
        stages: p.stages,
        verifierKeys: undefined,
        verifierState: undefined,
        policy,
        store: false,
        threadName: 'dt-receipt',
      },
      () => undefined,
    );
    cleanup.push(() => receipt.close());
    const worker = await SpanWorker.start(
      {
        stages: p.stages,
        verifierKeys,
        verifierState: wal.state,
        policy,
        store: store !== undefined,
        threadName: 'dt-span-worker',
      },
      (finding) => {
        metrics.lateFindings.inc(1, { code: finding.code });
        log(
          `integrity finding on stream ${finding.stream} about spans already stored: ${finding.code}: ${finding.message}`,
        );
      },
    );
    cleanup.push(() => worker.close());
    const receiverLoad = { inFlight: 0 };
    const drainer = new QueueDrainer({
      wal,
      worker,
      store: store?.sink,
      quarantine: store,
      forward,
      metrics,
      batchSpans: p.queue.drainBatchSpans,
      retryInitialMs: p.queue.retryInitialMs,
      retryMaxMs: p.queue.retryMaxMs,
      onSinkError: (sink, error) => log(`${sink} sink: ${(error as Error).message}`),
      onFatal: (error) => log(`drain stopped, the processor is not ready: ${(error as Error).message}`),
    });
    metrics.addGauge(
      'decisiontrail_processor_queue_entries',
      'Acknowledged requests not yet stored.',
      () => wal.pendingEntries,
    );
    metrics.addGauge(
      'decisiontrail_processor_queue_bytes',
      'Bytes in the write-ahead log not yet stored.',
      () => wal.pendingBytes,
    );

    let closing = false;
    const traces = createOtlpTraceHandler({
      maxBodyBytes: p.receiver.maxBodyBytes,
      maxConcurrentRequests: p.receiver.maxConcurrentRequests,
      metrics,
      load: receiverLoad,
      // The body moves to the receipt thread and back instead of being copied there.
      decode: (body, encoding) => receipt.decode(body, encoding, true),
      persist: async (body, encoding, verdict) => {
        // Where the policy changed a span, the log gets the post-policy form, never the body.
        if (verdict.logged !== undefined)
          await wal.append(POLICY_APPLIED_ENCODING, verdict.logged, verdict.spans);
        else await wal.append(encoding, body, verdict.spans);
      },
      unavailable: () => (closing || wal.pendingBytes > p.queue.maxBytes ? 5 : undefined),
      authorize: (req) => access.check(req, { scope: 'ingest', openWithoutAuth: true }),
    });
    const query = store?.embedded === true ? createQueryHandler(store, access) : undefined;
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      if (access.answerCors(req, res)) return;
      const url = req.url ?? '/';
      const pathname = url.split('?')[0]!;
      if (pathname === '/v1/traces') {
        void traces(req, res);
        return;
      }
      if (pathname.startsWith('/v1/query/') && query !== undefined) {
        void query(req, res, queryName(pathname.slice('/v1/query/'.length)));
        return;
      }
      // Metrics are operational counts, not audit data: open unless authentication is configured.
      const denied = access.check(req, {
        scope: pathname === '/metrics' ? 'read' : undefined,
        openWithoutAuth: true,
      });
      if (denied !== undefined) {
        sendDenial(res, denied);
      } else if (pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (pathname === '/readyz') {
        const ready = !closing && drainer.failure === undefined && receipt.failure === undefined;
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ready ? 'ready\n' : 'not ready\n');
      } else if (pathname === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    };
    const server = await createReceiverServer(p.receiver.tls, handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p.receiver.port, p.receiver.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Started only once the port is bound: a failed start must not leave a drain running on a closed log.
    drainer.start();
    // Beside the drain, never in it: a witness that is down or slow delays no acknowledgement and no write.
    if (store !== undefined && config.witnesses.list.length > 0) {
      const submitter = new WitnessSubmitter({
        witnesses: config.witnesses,
        store: store.witness,
        metrics,
        log,
      });
      submitter.start();
      cleanup.unshift(() => submitter.stop());
    }
    const url = loopbackUrl(
      p.receiver.host,
      (server.address() as AddressInfo).port,
      p.receiver.tls !== undefined,
    );
    const serveFile = path.join(config.storage.dataDir, SERVE_FILE);
    if (query !== undefined) {
      await mkdir(config.storage.dataDir, { recursive: true, mode: 0o700 });
      await writeFile(`${serveFile}.tmp`, JSON.stringify({ pid: process.pid, url }), { mode: 0o600 });
      await rename(`${serveFile}.tmp`, serveFile);
    }

    let closed: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections become idle once their in-flight request is answered.
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await stopped;
      } finally {
        clearInterval(idle);
      }
      await drainer.stop(options.drainTimeoutMs ?? 30_000);
      if (query !== undefined) await rm(serveFile, { force: true });
      for (const step of cleanup) await step();
    };
    return {
      url,
      metrics,
      close: () => (closed ??= close()),
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw error;
  }
}
