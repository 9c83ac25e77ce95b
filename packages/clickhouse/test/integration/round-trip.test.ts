import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { leafHash, type SpanRecord } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
import { countRows, openTempStore } from '../support/temp-store.ts';

interface Vector {
  name: string;
  record: SpanRecord;
  leafHash: string;
}

const require = createRequire(import.meta.url);
const vectors = (
  JSON.parse(readFileSync(require.resolve('@decisiontrail/core/test-vectors/spans.json'), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

// A trace written the way the Collector's clickhouseexporter writes it: its INSERT column list
// (internal/sqltemplates/traces_insert.sql) and value forms, without going through this package.
const EXPORTER_INSERT = `INSERT INTO default.otel_traces (
  Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes,
  ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, Events.Timestamp, Events.Name,
  Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes) VALUES
('2026-03-02 10:00:00.000000000', '6c9f0008a9149214e37ac744924ed71d', 'eee19b7ec3c1b174', '', '', 'POST /loans',
 'Server', 'loan-api', {'service.name':'loan-api','service.version':'1.4.2'}, '@opentelemetry/instrumentation-http', '0.200.0',
 {'http.request.method':'POST','url.path':'/loans'}, 41000000, 'Unset', '', [], [], [], [], [], [], []),
('2026-03-02 10:00:00.010000000', '6c9f0008a9149214e37ac744924ed71d', 'eee19b7ec3c1b175', 'eee19b7ec3c1b174', '', 'chat gpt-4o',
 'Client', 'loan-api', {'service.name':'loan-api'}, '@decisiontrail/instrumentation', '0.1.0',
 {'audit.record.type':'decision','audit.decision.id':'019cae3a-8a00-7000-8000-000000000001','gen_ai.request.model':'gpt-4o',
  'gen_ai.provider.name':'openai','gen_ai.operation.name':'chat','audit.decision.outcome':'approve',
  'audit.decision.confidence':'0.87','audit.subject.id':'subject-9','audit.input.hash':'aa11','audit.input.content':'my salary is 50k',
  'audit.integrity.stream':'stream-x','audit.integrity.seq':'0'},
 30000000, 'Ok', '', ['2026-03-02 10:00:00.020000000'], ['gen_ai.content.prompt'], [{'k':'v'}], [], [], [], []),
('2026-03-02 10:00:00.012000000', '6c9f0008a9149214e37ac744924ed71d', 'eee19b7ec3c1b176', 'eee19b7ec3c1b175', '', 'SELECT loans',
 'Client', 'loan-api', {'service.name':'loan-api'}, '@opentelemetry/instrumentation-pg', '0.50.0',
 {'db.system.name':'postgresql','audit.input.content':'my salary is 50k'}, 2000000, 'Unset', '', [], [], [], [], [], [], [])`;

describe('otel_traces round trip (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('a span read back from its row hashes to the signing exporter test vector leaf', async () => {
    expect(vectors.length).toBeGreaterThan(0);
    const sink = store.createSink({ flushIntervalMs: 10 });
    await sink.write(vectors.map((v) => v.record));
    for (const vector of vectors) {
      const stored = (await store.traceSpans(vector.record.traceId)).filter(
        (s) => s.spanId === vector.record.spanId,
      );
      expect(stored, vector.name).toHaveLength(1);
      // The legacy-spelling vector is the same span as an older exporter wrote it (SPAN_KIND_SERVER /
      // STATUS_CODE_ERROR), as a re-export across a Collector upgrade leaves it: both rows are stored,
      // the read keeps one per span id, and either one gives the same leaf.
      const sameSpan = vectors
        .filter((v) => v.record.traceId === vector.record.traceId && v.record.spanId === vector.record.spanId)
        .map((v) => v.record);
      expect(sameSpan, vector.name).toContainEqual(stored[0]);
      expect(Buffer.from(leafHash(stored[0] as SpanRecord)).toString('hex'), vector.name).toBe(
        vector.leafHash,
      );
    }
  });

  it('stores kind and status in the spelling each row carries', async () => {
    const legacy = vectors.find((v) => v.record.kind.startsWith('SPAN_KIND_')) as Vector;
    // A batch keeps one row per span id, so the older exporter's copy arrives in a batch of its own.
    await store.insertSpans([legacy.record]);
    const [read] = await store.traceSpans(legacy.record.traceId);
    expect(Buffer.from(leafHash(read as SpanRecord)).toString('hex')).toBe(legacy.leafHash);
    const result = await store.client.query({
      query: `SELECT SpanKind, StatusCode FROM otel_traces WHERE SpanId = {spanId:String} ORDER BY SpanKind`,
      query_params: { spanId: legacy.record.spanId },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      { SpanKind: 'SPAN_KIND_SERVER', StatusCode: 'STATUS_CODE_ERROR' },
      { SpanKind: 'Server', StatusCode: 'Error' },
    ]);
  });

  it('reads rows written in the Collector exporter format through the audit views', async () => {
    await store.client.command({ query: EXPORTER_INSERT });
    expect(await countRows(store, 'audit_decisions')).toBeGreaterThanOrEqual(1);
    const timeline = await store.decisionTimeline({ decisionId: '019cae3a-8a00-7000-8000-000000000001' });
    expect(timeline.map((e) => [e.kind, e.spanId])).toEqual([
      ['span', 'eee19b7ec3c1b174'],
      ['decision', 'eee19b7ec3c1b175'],
      ['span', 'eee19b7ec3c1b176'],
    ]);
    const decision = timeline[1];
    expect(decision?.attributes).toMatchObject({
      model_id: 'gpt-4o',
      provider: 'openai',
      operation: 'chat',
      outcome: 'approve',
      confidence: '0.87',
      subject_id: 'subject-9',
      integrity_stream: 'stream-x',
      integrity_seq: '0',
    });
    expect(decision?.timeUnixNano).toBe('1772445600010000000');
    // The same timeline by trace id.
    const byTrace = await store.decisionTimeline({ traceId: '6c9f0008a9149214e37ac744924ed71d' });
    expect(byTrace).toEqual(timeline);
    const subject = await store.subjectDecisions({ subjectId: 'subject-9' });
    expect(subject.map((d) => [d.decisionId, d.modelId, d.confidence, d.inputHash])).toEqual([
      ['019cae3a-8a00-7000-8000-000000000001', 'gpt-4o', 0.87, 'aa11'],
    ]);
    const verification = await store.spansForVerification({ stream: 'stream-x' });
    expect(verification.map((s) => [s.spanId, s.kind, s.statusCode, s.endTimeUnixNano])).toEqual([
      ['eee19b7ec3c1b175', 'Client', 'Ok', '1772445600040000000'],
    ]);
    expect(verification[0]?.events).toEqual([
      { timeUnixNano: '1772445600020000000', name: 'gen_ai.content.prompt', attributes: { k: 'v' } },
    ]);
  });

  it('keeps captured content out of timeline span attributes', async () => {
    const timeline = await store.decisionTimeline({ traceId: '6c9f0008a9149214e37ac744924ed71d' });
    expect(JSON.stringify(timeline)).not.toContain('my salary is 50k');
  });
});
