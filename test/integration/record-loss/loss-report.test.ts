// The report's loss line with nothing in between faked: decision() on the OTel SDK → a real DurableSpanProcessor
// whose spool fills while its target (the embedded ClickHouse store) is down → the signed audit.loss record stored
// when the target returns → the period report and its rendered document say how many decisions were lost, why and
// between which drops.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '@decisiontrail/clickhouse';
import { buildReportDocument } from '@decisiontrail/cli/internal';
import { generateSigningKey } from '@decisiontrail/core';
import { configureAudit, decision } from '@decisiontrail/instrumentation';
import { DurableSpanProcessor, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The store as an export target that is down until `up` is set. */
class StoreTarget implements SpanExporter {
  up = false;
  readonly received: ReadableSpan[] = [];
  readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (!this.up) {
      done({ code: ExportResultCode.FAILED, error: new Error('store down') });
      return;
    }
    this.store.insertSpans(spans.map(spanRecordFromReadableSpan)).then(
      () => {
        this.received.push(...spans);
        done({ code: ExportResultCode.SUCCESS });
      },
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const MODEL = 'credit-v1';
let dir: string;
let store: Store;
let target: StoreTarget;
let processor: DurableSpanProcessor;
let provider: TracerProvider;
const from = new Date(Date.now() - 1000);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-loss-report-'));
  store = await openStore({ dataDir: join(dir, 'data') });
  target = new StoreTarget(store);
  processor = new DurableSpanProcessor({
    exporter: target,
    key: generateSigningKey(),
    spoolDir: join(dir, 'spool'),
    witness: null,
    maxSpoolBytes: 30_000,
    batchSize: 1000,
    // Retries only when the test flushes: nothing here waits on a timer.
    initialRetryMillis: 600_000,
    maxRetryMillis: 600_000,
  });
  provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  configureAudit({ hmacKey: 'loss-report-key', recordAdmission: processor });
});
afterAll(async () => {
  await provider.shutdown();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const decide = (income: number): string =>
  decision({ modelId: MODEL, input: { income } }, (handle) => {
    const outcome = income > 40_000 ? 'approve' : 'refer';
    handle.setOutcome(outcome);
    return outcome;
  });

describe('the report’s loss line', () => {
  it('says how many decisions were lost, why and between which drops, counting a redelivered loss record once', async () => {
    let income = 30_000;
    while (processor.stats.droppedAuditSpans === 0) decide((income += 1_000));
    decide(95_000);
    decide(96_000);
    const dropped = processor.stats.droppedAuditSpansByReason.spool_full;
    expect(dropped).toBe(3);

    target.up = true;
    await processor.forceFlush();
    const [loss] = target.received.filter((span) => span.attributes['audit.record.type'] === 'loss');
    expect(loss).toBeDefined();
    const stream = String(loss!.attributes['audit.integrity.stream']);
    // A redelivery of the loss record is the same record: counted once.
    await store.insertSpans([spanRecordFromReadableSpan(loss!)]);

    const to = new Date(Date.now() + 1000);
    const report = await store.periodReport({ from, to, modelId: MODEL });
    expect(report.losses).toEqual([
      expect.objectContaining({ stream, reason: 'spool_full', records: 3, decisions: 3, lossRecords: 1 }),
    ]);
    const [line] = report.losses;
    expect(BigInt(line!.firstUnixNano)).toBeLessThanOrEqual(BigInt(line!.lastUnixNano));
    // The decisions that were kept are all in the report beside the loss.
    expect(report.totals.decisions).toBe(
      target.received.filter((span) => span.attributes['audit.record.type'] === 'decision').length,
    );

    const document = await buildReportDocument(
      store,
      { modelId: MODEL, modelVersion: undefined, from, to, outcome: undefined },
      [],
    );
    const rows = document.dataGovernance.filter(
      (row) => row.label === 'decisions lost before they were stored',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.value).toMatch(
      new RegExp(
        `^3 decisions lost between \\S+Z and \\S+Z \\(3 audit records, spool_full, stream ${stream}; from 1 loss record`,
      ),
    );
  });

  it('says only that no loss record exists for a period or service without one', async () => {
    const before = await store.periodReport({ from: new Date(0), to: from, modelId: MODEL });
    expect(before.losses).toEqual([]);
    const otherService = await store.periodReport({
      from,
      to: new Date(Date.now() + 1000),
      modelId: MODEL,
      service: 'some-other-service',
    });
    expect(otherService.losses).toEqual([]);
    const document = await buildReportDocument(
      store,
      { modelId: MODEL, modelVersion: undefined, from: new Date(0), to: from, outcome: undefined },
      [],
    );
    expect(document.dataGovernance).toContainEqual({
      label: 'decisions lost before they were stored',
      value: 'none recorded (no audit.loss record in the period)',
    });
  });
});
