// Drops counted by reason at the producer, as an OpenTelemetry metric: a real DurableSpanProcessor whose spool
// fills while its target is down, read through a real MeterProvider of the metrics SDK.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@decisiontrail/core';
import { configureAudit, decision, recordFeedback } from '@decisiontrail/instrumentation';
import { DurableSpanProcessor, SPOOL_DROPPED_METRIC } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';

/** Collects on demand, as a scrape would. */
class ScrapeReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A collector that is down until `up` is set. */
let up = false;
const target: SpanExporter = {
  export: (_spans, done) =>
    done(
      up ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('down') },
    ),
  shutdown: () => Promise.resolve(),
};

let dir: string;
let processor: DurableSpanProcessor;
let provider: TracerProvider;
const reader = new ScrapeReader();
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-drop-metrics-'));
  processor = new DurableSpanProcessor({
    exporter: target,
    key: generateSigningKey(),
    spoolDir: join(dir, 'spool'),
    witness: null,
    maxSpoolBytes: 30_000,
    batchSize: 1000,
    initialRetryMillis: 600_000,
    maxRetryMillis: 600_000,
    meterProvider,
  });
  provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  configureAudit({ hmacKey: 'drop-metrics-key' });
});
afterAll(async () => {
  await meterProvider.shutdown();
  await rm(dir, { recursive: true, force: true });
});

/** The counter's points as `reason/recordType → value`. */
async function dropped(): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const points: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== SPOOL_DROPPED_METRIC) continue;
      for (const point of metric.dataPoints) {
        const key = `${String(point.attributes['audit.loss.reason'])}/${String(point.attributes['audit.record.type'] ?? 'none')}`;
        points[key] = point.value as number;
      }
    }
  return points;
}

it('counts every dropped span by reason and record type, matching the processor’s own stats', async () => {
  expect(await dropped()).toEqual({});
  const tracer = trace.getTracer('drop-metrics-test');
  let income = 0;
  while (processor.stats.droppedAuditSpans === 0) {
    decision({ modelId: 'credit-v1', input: { income: (income += 1) } }, (handle) => handle.setOutcome('ok'));
    // Plain spans hit the bound first: the audit reserve keeps room for audit records longer.
    tracer.startSpan('GET /health').end();
  }
  const reference = decision({ modelId: 'credit-v1' }, (handle) => handle.reference);
  recordFeedback({ decision: reference, correct: true });
  const full = await dropped();
  expect(full['spool_full/decision']).toBe(2);
  expect(full['spool_full/feedback']).toBe(1);
  expect(full['spool_full/none']).toBe(processor.stats.droppedNonAuditSpans);
  expect(full['spool_full/none']).toBeGreaterThan(0);
  expect(processor.stats.droppedAuditSpansByReason.spool_full).toBe(3);

  up = true;
  await provider.shutdown();
  decision({ modelId: 'credit-v1' }, () => 'after shutdown');
  const closed = await dropped();
  expect(closed['spool_closed/decision']).toBe(1);
  expect(processor.stats.droppedAuditSpansByReason.spool_closed).toBe(1);
});
