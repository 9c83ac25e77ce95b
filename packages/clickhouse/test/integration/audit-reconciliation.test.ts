import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECONCILED_TABLES, type AuditReconciliation, type Store } from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { feedbackSpan, oversightSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore, tamper } from '../support/temp-store.ts';

function findingsOf(result: AuditReconciliation, table: string) {
  return result.findings.filter((f) => f.table === table);
}

/**
 * Every route an insider has into a derived table — ALTER … UPDATE, ALTER … DELETE, a forged
 * INSERT — on every audit table and rollup, each on rows of its own, so each test looks for the
 * finding that names its own table and id. The store is shared: tests run in order, after the
 * untouched-store checks.
 */
describe('audit reconciliation: every derived row is reproducible from otel_traces', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  /** Oversight and feedback that carry the decided model (current instrumentation), so they are rolled up. */
  const followUps: SpanRecord[] = [];

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset();
    const random = seededRandom(99);
    for (const d of data.decisions.slice(0, 40)) {
      const model = { id: d.modelId, version: d.modelVersion };
      const [traceId, startMs] = [randomHex(random, 16), d.startMs + 600_000];
      followUps.push(
        oversightSpan({
          decisionId: d.decisionId,
          decisionTraceId: d.traceId,
          decisionSpanId: d.spanId,
          traceId,
          spanId: randomHex(random, 8),
          startMs,
          action: followUps.length % 4 === 0 ? 'override' : 'approve',
          model,
        }),
        feedbackSpan({
          decisionId: d.decisionId,
          traceId,
          spanId: randomHex(random, 8),
          startMs,
          correct: random() < 0.7,
          actualOutcome: d.outcome,
          model,
        }),
      );
    }
    // Several insert blocks, so the rollups hold partial aggregates as they do in production.
    const sink = store.createSink({ maxBatchSize: 100, flushIntervalMs: 5 });
    await sink.write([...data.spans, ...followUps]);
    await sink.flush();
  });
  afterAll(async () => {
    await cleanup();
  });

  const decision = (i: number) => data.decisions[i]!;

  it('finds nothing on an untouched store, and counts what it compared', async () => {
    const result = await store.reconcileAuditTables();
    expect(result.findings).toEqual([]);
    const rows = Object.fromEntries(result.tables.map((t) => [t.table, t]));
    expect(rows.audit_decisions).toMatchObject({ rows: 240, derived: 240, findings: 0 });
    const [oversight, feedback] = [data.oversight.length + 40, data.feedback.length + 40];
    expect(rows.audit_oversight).toMatchObject({ rows: oversight, derived: oversight });
    expect(rows.audit_feedback).toMatchObject({ rows: feedback, derived: feedback });
    expect(rows.audit_deployments).toMatchObject({ rows: 2, derived: 2 });
    expect(rows.audit_checkpoints).toMatchObject({ rows: 3, derived: 3 });
    expect(rows.audit_checkpoint_leaves).toBeUndefined();
    expect(rows.audit_checkpoint_spans).toMatchObject({ rows: 3, derived: 3, findings: 0 });
    const links = oversight + feedback;
    expect(rows.audit_decision_links).toMatchObject({ rows: links, derived: links, findings: 0 });
    for (const table of [
      'audit_decision_stats',
      'audit_confidence_stats',
      'audit_oversight_stats',
      'audit_feedback_stats',
      'otel_traces_trace_id_ts',
    ]) {
      expect(rows[table]?.rows, table).toBeGreaterThan(0);
      expect(rows[table]?.derived, table).toBe(rows[table]?.rows);
      expect(rows[table]?.findings, table).toBe(0);
    }
    expect(result.skipped).toEqual([]);
    // In time windows and trace buckets of about 50 rows: the same comparison, statement by statement.
    expect(await store.reconcileAuditTables({ rowsPerStatement: 50 })).toEqual(result);
  });

  it('compares only the tables asked for', async () => {
    const result = await store.reconcileAuditTables({ tables: ['audit_feedback_stats', 'audit_decisions'] });
    expect(result.tables.map((t) => t.table)).toEqual(['audit_decisions', 'audit_feedback_stats']);
    expect(RECONCILED_TABLES).toHaveLength(14);
  });

  it('bounds by time and stream, and skips what does not record the stream', async () => {
    const day1 = await store.reconcileAuditTables({
      from: new Date(data.start),
      to: new Date(data.deployAt),
      stream: 'stream-1',
    });
    expect(day1.findings).toEqual([]);
    const decisions = day1.tables.find((t) => t.table === 'audit_decisions');
    expect(decisions).toMatchObject({ rows: 120, derived: 120 });
    expect(day1.skipped.map((s) => s.table).sort()).toEqual([
      'audit_confidence_stats',
      'audit_feedback_stats',
      'audit_oversight_stats',
      'otel_traces_trace_id_ts',
    ]);
  });

  it('refuses a malformed range or limit', async () => {
    await expect(
      store.reconcileAuditTables({ from: new Date(data.end), to: new Date(data.start) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.reconcileAuditTables({ tables: ['audit_incidents'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.reconcileAuditTables({ rowsPerStatement: 0.5 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.reconcileAuditTables({ limit: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.reconcileAuditTables({ stream: {} as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  describe('audit_decisions', () => {
    it('UPDATE: a changed outcome and confidence is a difference naming the decision and its stream', async () => {
      const d = decision(3);
      await tamper(
        store,
        `ALTER TABLE audit_decisions UPDATE outcome = 'reject', confidence = 0.51 WHERE decision_id = '${d.decisionId}'`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_decisions');
      expect(found).toContainEqual(
        expect.objectContaining({
          code: 'different',
          decisionId: d.decisionId,
          spanId: d.spanId,
          stream: 'stream-1',
        }),
      );
    });

    // Migration 22's columns in place of the hashes: each edited alone is a difference, on a decision of its own.
    it.each([
      ['input_fingerprint', 'input_fingerprint = input_fingerprint + 1', 6],
      ['has_input_hash', 'has_input_hash = NOT has_input_hash', 9],
      ['has_output_hash', 'has_output_hash = NOT has_output_hash', 8],
    ] as const)('UPDATE: a changed %s is a difference naming the decision', async (_column, update, i) => {
      const d = decision(i);
      await tamper(
        store,
        `ALTER TABLE audit_decisions UPDATE ${update} WHERE decision_id = '${d.decisionId}'`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_decisions');
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'different', decisionId: d.decisionId, spanId: d.spanId }),
      );
    });

    it('DELETE: a removed decision is missing', async () => {
      const d = decision(4);
      await tamper(store, `ALTER TABLE audit_decisions DELETE WHERE decision_id = '${d.decisionId}'`);
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_decisions');
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'missing', decisionId: d.decisionId, spanId: d.spanId }),
      );
    });

    it('INSERT: a forged decision is extra', async () => {
      await tamper(
        store,
        `INSERT INTO audit_decisions SELECT * REPLACE ('forged-decision' AS decision_id, 'f0f0f0f0f0f0f0f0' AS span_id)
         FROM (SELECT * FROM audit_decisions WHERE decision_id = '${decision(5).decisionId}')`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_decisions');
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'extra', decisionId: 'forged-decision', spanId: 'f0f0f0f0f0f0f0f0' }),
      );
    });
  });

  describe.each([
    ['audit_oversight', () => data.oversight, "reason = 'edited'"],
    ['audit_feedback', () => data.feedback, "actual_outcome = 'edited'"],
  ] as const)('%s', (table, rows, update) => {
    it('UPDATE, DELETE and a forged INSERT are findings naming the decision and span', async () => {
      const [updated, deleted, copied] = [rows()[1]!, rows()[2]!, rows()[3]!];
      const spanOf = async (decisionId: string) => {
        const result = await store.client.query({
          query: `SELECT span_id FROM ${table} WHERE decision_id = {id:String}`,
          query_params: { id: decisionId },
          format: 'JSONEachRow',
        });
        return (await result.json<{ span_id: string }>())[0]!.span_id;
      };
      const updatedSpan = await spanOf(updated.decisionId);
      const deletedSpan = await spanOf(deleted.decisionId);
      await tamper(
        store,
        `ALTER TABLE ${table} UPDATE ${update} WHERE decision_id = '${updated.decisionId}'`,
      );
      await tamper(store, `ALTER TABLE ${table} DELETE WHERE decision_id = '${deleted.decisionId}'`);
      await tamper(
        store,
        `INSERT INTO ${table} SELECT * REPLACE ('aaaaaaaaaaaaaaaa' AS span_id)
         FROM (SELECT * FROM ${table} WHERE decision_id = '${copied.decisionId}')`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), table);
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'different', decisionId: updated.decisionId, spanId: updatedSpan }),
      );
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'missing', decisionId: deleted.decisionId, spanId: deletedSpan }),
      );
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'extra', decisionId: copied.decisionId, spanId: 'aaaaaaaaaaaaaaaa' }),
      );
    });
  });

  it('audit_deployments: UPDATE, DELETE and a forged INSERT name the span', async () => {
    const result = await store.client.query({
      query: 'SELECT deployment_id, span_id FROM audit_deployments ORDER BY time',
      format: 'JSONEachRow',
    });
    const [first, second] = await result.json<{ deployment_id: string; span_id: string }>();
    await tamper(
      store,
      `ALTER TABLE audit_deployments UPDATE changelog = 'edited' WHERE span_id = '${first!.span_id}'`,
    );
    await tamper(
      store,
      `INSERT INTO audit_deployments SELECT * REPLACE ('bbbbbbbbbbbbbbbb' AS span_id)
       FROM (SELECT * FROM audit_deployments WHERE span_id = '${first!.span_id}')`,
    );
    await tamper(store, `ALTER TABLE audit_deployments DELETE WHERE span_id = '${second!.span_id}'`);
    const found = findingsOf(await store.reconcileAuditTables(), 'audit_deployments');
    expect(found).toContainEqual(expect.objectContaining({ code: 'different', spanId: first!.span_id }));
    expect(found).toContainEqual(expect.objectContaining({ code: 'extra', spanId: 'bbbbbbbbbbbbbbbb' }));
    expect(found).toContainEqual(expect.objectContaining({ code: 'missing', spanId: second!.span_id }));
  });

  it('audit_checkpoints: UPDATE, DELETE and a forged INSERT name the span and stream', async () => {
    const result = await store.client.query({
      query: 'SELECT span_id FROM audit_checkpoints ORDER BY tree_size',
      format: 'JSONEachRow',
    });
    const [first, second] = await result.json<{ span_id: string }>();
    await tamper(
      store,
      `ALTER TABLE audit_checkpoints UPDATE root = 'AAAA' WHERE span_id = '${first!.span_id}'`,
    );
    await tamper(store, `ALTER TABLE audit_checkpoints DELETE WHERE span_id = '${second!.span_id}'`);
    await tamper(
      store,
      `INSERT INTO audit_checkpoints SELECT * REPLACE (999 AS tree_size, 'cccccccccccccccc' AS span_id)
       FROM (SELECT * FROM audit_checkpoints WHERE span_id = '${first!.span_id}')`,
    );
    const found = findingsOf(await store.reconcileAuditTables(), 'audit_checkpoints');
    expect(found).toContainEqual(
      expect.objectContaining({ code: 'different', spanId: first!.span_id, stream: 'stream-1' }),
    );
    expect(found).toContainEqual(expect.objectContaining({ code: 'missing', spanId: second!.span_id }));
    expect(found).toContainEqual(
      expect.objectContaining({ code: 'extra', spanId: 'cccccccccccccccc', stream: 'stream-1' }),
    );
  });

  it("the read-time check's lookups: a checkpoint span's copy edited, a review's link deleted, both named", async () => {
    const copies = await store.client.query({
      query: 'SELECT span_id FROM audit_checkpoint_spans ORDER BY tree_size LIMIT 1',
      format: 'JSONEachRow',
    });
    const [checkpoint] = await copies.json<{ span_id: string }>();
    await tamper(
      store,
      `ALTER TABLE audit_checkpoint_spans UPDATE span = replaceOne(span, '"SpanAttributes":{', '"SpanAttributes":{"audit.forged":"1",')
       WHERE span_id = '${checkpoint!.span_id}'`,
    );
    const linked = await store.client.query({
      query:
        "SELECT decision_id, span_id FROM audit_decision_links WHERE record_type = 'oversight' ORDER BY span_id LIMIT 1",
      format: 'JSONEachRow',
    });
    const [review] = await linked.json<{ decision_id: string; span_id: string }>();
    await tamper(store, `ALTER TABLE audit_decision_links DELETE WHERE span_id = '${review!.span_id}'`);
    const reconciled = await store.reconcileAuditTables({
      tables: ['audit_checkpoint_spans', 'audit_decision_links'],
    });
    expect(findingsOf(reconciled, 'audit_checkpoint_spans')).toContainEqual(
      expect.objectContaining({ code: 'different', spanId: checkpoint!.span_id, stream: 'stream-1' }),
    );
    expect(findingsOf(reconciled, 'audit_decision_links')).toContainEqual(
      expect.objectContaining({ code: 'missing', decisionId: review!.decision_id, spanId: review!.span_id }),
    );
  });

  describe('rollups', () => {
    /** A key of the rollup's earliest row, as the finding prints it. */
    async function firstKey(table: string, columns: string, order: string): Promise<string> {
      const result = await store.client.query({
        query: `SELECT toString(tuple(${columns})) AS key FROM ${table} ORDER BY ${order} LIMIT 1`,
        format: 'JSONEachRow',
      });
      return (await result.json<{ key: string }>())[0]!.key;
    }

    it('audit_decision_stats: an edited count, a deleted cell and a forged cell', async () => {
      const columns =
        'hour, model_id, model_version, service, outcome, risk_level, decision_type, automation, retention_class, fairness_group, integrity_stream, bucket';
      const [edited, deleted] = [
        await firstKey('audit_decision_stats', columns, `hour, ${columns}`),
        await firstKey('audit_decision_stats', columns, `hour DESC, ${columns}`),
      ];
      await tamper(
        store,
        `ALTER TABLE audit_decision_stats UPDATE decisions = decisions + 1 WHERE toString(tuple(${columns})) = '${edited.replace(/'/g, "\\'")}'`,
      );
      await tamper(
        store,
        `ALTER TABLE audit_decision_stats DELETE WHERE toString(tuple(${columns})) = '${deleted.replace(/'/g, "\\'")}'`,
      );
      await tamper(
        store,
        `INSERT INTO audit_decision_stats SELECT * REPLACE ('forged-model' AS model_id) FROM audit_decision_stats LIMIT 1`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_decision_stats');
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'different', key: edited, stream: 'stream-1' }),
      );
      expect(found.find((f) => f.key === edited)?.message).toMatch(/decisions \d+ \(derived \d+\)/);
      expect(found).toContainEqual(expect.objectContaining({ code: 'missing', key: deleted }));
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'extra', key: expect.stringContaining('forged-model') }),
      );
    });

    it('audit_confidence_stats: a forged digest for an existing day and a deleted hour', async () => {
      const columns = 'width_s, start, model_id, model_version, service, retention_class';
      const day = await firstKey('audit_confidence_stats', columns, 'width_s DESC, start');
      const hour = await firstKey('audit_confidence_stats', columns, 'width_s, start DESC');
      await tamper(
        store,
        `INSERT INTO audit_confidence_stats
         SELECT width_s, start, model_id, model_version, service, retention_class,
           (SELECT quantilesTDigestState(0.5, 0.9)(toFloat64(0.99)) FROM numbers(2000))
         FROM audit_confidence_stats WHERE toString(tuple(${columns})) = '${day.replace(/'/g, "\\'")}' LIMIT 1`,
      );
      await tamper(
        store,
        `ALTER TABLE audit_confidence_stats DELETE WHERE toString(tuple(${columns})) = '${hour.replace(/'/g, "\\'")}'`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_confidence_stats');
      expect(found).toContainEqual(expect.objectContaining({ code: 'different', key: day }));
      expect(found).toContainEqual(expect.objectContaining({ code: 'missing', key: hour }));
    });

    it('audit_oversight_stats: a forged decision in a set, a deleted cell', async () => {
      const columns = 'hour, model_id, model_version, action, retention_class';
      const edited = await firstKey('audit_oversight_stats', columns, `hour, ${columns}`);
      const deleted = await firstKey('audit_oversight_stats', columns, `hour DESC, ${columns}`);
      await tamper(
        store,
        `INSERT INTO audit_oversight_stats
         SELECT hour, model_id, model_version, action, retention_class,
           (SELECT uniqExactState(toUInt64(42))), (SELECT uniqExactState(toUInt64(42)))
         FROM audit_oversight_stats WHERE toString(tuple(${columns})) = '${edited.replace(/'/g, "\\'")}' LIMIT 1`,
      );
      await tamper(
        store,
        `ALTER TABLE audit_oversight_stats DELETE WHERE toString(tuple(${columns})) = '${deleted.replace(/'/g, "\\'")}'`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_oversight_stats');
      expect(found).toContainEqual(expect.objectContaining({ code: 'different', key: edited }));
      expect(found.find((f) => f.key === edited)?.message).toMatch(/decisions \d+ distinct/);
      expect(found).toContainEqual(expect.objectContaining({ code: 'missing', key: deleted }));
    });

    it('audit_feedback_stats: an edited correct count, a deleted cell', async () => {
      const columns = 'hour, model_id, model_version, retention_class';
      const edited = await firstKey('audit_feedback_stats', columns, `hour, ${columns}`);
      const deleted = await firstKey('audit_feedback_stats', columns, `hour DESC, ${columns}`);
      await tamper(
        store,
        `ALTER TABLE audit_feedback_stats UPDATE correct_labels = correct_labels + 1
         WHERE toString(tuple(${columns})) = '${edited.replace(/'/g, "\\'")}'`,
      );
      await tamper(
        store,
        `ALTER TABLE audit_feedback_stats DELETE WHERE toString(tuple(${columns})) = '${deleted.replace(/'/g, "\\'")}'`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'audit_feedback_stats');
      expect(found).toContainEqual(expect.objectContaining({ code: 'different', key: edited }));
      expect(found).toContainEqual(expect.objectContaining({ code: 'missing', key: deleted }));
    });

    it('otel_traces_trace_id_ts: a deleted and a forged trace range', async () => {
      const traceId = decision(7).traceId;
      await tamper(store, `ALTER TABLE otel_traces_trace_id_ts DELETE WHERE TraceId = '${traceId}'`);
      await tamper(
        store,
        `INSERT INTO otel_traces_trace_id_ts SELECT 'dddddddddddddddddddddddddddddddd', Start, End
         FROM otel_traces_trace_id_ts LIMIT 1`,
      );
      const found = findingsOf(await store.reconcileAuditTables(), 'otel_traces_trace_id_ts');
      expect(found).toContainEqual(expect.objectContaining({ code: 'missing', key: `('${traceId}')` }));
      expect(found).toContainEqual(
        expect.objectContaining({ code: 'extra', key: "('dddddddddddddddddddddddddddddddd')" }),
      );
    });
  });

  it('finds the same in time windows and trace buckets as in one statement per table', async () => {
    const order = (result: AuditReconciliation) =>
      result.findings.map((f) => JSON.stringify([f.table, f.code, f.decisionId, f.spanId, f.key])).sort();
    const whole = await store.reconcileAuditTables();
    const windowed = await store.reconcileAuditTables({ rowsPerStatement: 40 });
    expect(whole.findings.length).toBeGreaterThan(20);
    expect(order(windowed)).toEqual(order(whole));
    expect(windowed.tables).toEqual(whole.tables);
  });

  it('reports at most `limit` findings per table, and how many there are', async () => {
    await tamper(store, `ALTER TABLE audit_decisions UPDATE purpose = 'edited' WHERE integrity_seq >= 200`);
    const result = await store.reconcileAuditTables({ limit: 5 });
    expect(findingsOf(result, 'audit_decisions')).toHaveLength(5);
    expect(result.tables.find((t) => t.table === 'audit_decisions')?.findings).toBeGreaterThanOrEqual(40);
  });
});
