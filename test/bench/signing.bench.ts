// Throughput of the signing path, the SigningSpanExporter's overhead, and the durable spool.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/signing.bench.ts [--spans 20000] [--rounds 5]
//
// All figures are single-threaded (one core). Spans are decision spans of about 1 KB canonical JSON, made once
// by a real TracerProvider. For each figure the median of --rounds timed rounds is printed, after one warm-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import {
  StreamSigner,
  canonicalJson,
  canonicalSpan,
  canonicalSpanBytes,
  FileCheckpointWitness,
  generateSigningKey,
  leafHash,
} from '@decisiontrail/core';
import {
  DurableSpanProcessor,
  SigningSpanExporter,
  spanRecordFromReadableSpan,
} from '@decisiontrail/signing-exporter';
import { Spool, encodeSpan } from '@decisiontrail/signing-exporter/internal';

const { values: args } = parseArgs({
  options: { spans: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
});
const SPANS = Number(args.spans);
const ROUNDS = Number(args.rounds);
const BATCH = 512;

async function decisionSpans(count: number): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'loan-api',
      'service.version': '1.4.2',
      'host.name': 'bench',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('@decisiontrail/instrumentation', '0.1.0');
  for (let i = 0; i < count; i++) {
    tracer
      .startSpan('chat gpt-4o-mini', {
        attributes: {
          'audit.record.type': 'decision',
          'audit.decision.id': `019ab3f0-8c1e-7c3a-9d2b-${String(i).padStart(12, '0')}`,
          'audit.decision.type': 'classification',
          'audit.decision.outcome': i % 3 === 0 ? 'deny' : 'approve',
          'audit.decision.confidence': 0.5 + (i % 50) / 100,
          'audit.decision.risk_level': 'high',
          'audit.decision.purpose': 'credit-decision',
          'audit.decision.explanation': 'Debt-to-income above threshold; stable employment history. '.repeat(
            5,
          ),
          'audit.model.id': 'credit-scorer',
          'audit.model.version': '3.2.1',
          'audit.model.weights_hash': 'a'.repeat(64),
          'audit.input.hash': 'b'.repeat(64),
          'audit.input.hash_key_id': 'hmac-2026-01',
          'audit.input.size': 2048,
          'audit.output.hash': 'c'.repeat(64),
          'audit.subject.id': `subject-${i % 997}`,
          'audit.actor.id': 'svc-underwriting',
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 512,
          'gen_ai.usage.output_tokens': 64,
        },
      })
      .end();
  }
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Runs `body` once to warm up, then ROUNDS times; returns the median seconds. CPU figures use this
 * process's CPU time (user + system), which other load on the machine inflates far less than wall
 * time; disk figures use wall time, because waiting for fsync is the point.
 */
async function timed(body: () => void | Promise<void>, clock: 'cpu' | 'wall' = 'cpu'): Promise<number> {
  await body();
  const seconds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const wall = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await body();
    const used = process.cpuUsage(cpu);
    seconds.push(
      clock === 'cpu' ? (used.user + used.system) / 1e6 : Number(process.hrtime.bigint() - wall) / 1e9,
    );
  }
  return median(seconds);
}

const rate = (count: number, seconds: number): string =>
  `${Math.round(count / seconds).toLocaleString('en-US')} spans/s`;
const micros = (count: number, seconds: number): string => `${((seconds / count) * 1e6).toFixed(2)} µs/span`;

const spans = await decisionSpans(SPANS);
const records = spans.map(spanRecordFromReadableSpan);
const key = generateSigningKey();
const canonicalBytes = canonicalSpanBytes(records[0]!).length;
console.log(
  `decisiontrail signing benchmark — Node ${process.version}, ${SPANS} spans, ${ROUNDS} rounds (median); load average ${loadavg()[0]?.toFixed(1)}`,
);
console.log(
  `canonical span size: ${canonicalBytes} bytes; spool record size: ${encodeSpan(spans[0]!, {}).length} bytes`,
);
console.log('');

// 1. The signing path, piece by piece and whole.
const toRecord = await timed(() => {
  for (const span of spans) spanRecordFromReadableSpan(span);
});
const canonical = await timed(() => {
  for (const record of records) canonicalJson(canonicalSpan(record));
});
const leaves = await timed(() => {
  for (const record of records) leafHash(record);
});
const signatures = await timed(() => {
  for (let i = 0; i < 2000; i++)
    key.signer.sign(`decisiontrail.dev/stream/bench\n${i}\n${'A'.repeat(43)}=\n`);
});
const signingPath = await timed(() => {
  const signer = new StreamSigner({ key });
  for (let i = 0; i < spans.length; i++) {
    signer.append(leafHash(spanRecordFromReadableSpan(spans[i]!)));
    if ((i + 1) % BATCH === 0) signer.checkpoint();
  }
  signer.checkpoint();
});
console.log('signing path (one core)');
console.log(`  ReadableSpan → SpanRecord          ${micros(SPANS, toRecord)}`);
console.log(`  RFC 8785 canonical JSON            ${micros(SPANS, canonical)}`);
console.log(`  canonical JSON + SHA-256 leaf      ${micros(SPANS, leaves)}  (${rate(SPANS, leaves)})`);
console.log(`  Ed25519 checkpoint signature       ${((signatures / 2000) * 1e6).toFixed(1)} µs/signature`);
console.log(
  `  whole path: record + canonical + leaf + Merkle + checkpoint per ${BATCH}:  ${rate(SPANS, signingPath)} (${micros(SPANS, signingPath)})`,
);

