import { SpanStatusCode } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_DECISION_TYPE,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_AUDIT_SUBJECT_ID,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_DECISION,
} from '@decisiontrail/semconv';
import { exportPublicKey, generateSigningKey } from '@decisiontrail/core';
import { SigningSpanExporter } from '@decisiontrail/signing-exporter';
import type { SigningKey } from '@decisiontrail/core';

/** Records each `export` call as one batch: what a BatchSpanProcessor would send in one OTLP request. */
class BatchCapture implements SpanExporter {
  readonly batches: ReadableSpan[][] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.batches.push(spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

let decisionCounter = 0;

/** A complete decision span's attributes (every required attribute present). */
export function decisionAttributes(i: number): Record<string, string | number> {
  decisionCounter += 1;
  return {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DECISION,
    [ATTR_AUDIT_DECISION_ID]: `019ab3f0-0000-7000-8000-${String(decisionCounter).padStart(12, '0')}`,
    [ATTR_AUDIT_DECISION_TYPE]: 'classification',
    [ATTR_AUDIT_DECISION_OUTCOME]: i % 3 === 0 ? 'deny' : 'approve',
    [ATTR_AUDIT_MODEL_ID]: 'credit-scorer',
    [ATTR_AUDIT_MODEL_VERSION]: '3.2.1',
    [ATTR_AUDIT_INPUT_CAPTURE_MODE]: 'hash',
    [ATTR_AUDIT_INPUT_HASH]: 'ab'.repeat(32),
    [ATTR_AUDIT_INPUT_HASH_KEY_ID]: 'k1',
    [ATTR_AUDIT_OUTPUT_CAPTURE_MODE]: 'none',
    [ATTR_AUDIT_SUBJECT_ID]: `subject-${i % 17}`,
  };
}

/** Ends `count` decision spans through a real SDK tracer. */
export async function makeDecisionSpans(
  count: number,
  attributes: (i: number) => Record<string, string | number> = decisionAttributes,
): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'loan-api', 'service.version': '2.0.0' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('@decisiontrail/processor-test', '0.1.0');
  for (let i = 0; i < count; i += 1) {
    const span = tracer.startSpan(SPAN_NAME_AUDIT_DECISION, { attributes: attributes(i) });
    if (i % 7 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'threshold' });
    span.end();
  }
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** A signing key and its verifier key text (what a `*.vkey` file holds). */
export function testKey(): { key: SigningKey; vkey: string } {
  const key = generateSigningKey();
  return { key, vkey: exportPublicKey(key).vkey };
}

/**
 * Signs spans in batches of `batchSize` with the real SigningSpanExporter; every batch carries its leaves
 * and a checkpoint span, as one OTLP request from the app would. The app is still running: the exporter is
 * not shut down, so no final batch of decision counts (`audit.count` records) follows.
 */
export async function signBatches(
  spans: readonly ReadableSpan[],
  key: SigningKey,
  batchSize: number,
): Promise<ReadableSpan[][]> {
  const capture = new BatchCapture();
  const signer = new SigningSpanExporter({ exporter: capture, key, witness: null });
  for (let i = 0; i < spans.length; i += batchSize) {
    await new Promise<void>((resolve, reject) =>
      signer.export(spans.slice(i, i + batchSize), (r) =>
        r.code === ExportResultCode.SUCCESS ? resolve() : reject(r.error),
      ),
    );
  }
  return capture.batches;
}
