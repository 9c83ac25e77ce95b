// Throughput, acknowledgement latency and memory of the processor (`decisiontrail serve`) on loopback.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/processor.bench.ts [--spans 300000]
//       [--batch 500] [--concurrency 8] [--rate 10000] [--seconds 20] [--drain-batch N] [--keep]
//       [--auth off|on|compare] [--rounds 1] [--unsigned] [--policy off|redact]
//
// `--auth on` configures bearer tokens (processor.auth.tokens: an ingest token the load generator sends on every
// request, a read token for /metrics); `--auth compare` measures both in one run, a fresh processor and data
// directory for each, `--rounds` times with the order alternating (off, on, then on, off, ...), and prints the
// stored throughput with authentication as a share of the throughput without.
//
// `--unsigned` sends the same decision spans unsigned and each with a captured input (`audit.input.content`,
// ≈ 200 characters); `--policy redact` configures `processor.stages.policy.redact: [audit.input.content]`, so
// every span takes the policy's path before the write-ahead log (decode, redact, the post-policy log entry).
//
// The processor runs in a child process (packages/processor/test/support/processor-child.ts) with the embedded
// engine, verification on and the write-ahead log fsynced per group of requests; this process is the load
// generator. Spans are real SDK decision spans signed by the real SigningSpanExporter (each OTLP request is one
// exporter batch: its leaves plus a checkpoint span), encoded as OTLP protobuf before the clock starts.
//   1. sustained: every request of a `--spans` stream sent by `--concurrency` clients as fast as the receiver
//      acknowledges; the rate is spans stored (verified, in otel_traces) over the time from the first request
//      to the last span committed, and the acknowledged rate over the time to the last 200;
//   2. latency: a second stream offered open-loop at `--rate` spans/s for `--seconds` (requests of 100 spans
//      sent on schedule whether or not earlier ones were answered); latency is scheduled send → 200 (a request
//      refused with 429/503 is retried after 50 ms and counted to its final 200);
//   3. memory: the child's peak RSS (VmHWM) over both phases.
// Beside the rates: the processor's CPU per span over the sustained phase (all threads, and by thread name from
// /proc/<pid>/task), and the load generator's own, which shares the cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { parseConfig } from '@decisiontrail/processor';
import { HttpAccess } from '@decisiontrail/processor/internal';
import { ATTR_AUDIT_INPUT_CAPTURE_MODE, ATTR_AUDIT_INPUT_CONTENT } from '@decisiontrail/semconv';
import {
  decisionAttributes,
  makeDecisionSpans,
  signBatches,
  testKey,
} from '../../packages/processor/test/support/signed-batches.ts';
import { toProtobuf } from '../../packages/processor/test/support/sdk-spans.ts';
import { threadCpu } from './thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '300000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    // Spans per drained batch and insert; the configuration's default (processor.queue.drainBatchSpans) unless given.
    'drain-batch': { type: 'string' },
    keep: { type: 'boolean', default: false },
    auth: { type: 'string', default: 'off' },
    rounds: { type: 'string', default: '1' },
    unsigned: { type: 'boolean', default: false },
    policy: { type: 'string', default: 'off' },
  },
});
if (args.policy !== 'off' && args.policy !== 'redact') throw new Error('--policy must be off or redact');
/** Spans per request beyond the batch: the checkpoint span of a signed request. */
const CHECKPOINT_SPANS = args.unsigned ? 0 : 1;
const CAPTURED_INPUT = JSON.stringify({ applicant: 'A. N. Example', note: 'x'.repeat(150) });
const SPANS = Number(args.spans);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const LATENCY_BATCH = 100;
const AUTH = args.auth;
if (AUTH !== 'off' && AUTH !== 'on' && AUTH !== 'compare')
  throw new Error('--auth must be off, on or compare');
const ROUNDS = Number(args.rounds);
// USER_HZ: the unit of /proc/<pid>/stat times, 100 on Linux.
const CLOCK_TICKS = 100;
// Random per run, like a real secret; 32 bytes as hex.
const INGEST_TOKEN = randomBytes(32).toString('hex');
const READ_TOKEN = randomBytes(32).toString('hex');

