// The record loss policy with nothing in between faked: decision() and the record API on the OTel SDK → a real
// DurableSpanProcessor whose spool fills while its target is down → the signed audit.loss record → verify.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecisionRefusedError,
  configureAudit,
  decision,
  recordDeployment,
  recordFeedback,
  recordOversight,
  type DecisionReference,
} from '@decisiontrail/instrumentation';
import { generateSigningKey, verifySpans, type SigningKey } from '@decisiontrail/core';
import { DurableSpanProcessor, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/** A collector that is down until `up` is set; then it keeps what it receives. */
class Target implements SpanExporter {
  up = false;
  readonly received = new InMemorySpanExporter();
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.up) this.received.export(spans, done);
    else done({ code: ExportResultCode.FAILED, error: new Error('collector down') });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let dir: string;
let key: SigningKey;
let target: Target;
let processor: DurableSpanProcessor;
let provider: TracerProvider;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-record-loss-'));
  key = generateSigningKey();
  target = new Target();
  processor = new DurableSpanProcessor({
    exporter: target,
    key,
    spoolDir: join(dir, 'spool'),
    witness: null,
    maxSpoolBytes: 30_000,
    batchSize: 1000,
    // Retries only when the test flushes: nothing here waits on a timer.
    initialRetryMillis: 600_000,
  });
  provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await provider.shutdown();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => configureAudit({ hmacKey: 'record-loss-key', recordAdmission: processor }));
afterEach(async () => {
  // Two turns of the event loop: an unhandled rejection is reported after the microtasks of its turn.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled).toEqual([]);
});

const score = (input: { income: number }): string => (input.income > 40_000 ? 'approve' : 'refer');
let lastReference: DecisionReference | undefined;
let decisionsMade = 0;

function decide(income: number): string {
  return decision({ modelId: 'credit-v1', input: { income } }, (handle) => {
    decisionsMade += 1;
    lastReference = handle.reference;
    const outcome = score({ income });
    handle.setOutcome(outcome);
    return outcome;
  });
}

describe('a full spool', () => {
  it('fail-open: synchronous decisions keep returning the model result; the drops are counted', () => {
    let income = 30_000;
    while (processor.stats.droppedAuditSpans === 0) {
      expect(decide(income)).toBe(score({ income }));
      income += 1_000;
    }
    expect(decide(90_000)).toBe('approve');
    expect(processor.stats.droppedAuditSpansByReason.spool_full).toBe(2);
  });

  it('fail-open: async decisions resolve with the model result, or reject with only the model error', async () => {
    await expect(
      decision({ modelId: 'credit-v1' }, async () => {
        decisionsMade += 1;
        return 'async-approve';
      }),
    ).resolves.toBe('async-approve');
    const failure = new Error('model unavailable');
    await expect(
      decision({ modelId: 'credit-v1' }, async () => {
        decisionsMade += 1;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(processor.stats.droppedAuditSpansByReason.spool_full).toBe(4);
  });

  it('oversight, feedback and deployment records never throw', () => {
    const decision = lastReference!;
    expect(() =>
      recordOversight({ decision, action: 'override', reviewer: 'r-1', newOutcome: 'refer' }),
    ).not.toThrow();
    expect(() => recordFeedback({ decision, correct: false, actualOutcome: 'default' })).not.toThrow();
    expect(() => recordDeployment({ modelId: 'credit-v1', version: '2' })).not.toThrow();
    expect(processor.stats.droppedAuditSpansByReason.spool_full).toBe(7);
  });

  it('fail-closed: the decision is refused before the model runs', async () => {
    configureAudit({
      hmacKey: 'record-loss-key',
      recordLossPolicy: 'fail-closed',
      recordAdmission: processor,
    });
    const before = decisionsMade;
    expect(() => decide(50_000)).toThrow(DecisionRefusedError);
    const run = async (): Promise<string> =>
      await decision({ modelId: 'credit-v1' }, async () => {
        decisionsMade += 1;
        return 'never';
      });
    await expect(run()).rejects.toMatchObject({ code: 'DECISION_REFUSED', modelId: 'credit-v1' });
    expect(decisionsMade).toBe(before);
    // Refused decisions were never made: nothing was dropped for them.
    expect(processor.stats.droppedAuditSpans).toBe(7);
  });

  it('once the target is back: one signed audit.loss record accounts for every drop, and verify reports it', async () => {
    target.up = true;
    await processor.forceFlush();
    const spans = target.received.getFinishedSpans();
    const losses = spans.filter((span) => span.name === 'audit.loss');
    expect(losses).toHaveLength(1);
    expect(losses[0]!.attributes).toMatchObject({
      'audit.record.type': 'loss',
      'audit.loss.count': 7,
      'audit.loss.decision_count': 4,
      'audit.loss.reason': 'spool_full',
    });
    const report = verifySpans(spans.map(spanRecordFromReadableSpan), { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings).toEqual([
      expect.objectContaining({ code: 'records-lost', count: 7, tamper: true }),
    ]);
    expect(report.streams[0]!.verifiedSize).toBe(report.streams[0]!.sealedSize);

    // Room again: fail-closed admits decisions, and they are recorded.
    configureAudit({
      hmacKey: 'record-loss-key',
      recordLossPolicy: 'fail-closed',
      recordAdmission: processor,
    });
    expect(decide(60_000)).toBe('approve');
    expect(processor.stats.droppedAuditSpans).toBe(7);
    expect(processor.stats.spooledSpans).toBe(report.streams[0]!.sealedSize + 1);
  });
});
