// Batch inference with nothing in between faked: a real onnxruntime-node session run on batches of 1, 3 and 1,000
// rows → the instrumentation → the OTel SDK (AuditSampler over a sampler that keeps nothing else) → the signing
// exporter → the embedded ClickHouse store. Every row must be a stored decision with its own values, counted by the
// report, shown by the timeline, reproduced by the audit-table reconciliation and verified in its signed stream.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, verifySpans, type SigningKey } from '@decisiontrail/core';
import { openStore, type Store } from '@decisiontrail/clickhouse';
import { AiAuditInstrumentation, AuditSampler, withSubject } from '@decisiontrail/instrumentation';
import { SigningSpanExporter, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_LABELS, CREDIT_MODEL_ID, writeCreditModel } from '../../support/onnx/credit-model.ts';

/** Writes what the signing exporter hands on into the store, keeping the insert promises for the test to await. */
class StoreExporter implements SpanExporter {
  readonly inserts: Promise<void>[] = [];
  readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const insert = this.store.insertSpans(spans.map(spanRecordFromReadableSpan));
    this.inserts.push(insert);
    insert.then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

// Late payments this high push the approval probability below float32's smallest value: p(reject) = 1.00.
const CERTAIN_REJECT = [0, 0.9, 0, 100];
const rowsOf = (count: number, middle: number) =>
  Array.from({ length: count }, (_, i) =>
    i === middle ? CERTAIN_REJECT : [2 + (i % 9), (i % 7) / 10, i % 5, i % 4 === 0 ? 2 : 0],
  );

let dir: string;
let store: Store;
let key: SigningKey;
let provider: TracerProvider;
let exporter: StoreExporter;
let session: ort.InferenceSession;
const instrumentation = new AiAuditInstrumentation({
  hmacKey: 'batch-store-key',
  models: { [CREDIT_MODEL_ID]: { riskLevel: 'high', labels: [...CREDIT_LABELS] } },
});
const from = new Date();
/** Per batch: the outputs onnxruntime gave, to compare each stored row with. */
const runs: { rows: number[][]; probabilities: Float32Array; labels: BigInt64Array }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-batch-store-'));
  store = await openStore({ dataDir: join(dir, 'data') });
  key = generateSigningKey();
  exporter = new StoreExporter(store);
  provider = new TracerProvider({
    sampler: new AuditSampler(new AlwaysOffSampler()),
    spanProcessors: [
      // Whole batches to the signing exporter: one insert and one checkpoint per export, not per span.
      new BatchSpanProcessor({
        exporter: new SigningSpanExporter({ exporter, key, witness: null }),
        maxQueueSize: 4096,
        maxExportBatchSize: 2048,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  instrumentation.manuallyInstrument(ort);
  session = await ort.InferenceSession.create(writeCreditModel(join(dir, 'credit.onnx'), '1.0.0'));
  for (const [count, middle] of [
    [1, 0],
    [3, 1],
    [1000, 500],
  ] as const) {
    const rows = rowsOf(count, middle);
    const outputs = await withSubject(`owner-of-${count}`, () =>
      session.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [count, 4]) }),
    );
    runs.push({
      rows,
      probabilities: outputs['probabilities']!.data as Float32Array,
      labels: outputs['label']!.data as BigInt64Array,
    });
  }
  await provider.forceFlush();
  await Promise.all(exporter.inserts);
});
afterAll(async () => {
  instrumentation.disable();
  await provider.shutdown();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('batch inference in the store', () => {
  it('stores every row as a decision of its own: id, outcome, confidence and input hash', async () => {
    const to = new Date(Date.now() + 60_000);
    const stored = await store.decisions({ from, to, modelId: CREDIT_MODEL_ID, limit: 10_000 });
    expect(stored).toHaveLength(1 + 3 + 1000);
    expect(new Set(stored.map((row) => row.decisionId)).size).toBe(1004);
    for (const [batch, run] of runs.entries()) {
      const owner = `owner-of-${run.rows.length}`;
      const rows = stored.filter((row) => row.subjectId === owner);
      expect(rows, owner).toHaveLength(run.rows.length);
      // Each row's decision is found by its span; its index comes from the signed span in otel_traces.
      const spans = await store.traceSpans(rows[0]!.traceId);
      const indexOf = new Map(
        spans.map((span) => [span.spanId, Number(span.attributes['audit.batch.index'] ?? 0)]),
      );
      for (const row of rows) {
        const index = indexOf.get(row.spanId)!;
        const p = [run.probabilities[index * 2]!, run.probabilities[index * 2 + 1]!];
        expect(row.outcome, `batch ${batch} row ${index}`).toBe(CREDIT_LABELS[Number(run.labels[index])]);
        expect(row.confidence).toBeCloseTo(Math.max(...p), 6);
        expect(row.inputHash).toMatch(/^[0-9a-f]{64}$/);
        expect(row.riskLevel).toBe('high');
      }
      expect(new Set(rows.map((row) => row.inputHash)).size).toBe(new Set(run.rows.map(String)).size);
    }
    const middle = stored.filter((row) => row.subjectId === 'owner-of-1000' && row.confidence === 1);
    expect(middle.map((row) => row.outcome)).toEqual(['reject']);
  });

  it('counts every row in the report, and the batch spans as no decision', async () => {
    const report = await store.periodReport({
      from,
      to: new Date(Date.now() + 60_000),
      modelId: CREDIT_MODEL_ID,
      exact: true,
    });
    expect(report.totals.decisions).toBe(1004);
    const expected: Record<string, number> = {};
    for (const run of runs)
      for (const label of run.labels)
        expected[CREDIT_LABELS[Number(label)]!] = (expected[CREDIT_LABELS[Number(label)]!] ?? 0) + 1;
    expect(report.totals.byOutcome).toEqual(expected);
  });

  it('shows a row’s decision in its timeline under its batch call', async () => {
    const [row] = (await store.decisions({ from, to: new Date(Date.now() + 60_000), limit: 10_000 })).filter(
      (decision) =>
        decision.subjectId === 'owner-of-3' && decision.outcome === 'reject' && decision.confidence === 1,
    );
    const timeline = await store.decisionTimeline({ decisionId: row!.decisionId });
    const decision = timeline.find((entry) => entry.kind === 'decision')!;
    expect(decision.decisionId).toBe(row!.decisionId);
    expect(decision.attributes['outcome']).toBe('reject');
    // The call the row was decided in is part of what happened around it.
    const spans = await store.traceSpans(row!.traceId);
    const own = spans.find((span) => span.spanId === decision.spanId)!;
    const batch = timeline.find((entry) => entry.kind === 'span' && entry.spanId === own.parentSpanId)!;
    expect(batch.name).toBe(`audit.batch ${CREDIT_MODEL_ID}`);
    expect(batch.attributes['audit.batch.size']).toBe('3');
    expect(own.attributes['audit.batch.index']).toBe('1');
  });

  it('verifies every row and batch span in its signed stream, and the audit tables reproduce from them', async () => {
    const records = await store.spansForVerification({});
    const report = verifySpans(records, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(1);
    // Every leaf verified: 1 + 3 + 1000 decisions and the 2 batch spans among them.
    const leaves = records.filter((record) => record.attributes['audit.integrity.seq'] !== undefined);
    expect(report.streams[0]!.verifiedSize).toBe(leaves.length);
    const byType = (type: string) =>
      leaves.filter((record) => record.attributes['audit.record.type'] === type).length;
    expect([byType('decision'), byType('batch')]).toEqual([1004, 2]);
    const reconciliation = await store.reconcileAuditTables({});
    expect(reconciliation.findings).toEqual([]);
  });
});
