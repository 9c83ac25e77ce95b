// Throughput, acknowledgement latency and memory of the processor (`decisiontrail serve`) on loopback.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/processor.bench.ts [--spans 300000]
//       [--batch 500] [--concurrency 8] [--rate 10000] [--seconds 20] [--drain-batch 10000] [--keep]
//
// The processor runs in a child process (packages/processor/test/support/processor-child.ts) with the embedded
// engine, verification on and the write-ahead log fsynced per group of requests; this process is the load
// generator. Spans are real SDK decision spans signed by the real SigningSpanExporter (each OTLP request is one
// exporter batch: its leaves plus a checkpoint span), encoded as OTLP protobuf before the clock starts.
//   1. sustained: every request of a `--spans` stream sent by `--concurrency` clients as fast as the receiver
//      acknowledges; the rate is spans stored (verified, in otel_traces) over the time from the first request
//      to the last span committed, and the acknowledged rate over the time to the last 200;
//   2. latency: a second stream offered open-loop at `--rate` spans/s for `--seconds` (requests of 100 spans
//      sent on schedule whether or not earlier ones were answered); latency is scheduled send → 200;
//   3. memory: the child's peak RSS (VmHWM) over both phases.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  makeDecisionSpans,
  signBatches,
  testKey,
} from '../../packages/processor/test/support/signed-batches.ts';
import { toProtobuf } from '../../packages/processor/test/support/sdk-spans.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '300000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    'drain-batch': { type: 'string', default: '10000' },
    keep: { type: 'boolean', default: false },
  },
});
const SPANS = Number(args.spans);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const LATENCY_BATCH = 100;

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
  for (let done = 0; done < count; done += chunk)
    spans.push(...(await makeDecisionSpans(Math.min(chunk, count - done))));
  for (const b of await signBatches(spans, key, batch)) bodies.push(toProtobuf(b));
  return bodies;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

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
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
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
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

const STORED = 'decisiontrail_processor_spans_stored_total{sink="clickhouse"}';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dt-bench-processor-'));
  try {
    const { key, vkey } = testKey();
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'bench.vkey'), `${vkey}\n`);
    const configFile = join(dir, 'decisiontrail.yaml');
    writeFileSync(
      configFile,
      'storage: { dataDir: data }\nkeys: { dir: keys }\n' +
        `processor: { receiver: { port: 0 }, queue: { drainBatchSpans: ${Number(args['drain-batch'])} } }\n`,
    );

    let t = performance.now();
    const sustained = await signedBodies(SPANS, BATCH, key);
    const latencySpans = RATE * SECONDS;
    const offered = await signedBodies(latencySpans, LATENCY_BATCH, key);
    const bodyBytes = sustained.reduce((s, b) => s + b.length, 0);
    console.log(
      `generated ${SPANS} + ${latencySpans} signed spans in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(${(bodyBytes / sustained.length / 1024).toFixed(0)} KiB per ${BATCH}-span request, ${(bodyBytes / SPANS).toFixed(0)} B/span)`,
    );

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
    process.once('exit', () => child.kill('SIGKILL'));

    // 1. sustained
    const spansPerRequest = BATCH + 1;
    const total = sustained.length * spansPerRequest - (BATCH - (SPANS % BATCH || BATCH));
    t = performance.now();
    let next = 0;
    let refused = 0;
    const client = async (): Promise<void> => {
      while (next < sustained.length) {
        const body = sustained[next++]!;
        for (;;) {
          const status = await post(port, body);
          if (status === 200) break;
          refused += 1; // 429/503: back off briefly and retry, as an OTLP exporter would
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const ackedMs = performance.now() - t;
    while ((await metric(url, STORED)) < total) await new Promise((r) => setTimeout(r, 100));
    const storedMs = performance.now() - t;
    console.log(
      `sustained: ${total} spans acknowledged in ${(ackedMs / 1000).toFixed(2)} s = ${Math.round(total / (ackedMs / 1000))} spans/s; ` +
        `stored and verified in ${(storedMs / 1000).toFixed(2)} s = ${Math.round(total / (storedMs / 1000))} spans/s` +
        (refused > 0 ? `; ${refused} requests answered 429/503 and retried` : ''),
    );

    // 2. fixed offered load
    const interval = (LATENCY_BATCH / RATE) * 1000;
    const latencies: number[] = [];
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < offered.length; i += 1) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(
        post(port, offered[i]!).then((status) => {
          if (status !== 200) throw new Error(`HTTP ${status} at offered load`);
          latencies.push(performance.now() - due);
        }),
      );
    }
    await Promise.all(inflight);
    const achieved = (offered.length * LATENCY_BATCH) / ((performance.now() - start) / 1000);
    console.log(
      `latency at ${RATE} spans/s offered (${LATENCY_BATCH}-span requests, ${offered.length} requests, achieved ${Math.round(achieved)} spans/s): ` +
        `ack p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    const allStored = total + offered.length * (LATENCY_BATCH + 1);
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
    agent.destroy();
  } finally {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
