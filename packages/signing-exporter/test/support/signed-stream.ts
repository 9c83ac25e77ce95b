import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { type CheckpointWitness, type SigningKey, type SpanRecord } from '@decisiontrail/core';
import { SigningSpanExporter, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';

/** Makes `count` ended decision-like SDK spans (about 1 KB of attributes each). */
export async function makeSpans(count: number, service = 'loan-api'): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'test-host' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('@decisiontrail/test', '0.0.1');
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan(`audit.decision ${i}`, {
      attributes: {
        'audit.record.type': 'decision',
        'audit.decision.id': `019ab3f0-0000-7000-8000-${String(i).padStart(12, '0')}`,
        'audit.decision.outcome': i % 3 === 0 ? 'deny' : 'approve',
        'audit.decision.confidence': 0.5 + (i % 50) / 100,
        'audit.decision.risk_level': 'high',
        'audit.decision.explanation': 'x'.repeat(600),
        'audit.model.id': 'credit-scorer',
        'audit.model.version': '3.2.1',
        'audit.input.hash': 'ab'.repeat(32),
        'audit.input.size': 1000 + i,
        'audit.subject.id': `subject-${i % 17}`,
        tags: ['a', 'b'],
      },
    });
    span.addEvent('scored', { score: i });
    if (i % 7 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'threshold' });
    span.end();
  }
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** Exports spans through a SigningSpanExporter in batches; returns what reached the wrapped exporter. */
export async function signInBatches(
  spans: readonly ReadableSpan[],
  options: { key: SigningKey; batchSize: number; witness?: CheckpointWitness | null; streamId?: string },
): Promise<{ records: SpanRecord[]; exporter: SigningSpanExporter }> {
  const memory = new InMemorySpanExporter();
  const exporter = new SigningSpanExporter({
    exporter: memory,
    key: options.key,
    witness: options.witness ?? null,
    ...(options.streamId !== undefined && { streamId: options.streamId }),
  });
  for (let i = 0; i < spans.length; i += options.batchSize) {
    const code = await new Promise<ExportResultCode>((resolve) =>
      exporter.export(spans.slice(i, i + options.batchSize), (result) => resolve(result.code)),
    );
    if (code !== ExportResultCode.SUCCESS) throw new Error('export failed');
  }
  await exporter.forceFlush();
  return { records: memory.getFinishedSpans().map(spanRecordFromReadableSpan), exporter };
}

/** A witness that keeps notes in memory. */
export class MemoryWitness implements CheckpointWitness {
  readonly notes: string[] = [];
  async witness(note: string): Promise<void> {
    this.notes.push(note);
  }
}
