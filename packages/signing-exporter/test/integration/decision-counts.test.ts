import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, verifySpans, type SpanRecord } from '@decisiontrail/core';
import {
  DurableSpanProcessor,
  SigningSpanExporter,
  spanRecordFromReadableSpan,
} from '@decisiontrail/signing-exporter';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signing-exporter-counts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const key = generateSigningKey();

/** A decision as a test makes it: the attributes that name its model, and the model the store files it under. */
interface DecisionSpec {
  attributes: Record<string, string>;
  /** `model id/version` as audit_decisions derives it (audit.model.id, else response model, else request model). */
  storedAs: string;
}

const SPECS: DecisionSpec[] = [
  {
    attributes: { 'audit.model.id': 'credit-scorer', 'audit.model.version': '3' },
    storedAs: 'credit-scorer/3',
  },
  { attributes: { 'audit.model.id': 'fraud', 'audit.model.version': '1' }, storedAs: 'fraud/1' },
  {
    attributes: { 'gen_ai.request.model': 'gpt-x', 'gen_ai.response.model': 'gpt-x-2025-01' },
    storedAs: 'gpt-x-2025-01/',
  },
  { attributes: { 'gen_ai.request.model': 'claude-y' }, storedAs: 'claude-y/' },
  { attributes: {}, storedAs: '/' },
];

function tally(specs: readonly DecisionSpec[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const spec of specs) counts[spec.storedAs] = (counts[spec.storedAs] ?? 0) + 1;
  return counts;
}

function countsOf(records: readonly SpanRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records.filter((r) => r.name === 'audit.count')) {
    const model = `${record.attributes['audit.model.id']}/${record.attributes['audit.model.version']}`;
    // Running totals: the latest record of a model holds its count.
    counts[model] = Number(record.attributes['audit.count.decisions']);
  }
  return counts;
}

function hrNanos(time: ReadableSpan['endTime']): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

function seqOf(record: SpanRecord): number {
  return Number(record.attributes['audit.integrity.seq']);
}

/** Keeps what it receives past shutdown (InMemorySpanExporter forgets its spans when shut down). */
class KeptSpans implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans.push(...spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  getFinishedSpans(): ReadableSpan[] {
    return this.spans;
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function provider(processor: SpanProcessor): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'count-test' }),
    spanProcessors: [processor],
  });
}

