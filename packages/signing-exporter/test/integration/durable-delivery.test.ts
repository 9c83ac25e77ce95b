import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileCheckpointWitness,
  canonicalSpanBytes,
  generateSigningKeyFile,
  readWitnessFile,
  verifySpans,
  type SigningKey,
} from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { Spool, encodeSpan } from '@decisiontrail/signing-exporter/internal';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { makeSpans } from '../support/signed-stream.ts';

let dir: string;
let key: SigningKey;
let keyPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signing-exporter-durable-'));
  keyPath = join(dir, 'signing.pem');
  key = await generateSigningKeyFile(keyPath);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function provider(processor: DurableSpanProcessor): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'durable-test' }),
    spanProcessors: [processor],
  });
}

/** An exporter that fails every export until `up` is set, then hands spans to `target`. */
class SwitchableExporter implements SpanExporter {
  up = false;
  readonly #target: SpanExporter;
  constructor(target: SpanExporter) {
    this.#target = target;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.up) this.#target.export(spans, done);
    else done({ code: ExportResultCode.FAILED, error: new Error('target down') });
  }
  shutdown(): Promise<void> {
    return this.#target.shutdown();
  }
}

function nanos(time: ReadableSpan['endTime']): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('DurableSpanProcessor', () => {
  it('ships signed spans over OTLP/protobuf; what arrives on the wire verifies', async () => {
    const server = new OtlpTestServer();
    await server.start();
    const processor = new DurableSpanProcessor({
      exporter: new OTLPTraceExporter({ url: server.url }),
      key,
      spoolDir: join(dir, 'wire'),
      witness: null,
      batchSize: 8,
    });
    const tracerProvider = provider(processor);
    const tracer = tracerProvider.getTracer('wire-test', '1.0.0');
    for (let i = 0; i < 30; i++) {
      tracer
        .startSpan('audit.decision', {
          attributes: {
            'audit.record.type': 'decision',
            'audit.decision.confidence': 0.25 + i / 100,
            'audit.input.size': 100 + i,
            flags: [true, false],
            bytes: new Uint8Array([i, 255]),
          },
        })
        .end();
    }
    await tracerProvider.forceFlush();
    const report = verifySpans(server.records, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(1);
    expect(report.streams[0]).toMatchObject({ verifiedSize: 30, sealedSize: 30 });
    expect(processor.spoolBytes).toBe(0);
    await tracerProvider.shutdown();
    await server.stop();
  });

  it('outage: the spool grows while the target is down and drains, losing nothing, when it returns', async () => {
    const server = new OtlpTestServer();
    await server.reservePort();
    const processor = new DurableSpanProcessor({
      exporter: new OTLPTraceExporter({ url: server.url, timeoutMillis: 2000 }),
      key,
      spoolDir: join(dir, 'outage'),
      witness: null,
      batchSize: 10,
      sealIntervalMillis: 20,
      initialRetryMillis: 20,
      maxRetryMillis: 100,
    });
    const tracerProvider = provider(processor);
    const tracer = tracerProvider.getTracer('outage-test');
    const ended: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) {
        const span = tracer.startSpan('audit.decision', {
          attributes: { 'audit.record.type': 'decision', round },
        });
        span.end();
        ended.push(span.spanContext().spanId);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until(() => processor.stats.failedExports >= 2, 10_000);
    const grown = processor.spoolBytes;
    expect(grown).toBeGreaterThan(100 * 300);
    expect(processor.stats.shippedSpans).toBe(0);
    await server.start();
    await until(() => processor.spoolBytes === 0, 20_000);
    const received = new Set(server.records.map((record) => record.spanId));
    expect(ended.filter((id) => !received.has(id))).toEqual([]);
    const report = verifySpans(server.records, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]?.verifiedSize).toBe(100);
    await tracerProvider.shutdown();
    await server.stop();
  });

  it('bad input: corrupt and torn spool records give clear errors; intact records are still delivered', async () => {
    const spoolDir = join(dir, 'corrupt');
    const spans = await makeSpans(6);
    const spool = new Spool(spoolDir);
    for (const span of spans.slice(0, 3)) spool.append(encodeSpan(span, {}));
    spool.roll();
    for (const span of spans.slice(3)) spool.append(encodeSpan(span, {}));
    spool.close();
    const [first, second] = (await readdir(spoolDir)).sort();
    // Flip a payload byte of the middle record of the first segment (CRC mismatch).
    const firstPath = join(spoolDir, first!);
    const bytes = await readFile(firstPath);
    const recordLength = bytes.readUInt32LE(0) + 8;
    bytes[recordLength + 20]! ^= 0xff;
    await writeFile(firstPath, bytes);
    // Cut the last record of the second segment in half (a torn write).
    const secondPath = join(spoolDir, second!);
    const secondSize = (await readFile(secondPath)).length;
    await truncate(secondPath, secondSize - 40);

    for (let attempt = 0; attempt < 2; attempt++) {
      // Starting twice over the same directory must not fail (no crash loop).
      const memory = new InMemorySpanExporter();
      const processor = new DurableSpanProcessor({ exporter: memory, key, spoolDir, witness: null });
      await processor.forceFlush();
      const shipped = memory.getFinishedSpans().map((span) => span.spanContext().spanId);
      if (attempt === 0) {
        expect(processor.stats.corruptRecords).toBe(1);
        expect(processor.stats.truncatedSegments).toBe(1);
        expect(shipped.sort()).toEqual(
          [spans[0], spans[2], spans[3], spans[4]].map((span) => span!.spanContext().spanId).sort(),
        );
      } else {
        expect(shipped).toEqual([]);
      }
      await processor.shutdown();
    }
  });

  it('bounded disk: non-audit spans are dropped and counted; audit spans that cannot be kept are dropped without a throw, counted by reason, and accounted for by a signed audit.loss record once there is room', async () => {
    const server = new OtlpTestServer();
    await server.start();
    const target = new SwitchableExporter(new OTLPTraceExporter({ url: server.url }));
    const processor = new DurableSpanProcessor({
      exporter: target,
      key,
      spoolDir: join(dir, 'full'),
      witness: null,
      maxSpoolBytes: 20_000,
      auditReserveFraction: 0.25,
      batchSize: 1000,
      // Retries only when the test flushes: nothing here depends on a timer firing.
      initialRetryMillis: 600_000,
    });
    const tracerProvider = provider(processor);
    const tracer = tracerProvider.getTracer('full');
    const audit = (type = 'decision'): ReadableSpan => {
      const span = tracer.startSpan('audit.decision', {
        attributes: { 'audit.record.type': type, pad: 'x'.repeat(500) },
      });
      span.end();
      return span as unknown as ReadableSpan;
    };
    const other = (): void => tracer.startSpan('GET /health', { attributes: { pad: 'x'.repeat(500) } }).end();
    for (;;) {
      other();
      if (processor.stats.droppedNonAuditSpans > 0) break;
    }
    let auditAccepted = 0;
    const dropped: ReadableSpan[] = [];
    expect(() => {
      for (;;) {
        const admitted = processor.canAccept();
        const span = audit();
        if (processor.stats.droppedAuditSpans > 0) {
          // What canAccept() admits is kept: the fail-closed policy relies on it.
          expect(admitted).toBe(false);
          dropped.push(span);
          break;
        }
        auditAccepted += 1;
      }
      expect(processor.canAccept()).toBe(false);
      dropped.push(audit('oversight'), audit());
    }).not.toThrow();
    expect(auditAccepted).toBeGreaterThan(0);
    expect(processor.stats).toMatchObject({
      droppedAuditSpans: 3,
      droppedAuditSpansByReason: { spool_full: 3, spool_closed: 0 },
      lossRecords: 0,
    });
    expect(processor.spoolBytes).toBeLessThanOrEqual(20_000);
    const spooled = processor.stats.spooledSpans;

    target.up = true;
    await processor.forceFlush();
    expect(processor.stats.lossRecords).toBe(1);
    expect(processor.spoolBytes).toBe(0);
    expect(processor.canAccept()).toBe(true);

    const losses = server.records.filter((record) => record.name === 'audit.loss');
    expect(losses).toHaveLength(1);
    const loss = losses[0]!;
    expect(loss.attributes).toMatchObject({
      'audit.record.type': 'loss',
      'audit.loss.count': '3',
      'audit.loss.decision_count': '2',
      'audit.loss.reason': 'spool_full',
      // The lost records lie just before it: it takes the next sequence number after every span kept.
      'audit.integrity.seq': String(spooled),
    });
    // From the first drop to the last (the SDK's clock is not monotonic between spans, so by value).
    const dropTimes = dropped.map((span) => BigInt(nanos(span.endTime))).sort((a, b) => (a < b ? -1 : 1));
    expect(loss.startTimeUnixNano).toBe(String(dropTimes[0]));
    expect(loss.endTimeUnixNano).toBe(String(dropTimes[2]));
    // Signed like any leaf: the stream verifies up to and including it.
    const report = verifySpans(server.records, { publicKeys: [key.verifierKey] });
    expect(report.streams[0]).toMatchObject({ sealedSize: spooled + 1, verifiedSize: spooled + 1 });
    // ...and verification reports the loss: never intact.
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings).toEqual([
      expect.objectContaining({
        code: 'records-lost',
        tamper: true,
        count: 3,
        seq: spooled,
        spanId: loss.spanId,
        message: expect.stringMatching(
          /^3 audit record\(s\) \(2 decision\(s\)\) lost to spool_full between /u,
        ),
      }),
    ]);
    await tracerProvider.shutdown();
    await server.stop();
  });

  it('shutdown: a loss still pending is recorded even in a full spool; spans after shutdown are dropped and counted, never thrown', async () => {
    const spoolDir = join(dir, 'full-at-shutdown');
    const target = new SwitchableExporter(new InMemorySpanExporter());
    const processor = new DurableSpanProcessor({
      exporter: target,
      key,
      spoolDir,
      witness: null,
      maxSpoolBytes: 8_000,
      batchSize: 1000,
      initialRetryMillis: 600_000,
      exportTimeoutMillis: 200,
    });
    const tracerProvider = provider(processor);
    const tracer = tracerProvider.getTracer('full');
    const audit = (): void =>
      tracer
        .startSpan('audit.decision', {
          attributes: { 'audit.record.type': 'decision', pad: 'x'.repeat(500) },
        })
        .end();
    while (processor.stats.droppedAuditSpans === 0) audit();
    audit();
    expect(processor.stats.droppedAuditSpansByReason.spool_full).toBe(2);
    const spooled = processor.stats.spooledSpans;
    await processor.shutdown();
    expect(processor.stats.lossRecords).toBe(1);
    expect(() => audit()).not.toThrow();
    expect(processor.stats.droppedAuditSpansByReason.spool_closed).toBe(1);
    expect(processor.canAccept()).toBe(false);

    // The next process ships what was left, loss record included.
    const received = new InMemorySpanExporter();
    const next = new DurableSpanProcessor({ exporter: received, key, spoolDir, witness: null });
    await next.forceFlush();
    const loss = received.getFinishedSpans().find((span) => span.name === 'audit.loss');
    expect(loss?.attributes).toMatchObject({
      'audit.loss.count': 2,
      'audit.loss.decision_count': 2,
      'audit.loss.reason': 'spool_full',
      'audit.integrity.seq': spooled,
    });
    await next.shutdown();
  });

  it('crash: spans that ended before SIGKILL are all delivered after restart, none twice', async () => {
    const spoolDir = join(dir, 'crash');
    const server = new OtlpTestServer();
    await server.start();
    // The collector accepts the first requests, then fails: part of the spool is acknowledged.
    let accepted = 0;
    const child = spawn(
      process.execPath,
      [
        '--conditions=@decisiontrail/source',
        fileURLToPath(new URL('./fixtures/crash-producer.ts', import.meta.url)),
        spoolDir,
        keyPath,
        server.url,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const ended: string[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      ended.push(...lines);
      if (server.requests >= 3 && accepted === 0) {
        accepted = server.requests;
        server.status = 503;
      }
    });
    await until(() => ended.length >= 400 && server.status === 503, 30_000);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const beforeRestart = new Set(server.records.map((record) => record.spanId));
    expect(beforeRestart.size).toBeGreaterThan(0);

    server.status = 200;
    const processor = new DurableSpanProcessor({
      exporter: new OTLPTraceExporter({ url: server.url }),
      key,
      spoolDir,
      witness: new FileCheckpointWitness(join(spoolDir, 'witness.jsonl')),
    });
    await processor.forceFlush();
    await processor.shutdown();
    await server.stop();

    const received = new Map<string, number>();
    for (const record of server.records) received.set(record.spanId, (received.get(record.spanId) ?? 0) + 1);
    expect(ended.filter((id) => !received.has(id))).toEqual([]);
    // Duplicates can only come from a segment re-sent after the kill, and are byte-identical copies,
    // so deduplication by span id (what the store does) leaves each span exactly once.
    const byId = new Map<string, string>();
    for (const record of server.records) {
      const canonical = Buffer.from(canonicalSpanBytes(record)).toString('hex');
      expect(byId.get(record.spanId) ?? canonical).toBe(canonical);
      byId.set(record.spanId, canonical);
    }
    const deduped = [...new Map(server.records.map((record) => [record.spanId, record])).values()];
    const witnessCheckpoints = await readWitnessFile(join(spoolDir, 'witness.jsonl'));
    expect(witnessCheckpoints.length).toBeGreaterThan(0);
    const report = verifySpans(deduped, { publicKeys: [key.verifierKey], witnessCheckpoints });
    // The killed process's stream is sealed by the restart's final checkpoint: nothing unsealed, nothing
    // missing, and the store holds every checkpoint the witness saw (no truncation).
    expect(report.streams.flatMap((stream) => stream.findings)).toEqual([]);
    expect(report.streams[0]?.verifiedSize).toBeGreaterThanOrEqual(ended.length);
  });
});