const CHILD = fileURLToPath(
  new URL('../../packages/processor/test/support/processor-child.ts', import.meta.url),
);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function signedBodies(
  count: number,
  batch: number,
  key: ReturnType<typeof testKey>['key'],
): Promise<Uint8Array[]> {
  const bodies: Uint8Array[] = [];
  // Signed in chunks of one stream so the generator's own memory stays modest.
  const chunk = 20_000;
  const spans = [];
  const attributes = args.unsigned
    ? (i: number) => ({
        ...decisionAttributes(i),
        [ATTR_AUDIT_INPUT_CAPTURE_MODE]: 'full',
        [ATTR_AUDIT_INPUT_CONTENT]: CAPTURED_INPUT,
      })
    : decisionAttributes;
  for (let done = 0; done < count; done += chunk)
    spans.push(...(await makeDecisionSpans(Math.min(chunk, count - done), attributes)));
  if (args.unsigned) {
    for (let i = 0; i < spans.length; i += batch) bodies.push(toProtobuf(spans.slice(i, i + batch)));
    return bodies;
  }
  for (const b of await signBatches(spans, key, batch)) bodies.push(toProtobuf(b));
  return bodies;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Headers of every OTLP request: the ingest token when the run authenticates. */
let authHeaders: Record<string, string> = {};
/** Headers of /metrics requests: the read token when the run authenticates. */
let metricsHeaders: Record<string, string> = {};

async function post(port: number, body: Uint8Array): Promise<number> {
  // A keep-alive socket the server closed while idle fails on reuse (ECONNRESET); an OTLP exporter retries it
  // too, and should the request have been stored after all, the repeat is removed by span id.
  for (;;) {
    try {
      return await postOnce(port, body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
    }
  }
}

function postOnce(port: number, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/traces',
        headers: {
          'content-type': 'application/x-protobuf',
          'content-length': body.length,
          ...authHeaders,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function metric(url: string, name: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: metricsHeaders });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

const STORED = 'decisiontrail_processor_spans_stored_total{sink="clickhouse"}';

/** Figures of one processor run. */
interface RunFigures {
  auth: boolean;
  ackedRate: number;
  storedRate: number;
  /** The processor's CPU time (all threads) per span over the sustained phase, in µs. */
  cpuPerSpan: number;
  p50: number;
  p99: number;
  rssMiB: number;
}

async function runOnce(
  dir: string,
  vkey: string,
  auth: boolean,
  sustained: Uint8Array[],
  offered: Uint8Array[],
): Promise<RunFigures> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'keys'), { recursive: true });
  writeFileSync(join(dir, 'keys', 'bench.vkey'), `${vkey}\n`);
  writeFileSync(join(dir, 'ingest.token'), INGEST_TOKEN, { mode: 0o600 });
  writeFileSync(join(dir, 'read.token'), READ_TOKEN, { mode: 0o600 });
  const configFile = join(dir, 'decisiontrail.yaml');
  const policyYaml =
    args.policy === 'redact' ? `, stages: { policy: { redact: [${ATTR_AUDIT_INPUT_CONTENT}] } }` : '';
  const authYaml = auth
    ? ', auth: { tokens: [{ name: ingest, scopes: [ingest], file: ingest.token }, ' +
      '{ name: metrics, scopes: [read], file: read.token }] }'
    : '';
  const queueYaml =
    args['drain-batch'] === undefined ? '' : `, queue: { drainBatchSpans: ${Number(args['drain-batch'])} }`;
  writeFileSync(
    configFile,
    'storage: { dataDir: data }\nkeys: { dir: keys }\n' +
      `processor: { receiver: { port: 0 }${queueYaml}${authYaml}${policyYaml} }\n`,
  );
  authHeaders = auth ? { authorization: `Bearer ${INGEST_TOKEN}` } : {};
  metricsHeaders = auth ? { authorization: `Bearer ${READ_TOKEN}` } : {};
  console.log(`--- authentication ${auth ? 'on (bearer token on every request)' : 'off'} ---`);

  const child = spawn(
    process.execPath,
    [
      ...(process.env.PROCESSOR_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--conditions=@decisiontrail/source',
      CHILD,
      configFile,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  const port = Number(new URL(url).port);
  // Never leave the processor running if the generator fails.
  const killChild = (): boolean => child.kill('SIGKILL');
  process.once('exit', killChild);

  // 1. sustained
  const spansPerRequest = BATCH + CHECKPOINT_SPANS;
  const total = sustained.length * spansPerRequest - (BATCH - (SPANS % BATCH || BATCH));
  const cpuBefore = cpuSeconds(child.pid!);
  const threadsBefore = threadCpuSeconds(child.pid!);
  const generatorBefore = process.cpuUsage();
  let t = performance.now();
  let next = 0;
  let refused = 0;
  const client = async (): Promise<void> => {
    while (next < sustained.length) {
      const body = sustained[next++]!;
      for (;;) {
        const status = await post(port, body);
        if (status === 200) break;
        if (status !== 429 && status !== 503) throw new Error(`HTTP ${status} under sustained load`);
        refused += 1; // 429/503: back off briefly and retry, as an OTLP exporter would
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const ackedMs = performance.now() - t;
  while ((await metric(url, STORED)) < total) await new Promise((r) => setTimeout(r, 100));
  const storedMs = performance.now() - t;
  const cpuPerSpan = ((cpuSeconds(child.pid!) - cpuBefore) * 1e6) / total;
  const threadsAfter = threadCpuSeconds(child.pid!);
  const generator = process.cpuUsage(generatorBefore);
  const byThread = [...threadsAfter]
    .map(([name, s]) => [name, ((s - (threadsBefore.get(name) ?? 0)) * 1e6) / total] as const)
    .filter(([, us]) => us >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  const ackedRate = Math.round(total / (ackedMs / 1000));
  const storedRate = Math.round(total / (storedMs / 1000));
  console.log(
    `sustained: ${total} spans acknowledged in ${(ackedMs / 1000).toFixed(2)} s = ${ackedRate} spans/s; ` +
      `stored and verified in ${(storedMs / 1000).toFixed(2)} s = ${storedRate} spans/s; ` +
      `processor CPU ${cpuPerSpan.toFixed(1)} µs per span` +
      (refused > 0 ? `; ${refused} requests answered 429/503 and retried` : ''),
  );
  console.log(
    `processor CPU per span by thread: ${byThread.map(([name, us]) => `${name} ${us.toFixed(1)} µs`).join(', ')}; ` +
      `the load generator (this process, same cores) ${((generator.user + generator.system) / total).toFixed(1)} µs per span`,
  );

  await markChildPhase(child);

  // 2. fixed offered load
  const interval = (LATENCY_BATCH / RATE) * 1000;
  const latencies: number[] = [];
  // When each acknowledgement was due, from the phase's start, in ms (with `latencies`, in answer order).
  const dueAt: number[] = [];
  let refusedOffered = 0;
  t = performance.now();
  const inflight: Promise<void>[] = [];
  // A request refused with 429/503 (the durable queue is full: the processor cannot keep up with the offered
  // rate) is retried after 50 ms, as an OTLP exporter would; its latency runs to the final 200.
  const send = async (body: Uint8Array, due: number): Promise<void> => {
    for (;;) {
      const status = await post(port, body);
      if (status === 200) break;
      if (status !== 429 && status !== 503) throw new Error(`HTTP ${status} at offered load`);
      refusedOffered += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
    latencies.push(performance.now() - due);
    dueAt.push(due - t);
  };
  for (let i = 0; i < offered.length; i += 1) {
    const due = t + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(offered[i]!, due));
  }
  await Promise.all(inflight);
  const achieved = (offered.length * LATENCY_BATCH) / ((performance.now() - t) / 1000);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `latency at ${RATE} spans/s offered (${LATENCY_BATCH}-span requests, ${offered.length} requests, achieved ${Math.round(achieved)} spans/s): ` +
      `ack p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms` +
      (refusedOffered > 0
        ? `; ${refusedOffered} requests answered 429/503 and retried (counted to their 200)`
        : ''),
  );
  console.log(stalls(dueAt, latencies));
  await markChildPhase(child);
  const allStored = total + offered.length * (LATENCY_BATCH + CHECKPOINT_SPANS);
  while ((await metric(url, STORED)) < allStored) await new Promise((r) => setTimeout(r, 100));
  const sinkSeconds = await metric(url, 'decisiontrail_processor_sink_latency_seconds_sum');
  const sinkWrites = await metric(url, 'decisiontrail_processor_sink_latency_seconds_count');
  console.log(
    `ClickHouse inserts: ${sinkWrites} writes, ${sinkSeconds.toFixed(1)} s in total (${((sinkSeconds / sinkWrites) * 1000).toFixed(0)} ms each)`,
  );
  const verified = await metric(url, 'decisiontrail_processor_spans_verified_total');
  const failed = await metric(url, 'decisiontrail_processor_spans_verification_failed_total');

  // 3. memory
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  console.log(
    `verified ${verified} spans, ${failed} failed verification; processor peak RSS ${(hwm / 1024).toFixed(0)} MiB`,
  );
  console.log(
    `load average during the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} cores)`,
  );

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  process.off('exit', killChild);
  return { auth, ackedRate, storedRate, cpuPerSpan, p50, p99, rssMiB: Math.round(hwm / 1024) };
}

/**
 * The offered phase's slow acknowledgements (over 100 ms) as stalls: requests due within 100 ms of each other, the
 * longest first, so a spike in the p99 can be set beside what the processor printed about its thread.
 */
function stalls(dueAt: readonly number[], latencies: readonly number[]): string {
  const slow = dueAt
    .map((due, i) => ({ due, latency: latencies[i]! }))
    .filter((request) => request.latency > 100)
    .sort((a, b) => a.due - b.due);
  const windows: { from: number; to: number; count: number; max: number }[] = [];
  for (const { due, latency } of slow) {
    const last = windows.at(-1);
    if (last !== undefined && due - last.to <= 100) {
      last.to = due;
      last.count += 1;
      last.max = Math.max(last.max, latency);
    } else windows.push({ from: due, to: due, count: 1, max: latency });
  }
  const shown = windows
    .sort((a, b) => b.max - a.max)
    .slice(0, 5)
    .map(
      (w) =>
        `${(w.from / 1000).toFixed(2)}–${(w.to / 1000).toFixed(2)} s: ${w.count} (max ${w.max.toFixed(0)} ms)`,
    );
  return `acks over 100 ms: ${slow.length} of ${latencies.length}${shown.length > 0 ? `; longest stalls, due at ${shown.join(', ')}` : ''}`;
}

/**
 * Has the processor child print how long its thread's event loop was held and its GC pauses since the last mark
 * (SIGUSR2, `processor-child.ts`), and gives it a moment to.
 */
async function markChildPhase(child: ChildProcess): Promise<void> {
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU seconds (user + system, every thread: the engine's too) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds per thread kind of a process, from /proc/<pid>/task/<tid>/stat, summed per name: the main thread
 * as `main`, the others by their name (the span workers, libuv's pool, the embedded engine's pools). Threads that ended during the
 * phase are missing here, so the sum can fall short of the process total.
 */
function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const { name: comm, seconds } of threadCpu(pid)) {
    // The processor names its threads (dt-…); Node's other threads are all `node`: V8's helpers (GC marking,
    // compiling).
    const name = comm === 'node' ? 'V8 helpers' : comm;
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/**
 * The receiver's whole access check (Host, Origin, bearer token digest and compare, scope) on one request,
 * in this process: what authentication adds per OTLP request, free of the run-to-run noise of the end-to-end
 * figures.
 */
async function accessCheckMicroseconds(): Promise<number> {
  const config = parseConfig(
    'processor: { auth: { tokens: [{ name: ingest, scopes: [ingest], env: T1 }, { name: metrics, scopes: [read], env: T2 }] } }',
    { env: {} },
  );
  const access = await HttpAccess.create(config.processor, { T1: INGEST_TOKEN, T2: READ_TOKEN });
  const req = {
    headers: { host: '127.0.0.1:4318', authorization: `Bearer ${INGEST_TOKEN}` },
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage;
  const need = { scope: 'ingest', openWithoutAuth: true } as const;
  const n = 200_000;
  for (let i = 0; i < 20_000; i += 1) access.check(req, need);
  const t = performance.now();
  for (let i = 0; i < n; i += 1) {
    if (access.check(req, need) !== undefined) throw new Error('the bench token was refused');
  }
  return ((performance.now() - t) * 1000) / n;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'dt-bench-processor-'));
  const dir = join(root, 'run');
  try {
    const { key, vkey } = testKey();
    const t = performance.now();
    const sustained = await signedBodies(SPANS, BATCH, key);
    const latencySpans = RATE * SECONDS;
    const offered = await signedBodies(latencySpans, LATENCY_BATCH, key);
    const bodyBytes = sustained.reduce((s, b) => s + b.length, 0);
    console.log(
      `generated ${SPANS} + ${latencySpans} ${args.unsigned ? 'unsigned' : 'signed'} spans in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(${(bodyBytes / sustained.length / 1024).toFixed(0)} KiB per ${BATCH}-span request, ${(bodyBytes / SPANS).toFixed(0)} B/span)`,
    );
    if (AUTH !== 'off') {
      const us = await accessCheckMicroseconds();
      console.log(
        `access check with a bearer token: ${us.toFixed(2)} µs per request = ${((us * 1000) / (BATCH + 1)).toFixed(1)} ns per span at ${BATCH}-span requests`,
      );
    }
    const modes: boolean[] =
      AUTH === 'compare'
        ? Array.from({ length: ROUNDS }, (_, round) =>
            round % 2 === 0 ? [false, true] : [true, false],
          ).flat()
        : Array.from({ length: ROUNDS }, () => AUTH === 'on');
    const runs: RunFigures[] = [];
    for (const auth of modes) runs.push(await runOnce(dir, vkey, auth, sustained, offered));
    if (AUTH === 'compare') {
      const summary = (auth: boolean): RunFigures[] => runs.filter((r) => r.auth === auth);
      const line = (auth: boolean): string => {
        const of = summary(auth);
        return (
          `auth ${auth ? 'on ' : 'off'}: stored ${of.map((r) => r.storedRate).join(', ')} spans/s ` +
          `(median ${median(of.map((r) => r.storedRate))}), acknowledged median ${median(of.map((r) => r.ackedRate))}, ` +
          `processor CPU ${of.map((r) => r.cpuPerSpan.toFixed(1)).join(', ')} µs/span (median ${median(of.map((r) => r.cpuPerSpan)).toFixed(1)}), ` +
          `ack p50/p99 median ${median(of.map((r) => r.p50)).toFixed(1)}/${median(of.map((r) => r.p99)).toFixed(1)} ms, ` +
          `peak RSS median ${median(of.map((r) => r.rssMiB))} MiB`
        );
      };
      const ratio = (pick: (r: RunFigures) => number): string =>
        ((median(summary(true).map(pick)) / median(summary(false).map(pick))) * 100).toFixed(1);
      console.log(line(false));
      console.log(line(true));
      console.log(
        `with authentication, medians of ${ROUNDS}: stored throughput ${ratio((r) => r.storedRate)} % of without, ` +
          `processor CPU per span ${ratio((r) => r.cpuPerSpan)} % of without`,
      );
    }
    agent.destroy();
  } finally {
    if (args.keep) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

await main();
