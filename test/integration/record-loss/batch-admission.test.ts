// Fail-closed for a batch call against a real DurableSpanProcessor: a batch whose records cannot all be kept is
// refused whole before the model runs, while a single decision that still fits proceeds and is kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@decisiontrail/core';
import {
  configureAudit,
  decision,
  decisionBatch,
  DecisionRefusedError,
} from '@decisiontrail/instrumentation';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';

const down: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: new Error('collector down') }),
  shutdown: () => Promise.resolve(),
};

let dir: string;
let processor: DurableSpanProcessor;
let provider: TracerProvider;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-batch-admission-'));
  processor = new DurableSpanProcessor({
    exporter: down,
    key: generateSigningKey(),
    spoolDir: join(dir, 'spool'),
    witness: null,
    maxSpoolBytes: 60_000,
    batchSize: 1000,
    initialRetryMillis: 600_000,
    maxRetryMillis: 600_000,
  });
  provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  configureAudit({
    hmacKey: 'batch-admission-key',
    recordLossPolicy: 'fail-closed',
    recordAdmission: processor,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('refuses a batch whose records do not all fit, before the model runs; a decision that fits proceeds', () => {
  const inputs = Array.from({ length: 20 }, (_, i) => ({ amount: i }));
  // Fill the spool with admitted decisions until a 20-row batch no longer fits, but one decision still does.
  expect(processor.canAccept(inputs.length + 1)).toBe(true);
  let n = 0;
  while (processor.canAccept(inputs.length + 1))
    decision({ modelId: 'fraud-v3', input: { n: (n += 1) } }, (handle) => handle.setOutcome('allow'));
  expect(n).toBeGreaterThan(0);
  expect(processor.canAccept()).toBe(true);

  let scored = 0;
  expect(() =>
    decisionBatch({ modelId: 'fraud-v3', inputs }, (rows) => {
      scored = rows.length;
    }),
  ).toThrow(DecisionRefusedError);
  expect(scored).toBe(0);

  const spooled = processor.stats.spooledSpans;
  expect(decision({ modelId: 'fraud-v3', input: { n: 0 } }, () => 'allow')).toBe('allow');
  expect(processor.stats.spooledSpans).toBe(spooled + 1);
  expect(processor.stats.droppedAuditSpans).toBe(0);
});
