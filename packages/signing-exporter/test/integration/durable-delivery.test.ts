import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DurableSpanProcessor,
  FileCheckpointWitness,
  canonicalSpanBytes,
  generateSigningKeyFile,
  readWitnessFile,
  verifySpans,
  type SigningKey,
} from '@decisiontrail/signing-exporter';
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

  it('bounded disk: non-audit spans are dropped and counted; audit spans are refused loudly', async () => {
    const failing = new InMemorySpanExporter();
    await failing.shutdown(); // an exporter that fails every export
    const processor = new DurableSpanProcessor({
      exporter: failing,
      key,
      spoolDir: join(dir, 'full'),
      witness: null,
      maxSpoolBytes: 20_000,
      auditReserveFraction: 0.25,
      batchSize: 1000,
      initialRetryMillis: 10_000,
    });
    const tracer = provider(processor).getTracer('full');
    const audit = (): void =>
      tracer
        .startSpan('audit.decision', {
          attributes: { 'audit.record.type': 'decision', pad: 'x'.repeat(500) },
        })
        .end();
    const other = (): void => tracer.startSpan('GET /health', { attributes: { pad: 'x'.repeat(500) } }).end();
    let auditAccepted = 0;
    for (;;) {
      other();
      if (processor.stats.droppedNonAuditSpans > 0) break;
    }
    let error: unknown;
    for (;;) {
      try {
        audit();
        auditAccepted += 1;
      } catch (caught) {
        error = caught;
        break;
      }
    }
    expect(auditAccepted).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'SPOOL_FULL' });
    expect(processor.stats.rejectedAuditSpans).toBe(1);
    expect(processor.spoolBytes).toBeLessThanOrEqual(20_000);
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