describe('decision counts', () => {
  it('SigningSpanExporter: running totals per model (as the store names the model) in signed audit.count records after the decisions they count', async () => {
    const memory = new KeptSpans();
    const exporter = new SigningSpanExporter({
      exporter: memory,
      key,
      witness: null,
      countIntervalMillis: 3_600_000,
    });
    const tracerProvider = provider(new SimpleSpanProcessor({ exporter }));
    const tracer = tracerProvider.getTracer('counts');
    const made: DecisionSpec[] = [];
    const decide = (spec: DecisionSpec): void => {
      tracer
        .startSpan('decide', { attributes: { 'audit.record.type': 'decision', ...spec.attributes } })
        .end();
      made.push(spec);
    };
    for (const i of [0, 0, 1, 0, 2, 3, 4, 1, 2]) decide(SPECS[i]!);
    tracer.startSpan('audit.oversight', { attributes: { 'audit.record.type': 'oversight' } }).end();
    tracer.startSpan('GET /health').end();
    await tracerProvider.forceFlush();
    // Within the interval nothing is recorded yet, not even at a flush.
    expect(memory.getFinishedSpans().filter((s) => s.name === 'audit.count')).toHaveLength(0);
    const exported = memory.getFinishedSpans().length;
    // Shutting down records the counts, with a checkpoint of their own.
    await tracerProvider.shutdown();

    const records = memory.getFinishedSpans().map(spanRecordFromReadableSpan);
    expect(countsOf(records)).toEqual(tally(made));
    const counts = records.filter((r) => r.name === 'audit.count');
    expect(counts).toHaveLength(Object.keys(tally(made)).length);
    const lastDecision = Math.max(
      ...records.filter((r) => r.attributes['audit.record.type'] === 'decision').map(seqOf),
    );
    expect(Math.min(...counts.map(seqOf))).toBeGreaterThan(lastDecision);
    expect(counts.every((r) => r.attributes['audit.record.type'] === 'count')).toBe(true);

    expect(records.slice(exported).map((r) => r.name)).toEqual([
      ...counts.map(() => 'audit.count'),
      'audit.checkpoint',
    ]);
    // Signed like any other leaf: the stream verifies with the count records in it.
    const report = verifySpans(records, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.verifiedSize).toBe(records.filter((r) => r.name !== 'audit.checkpoint').length);
  });

  it('SigningSpanExporter: with a zero interval every batch with decisions ends with their counts', async () => {
    const memory = new InMemorySpanExporter();
    const exporter = new SigningSpanExporter({
      exporter: memory,
      key,
      witness: null,
      countIntervalMillis: 0,
    });
    const tracerProvider = provider(new SimpleSpanProcessor({ exporter }));
    const tracer = tracerProvider.getTracer('counts');
    for (let i = 0; i < 3; i++) {
      tracer
        .startSpan('decide', { attributes: { 'audit.record.type': 'decision', ...SPECS[0]!.attributes } })
        .end();
    }
    tracer.startSpan('GET /health').end();
    await tracerProvider.forceFlush();
    const names = memory.getFinishedSpans().map((s) => s.name);
    // SimpleSpanProcessor exports one span per batch: decision, count, checkpoint — three times; the health span
    // changed no count.
    expect(names).toEqual([
      ...Array.from({ length: 3 }, () => ['decide', 'audit.count', 'audit.checkpoint']).flat(),
      'GET /health',
      'audit.checkpoint',
    ]);
    expect(
      memory
        .getFinishedSpans()
        .filter((s) => s.name === 'audit.count')
        .map((s) => s.attributes['audit.count.decisions']),
    ).toEqual([1, 2, 3]);
    // Each count record spans the decision it adds: from its start to (at least) its end.
    const spans = memory.getFinishedSpans();
    for (let i = 0; i < 3; i++) {
      const [decision, count] = [spans[3 * i]!, spans[3 * i + 1]!];
      expect(count.startTime).toEqual(decision.startTime);
      expect(hrNanos(count.endTime) >= hrNanos(decision.endTime)).toBe(true);
    }
    await tracerProvider.shutdown();
    expect(() => new SigningSpanExporter({ exporter: memory, key, countIntervalMillis: -1 })).toThrow(
      /countIntervalMillis/u,
    );
  });

  it('DurableSpanProcessor: a decision dropped on a full spool is counted all the same; the count follows the loss record', async () => {
    const received: ReadableSpan[] = [];
    let up = false;
    const target: SpanExporter = {
      export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
        if (!up) {
          done({ code: ExportResultCode.FAILED, error: new Error('target down') });
          return;
        }
        received.push(...spans);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    const processor = new DurableSpanProcessor({
      exporter: target,
      key,
      spoolDir: join(dir, 'full'),
      witness: null,
      maxSpoolBytes: 16_000,
      batchSize: 1000,
      initialRetryMillis: 600_000,
      countIntervalMillis: 3_600_000,
    });
    const tracerProvider = provider(processor);
    const tracer = tracerProvider.getTracer('counts');
    let made = 0;
    const decide = (): void => {
      tracer
        .startSpan('decide', {
          attributes: { 'audit.record.type': 'decision', ...SPECS[1]!.attributes, pad: 'x'.repeat(400) },
        })
        .end();
      made += 1;
    };
    while (processor.stats.droppedAuditSpans === 0) decide();
    decide();
    decide();
    const dropped = processor.stats.droppedAuditSpans;
    expect(dropped).toBe(3);
    up = true;
    await processor.forceFlush();
    // Within the interval a flush records no count; shutdown does.
    expect(received.filter((span) => span.name === 'audit.count')).toHaveLength(0);
    await tracerProvider.shutdown();
    const records = received.map(spanRecordFromReadableSpan);
    const decisions = records.filter((r) => r.attributes['audit.record.type'] === 'decision');
    const loss = records.find((r) => r.name === 'audit.loss')!;
    const count = records.find((r) => r.name === 'audit.count')!;
    expect(decisions).toHaveLength(made - dropped);
    expect(loss.attributes['audit.loss.decision_count']).toBe(String(dropped));
    expect(count.attributes).toMatchObject({
      'audit.model.id': 'fraud',
      'audit.model.version': '1',
      'audit.count.decisions': String(made),
    });
    // Every decision kept before the count record lies before it; the loss takes its place first.
    expect(seqOf(count)).toBeGreaterThan(Math.max(...decisions.map(seqOf), seqOf(loss)));
    expect(processor.stats.countRecords).toBe(1);
    const report = verifySpans(records, { publicKeys: [key.verifierKey] });
    expect(report.streams[0]!.verifiedSize).toBe(made - dropped + 2);
  });
});
