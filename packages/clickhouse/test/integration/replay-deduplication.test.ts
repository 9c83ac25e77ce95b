// A processor killed after the store committed a batch but before its write-ahead log recorded that replays the
// identical batch on restart: the insert's deduplication token must keep that replay out of every table — the
// audit tables and the rollups the materialized views fill, not only otel_traces — or a report counts the batch
// twice and verify (rightly) finds the rollup different from the spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const START = Date.UTC(2026, 6, 1, 9);

describe('a batch replayed after a crash', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const random = seededRandom(14);
  const spans: SpanRecord[] = Array.from({ length: 40 }, (_, i) =>
    decisionSpan({
      decisionId: decisionIdAt(START + i * 1000, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: START + i * 1000,
      modelId: 'replayed-model',
      modelVersion: '1',
      outcome: i % 2 === 0 ? 'approve' : 'reject',
      confidence: 0.5 + i / 100,
    }),
  );

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    // Two sinks, as the processor before and after its restart: the same spans make the same block and token.
    for (let attempt = 0; attempt < 2; attempt++) {
      const sink = store.createSink({ maxBatchSize: spans.length });
      await sink.write(spans);
      await sink.close();
    }
  });
  afterAll(async () => {
    await cleanup();
  });

  const count = async (query: string): Promise<number> => {
    const [row] = await (await store.client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
    return Number(row!.n);
  };

  it('is stored once in otel_traces, the audit tables and the rollups', async () => {
    expect(await count('SELECT count() AS n FROM otel_traces')).toBe(spans.length);
    // Raw rows, not FINAL: a ReplacingMergeTree would hide a second insert, a rollup's sums would not.
    expect(await count('SELECT count() AS n FROM audit_decisions')).toBe(spans.length);
    expect(await count('SELECT sum(decisions) AS n FROM audit_decision_stats')).toBe(spans.length);
    expect(await count('SELECT count() AS n FROM otel_traces_trace_id_ts')).toBe(spans.length);
  });

  it('reconciles with no finding', async () => {
    const reconciliation = await store.reconcileAuditTables();
    expect(reconciliation.findings).toEqual([]);
  });
});