// 2. SigningSpanExporter over the bare wrapped exporter.
class DiscardingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}
class ProtobufEncodingExporter implements SpanExporter {
  bytes = 0;
  export(batch: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.bytes += ProtobufTraceSerializer.serializeRequest(batch)?.length ?? 0;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}
async function exportAll(exporter: SpanExporter): Promise<void> {
  for (let i = 0; i < spans.length; i += BATCH) {
    await new Promise<void>((resolve) => exporter.export(spans.slice(i, i + BATCH), () => resolve()));
  }
}
const bareDiscard = await timed(() => exportAll(new DiscardingExporter()));
const signedDiscard = await timed(() =>
  exportAll(new SigningSpanExporter({ exporter: new DiscardingExporter(), key, witness: null })),
);
const bareProtobuf = await timed(() => exportAll(new ProtobufEncodingExporter()));
const signedProtobuf = await timed(() =>
  exportAll(new SigningSpanExporter({ exporter: new ProtobufEncodingExporter(), key, witness: null })),
);
console.log('');
console.log(`SigningSpanExporter overhead (batches of ${BATCH})`);
console.log(
  `  wrapping an exporter that discards:        bare ${micros(SPANS, bareDiscard)}, signed ${micros(SPANS, signedDiscard)}`,
);
console.log(
  `  wrapping an OTLP/protobuf-encoding exporter: bare ${micros(SPANS, bareProtobuf)}, signed ${micros(SPANS, signedProtobuf)} → +${(((signedProtobuf - bareProtobuf) / SPANS) * 1e6).toFixed(2)} µs/span (${rate(SPANS, signedProtobuf)} signed)`,
);

// 3. Durable spool: append throughput with an fsync per batch.
const dir = mkdtempSync(join(tmpdir(), 'signing-bench-'));
try {
  const payloads = spans.map((span) => encodeSpan(span, {}));
  let run = 0;
  const appendWithFsync = (every: number, count: number) => () => {
    const spool = new Spool(join(dir, `raw-${every}-${run++}`));
    for (let i = 0; i < count; i++) {
      spool.append(payloads[i % payloads.length]!);
      if ((i + 1) % every === 0) spool.sync();
    }
    spool.close();
  };
  const rawBatch = await timed(appendWithFsync(BATCH, SPANS), 'wall');
  const rawBatchCpu = await timed(appendWithFsync(BATCH, SPANS));
  const perSpanCount = Math.min(SPANS, 2000);
  const rawSingle = await timed(appendWithFsync(1, perSpanCount), 'wall');
  // DurableSpanProcessor: the onEnd loop is synchronous (the shipper cannot run inside it), so its
  // time is exactly the cost the application pays; shipping to a discarding exporter is timed apart.
  const onEndWall: number[] = [];
  const onEndCpu: number[] = [];
  const drainWall: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const spoolDir = join(dir, `processor-${run++}`);
    const processor = new DurableSpanProcessor({
      exporter: new DiscardingExporter(),
      key,
      spoolDir,
      witness: new FileCheckpointWitness(join(spoolDir, 'witness.jsonl')),
      batchSize: BATCH,
      sealIntervalMillis: 60_000,
    });
    const wall = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (const span of spans) processor.onEnd(span);
    const used = process.cpuUsage(cpu);
    const loopEnd = process.hrtime.bigint();
    await processor.shutdown();
    if (round === 0) continue; // warm-up
    onEndWall.push(Number(loopEnd - wall) / 1e9);
    onEndCpu.push((used.user + used.system) / 1e6);
    drainWall.push(Number(process.hrtime.bigint() - loopEnd) / 1e9);
  }
  console.log('');
  console.log(`durable spool (${payloads[0]!.length}-byte records)`);
  console.log(
    `  Spool.append, fsync per ${BATCH}-span batch:   ${rate(SPANS, rawBatch)} wall, ${rate(SPANS, rawBatchCpu)} per CPU-second`,
  );
  console.log(`  Spool.append, fsync per span:              ${rate(perSpanCount, rawSingle)}`);
  console.log(
    `  DurableSpanProcessor.onEnd (encode + leaf + Merkle + append; checkpoint + fsync per ${BATCH}): ${rate(SPANS, median(onEndWall))} wall, ${rate(SPANS, median(onEndCpu))} per CPU-second`,
  );
  console.log(`  then shipping the spool to a discarding exporter:  ${rate(SPANS, median(drainWall))} wall`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
