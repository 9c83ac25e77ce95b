import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReconciliation, Store } from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { openTempStore, tamper } from '../support/temp-store.ts';

const TABLE = 'audit_decisions_by_confidence';
const findingsOf = (result: AuditReconciliation) => result.findings.filter((f) => f.table === TABLE);

/**
 * The finder's confidence-ordered pages read their ids and filters from audit_decisions_by_confidence (filled from
 * audit_decisions' inserts), so `verify` compares that table with the spans too: through audit_decisions' rows
 * where that table was just proven, through its derivation from otel_traces where it was not. Tests run in order on
 * one store, each tampering with rows of its own.
 */
describe('audit_decisions_by_confidence is reconciled with the decision spans', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset(11);
    const sink = store.createSink({ maxBatchSize: 100, flushIntervalMs: 5 });
    await sink.write(data.spans);
    await sink.flush();
  });
  afterAll(async () => {
    await cleanup();
  });

  const decision = (i: number) => data.decisions[i]!;

  it('finds nothing on an untouched store and compares one row per decision', async () => {
    const result = await store.reconcileAuditTables();
    expect(result.findings).toEqual([]);
    const table = result.tables.find((t) => t.table === TABLE);
    expect(table).toEqual({
      table: TABLE,
      rows: data.decisions.length,
      derived: data.decisions.length,
      findings: 0,
    });
    // The same without audit_decisions in the query: derived from otel_traces instead of the proven table.
    const alone = await store.reconcileAuditTables({ tables: [TABLE] });
    expect(alone.findings).toEqual([]);
    expect(alone.tables).toEqual([table]);
  });

  it('UPDATE of a filtered value is a difference naming the decision and its stream', async () => {
    const d = decision(3);
    await tamper(
      store,
      `ALTER TABLE ${TABLE} UPDATE outcome = 'reject' WHERE decision_id = '${d.decisionId}'`,
    );
    for (const tables of [undefined, [TABLE]]) {
      const found = findingsOf(await store.reconcileAuditTables(tables === undefined ? {} : { tables }));
      expect(found).toEqual([
        expect.objectContaining({ code: 'different', decisionId: d.decisionId, stream: 'stream-1' }),
      ]);
      // The table keeps no span id (migration 28): the finding names the decision, whose span verify names too.
      expect(found[0]).not.toHaveProperty('spanId');
      expect(found[0]!.message).toContain(`decision ${d.decisionId}`);
    }
  });

  it('DELETE is missing, a forged INSERT extra, a changed confidence different', async () => {
    const [deleted, copied, moved] = [decision(4), decision(5), decision(6)];
    await tamper(store, `ALTER TABLE ${TABLE} DELETE WHERE decision_id = '${deleted.decisionId}'`);
    await tamper(
      store,
      `INSERT INTO ${TABLE} SELECT * REPLACE ('forged-decision' AS decision_id)
       FROM (SELECT * FROM ${TABLE} WHERE decision_id = '${copied.decisionId}')`,
    );
    // The sort key itself: the row moves to another place in confidence order.
    await tamper(
      store,
      `INSERT INTO ${TABLE} SELECT * REPLACE (0.999 AS confidence_key, 0.999 AS confidence)
       FROM (SELECT * FROM ${TABLE} WHERE decision_id = '${moved.decisionId}')`,
    );
    await tamper(
      store,
      `ALTER TABLE ${TABLE} DELETE WHERE decision_id = '${moved.decisionId}' AND confidence_key != 0.999`,
    );
    const found = findingsOf(await store.reconcileAuditTables());
    expect(found).toContainEqual(
      expect.objectContaining({ code: 'missing', decisionId: deleted.decisionId }),
    );
    expect(found).toContainEqual(expect.objectContaining({ code: 'extra', decisionId: 'forged-decision' }));
    expect(found).toContainEqual(
      expect.objectContaining({ code: 'different', decisionId: moved.decisionId }),
    );
    expect(found).toHaveLength(4);
  });

  it('with audit_decisions edited too (not proven), the rows are still compared with the spans', async () => {
    const d = decision(7);
    // An insider edits both tables alike: the finder's row agrees with audit_decisions, not with the span.
    await tamper(
      store,
      `ALTER TABLE audit_decisions UPDATE outcome = 'reject' WHERE decision_id = '${d.decisionId}'`,
    );
    await tamper(
      store,
      `ALTER TABLE ${TABLE} UPDATE outcome = 'reject' WHERE decision_id = '${d.decisionId}'`,
    );
    const result = await store.reconcileAuditTables();
    expect(result.findings.filter((f) => f.table === 'audit_decisions')).toEqual([
      expect.objectContaining({ code: 'different', decisionId: d.decisionId }),
    ]);
    expect(findingsOf(result)).toContainEqual(
      expect.objectContaining({ code: 'different', decisionId: d.decisionId }),
    );
    expect(findingsOf(result)).toHaveLength(5);
  });
});
