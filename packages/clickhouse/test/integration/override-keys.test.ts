import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionSearch, FoundDecision, ReconciliationFinding, Store } from '@decisiontrail/clickhouse';
import {
  decisionIdAt,
  decisionSpan,
  oversightSpan,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore, tamper } from '../support/temp-store.ts';

const TABLE = 'audit_overrides';
const START = Date.UTC(2026, 8, 1, 9);
const random = seededRandom(2525);

/**
 * The finder's overridden pages by confidence and by time read audit_overrides (migration 25): a row per copy of
 * an override record with its decision's confidence key and time, filled from whichever of the decision and the
 * record is stored second. Each test stores decisions of a model of its own, in separate inserts as separate exporters would, and
 * computes what the finder must list from what it stored: the decisions whose record's last stored copy is an
 * override, by the confidence of the decision's last stored copy (or its time), then id.
 */
describe('audit_overrides: the overridden decisions by confidence and by time, either arrival order', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
  });
  afterAll(async () => {
    await cleanup();
  });

  let at = START;
  function decisionsOf(model: string, confidences: (number | undefined)[]): DecisionFixture[] {
    return confidences.map((confidence) => {
      at += 1000;
      return {
        decisionId: decisionIdAt(at, random),
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: at,
        modelId: model,
        modelVersion: '1',
        outcome: 'approve',
        ...(confidence === undefined ? {} : { confidence }),
        service: 'loan-api',
      };
    });
  }
  const record = (d: DecisionFixture, spanId: string, action: string) =>
    oversightSpan({
      decisionId: d.decisionId,
      decisionTraceId: d.traceId,
      decisionSpanId: d.spanId,
      traceId: randomHex(random, 16),
      spanId,
      startMs: d.startMs + 60_000,
      action,
    });

  /** Every page of a search through its cursors, pages of `limit`. */
  async function allPages(search: DecisionSearch, limit: number): Promise<FoundDecision[]> {
    const found: FoundDecision[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await store.findDecisions({
        ...search,
        limit,
        ...(cursor === undefined ? {} : { cursor }),
      });
      found.push(...page.decisions);
      if (page.nextCursor === null) return found;
      cursor = page.nextCursor;
    }
    throw new Error('more than 50 pages');
  }

  /** The expected ids, ordered here: by confidence (none as -1) or time, then decision id, in `order`. */
  function ordered(ds: DecisionFixture[], sort: 'confidence' | 'time', order: 'asc' | 'desc'): string[] {
    const sign = order === 'asc' ? 1 : -1;
    const key = (d: DecisionFixture): number => (sort === 'time' ? d.startMs : (d.confidence ?? -1));
    return [...ds]
      .sort((a, b) => sign * (key(a) - key(b) || (a.decisionId < b.decisionId ? -1 : 1)))
      .map((d) => d.decisionId);
  }

  /** The finder's overridden and not-overridden pages of one model, both sorts and orders, pages of 1 and of 2. */
  async function expectPages(model: string, overridden: DecisionFixture[], not: DecisionFixture[]) {
    for (const sort of ['confidence', 'time'] as const) {
      for (const order of ['desc', 'asc'] as const) {
        for (const limit of [1, 2]) {
          const search = { modelId: model, sort, order } as const;
          const yes = await allPages({ ...search, overridden: true }, limit);
          expect(yes.map((d) => d.decisionId)).toEqual(ordered(overridden, sort, order));
          expect(yes.every((d) => d.overridden)).toBe(true);
          const no = await allPages({ ...search, overridden: false }, limit);
          expect(no.map((d) => d.decisionId)).toEqual(ordered(not, sort, order));
        }
      }
    }
  }

  async function rowsOf(ids: string[]) {
    const result = await store.client.query({
      query: `SELECT decision_id AS id, decided, confidence_key AS key, service
              FROM ${TABLE} FINAL WHERE decision_id IN {ids:Array(String)} ORDER BY id`,
      query_params: { ids },
      format: 'JSONEachRow',
    });
    return (await result.json<{ id: string; decided: boolean; key: number; service: string }>()).map((r) => ({
      ...r,
      decided: Boolean(r.decided),
    }));
  }

  it('takes the confidence whichever is stored first: the decision, or the override (pending until then)', async () => {
    const [first, later, never] = decisionsOf('order', [0.61, 0.42, 0.5]);
    // Decision first, its override later; the other override before its decision.
    await store.insertSpans([decisionSpan(first!), decisionSpan(never!)]);
    await store.insertSpans([record(first!, randomHex(random, 8), 'override')]);
    await store.insertSpans([record(later!, randomHex(random, 8), 'override')]);
    expect(await rowsOf([first!.decisionId, later!.decisionId])).toEqual(
      [
        { id: first!.decisionId, decided: true, key: 0.61, service: 'loan-api' },
        // Pending: no decision yet; the record's service.
        { id: later!.decisionId, decided: false, key: 0, service: 'review-console' },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    await expectPages('order', [first!], [never!]);
    await store.insertSpans([decisionSpan(later!)]);
    expect((await rowsOf([later!.decisionId])).map((r) => [r.decided, r.key, r.service])).toEqual([
      [true, 0.42, 'loan-api'],
    ]);
    await expectPages('order', [first!, later!], [never!]);
    // A decision nobody overrode has no row, reviewed or not.
    await store.insertSpans([record(never!, randomHex(random, 8), 'review')]);
    expect(await rowsOf([never!.decisionId])).toEqual([]);
    await expectPages('order', [first!, later!], [never!]);
  });

  it('finds an override whose decision was stored while nothing wrote its row (inserts at the same moment)', async () => {
    const [raced, plain] = decisionsOf('race', [0.77, 0.2]);
    await store.insertSpans([decisionSpan(plain!)]);
    await store.insertSpans([
      record(raced!, randomHex(random, 8), 'override'),
      record(plain!, randomHex(random, 8), 'override'),
    ]);
    // The decision's view does not see the override's row, as when both inserts run at once: the row stays pending.
    await store.client.command({ query: 'DETACH TABLE audit_overrides_decisions_mv' });
    try {
      await store.insertSpans([decisionSpan(raced!)]);
    } finally {
      await store.client.command({ query: 'ATTACH TABLE audit_overrides_decisions_mv' });
    }
    expect((await rowsOf([raced!.decisionId])).map((r) => r.decided)).toEqual([false]);
    await expectPages('race', [raced!, plain!], []);
    const result = await store.reconcileAuditTables({ tables: [TABLE] });
    expect(result.findings).toEqual([]);
  });

  it('follows the final copy of a record: override, then a copy as review, then a copy as override again', async () => {
    const [flipped, kept, bare] = decisionsOf('flip', [0.3, 0.9, undefined]);
    await store.insertSpans([decisionSpan(flipped!), decisionSpan(kept!), decisionSpan(bare!)]);
    const flippedRecord = randomHex(random, 8);
    await store.insertSpans([
      record(flipped!, flippedRecord, 'override'),
      record(kept!, randomHex(random, 8), 'override'),
      record(bare!, randomHex(random, 8), 'override'),
    ]);
    await expectPages('flip', [flipped!, kept!, bare!], []);
    await store.insertSpans([record(flipped!, flippedRecord, 'review')]);
    await expectPages('flip', [kept!, bare!], [flipped!]);
    await store.insertSpans([record(flipped!, flippedRecord, 'override')]);
    await expectPages('flip', [flipped!, kept!, bare!], []);
    await store.client.command({ query: `OPTIMIZE TABLE ${TABLE} FINAL` });
    await store.client.command({ query: 'OPTIMIZE TABLE audit_oversight FINAL' });
    await expectPages('flip', [flipped!, kept!, bare!], []);
    await store.insertSpans([record(flipped!, flippedRecord, 'review')]);
    await store.client.command({ query: 'OPTIMIZE TABLE audit_oversight FINAL' });
    await expectPages('flip', [kept!, bare!], [flipped!]);
  });

  it('lists an overridden decision where its last stored copy sorts, once', async () => {
    const [moved, other] = decisionsOf('moved', [0.15, 0.5]);
    await store.insertSpans([decisionSpan(moved!), decisionSpan(other!)]);
    await store.insertSpans([
      record(moved!, randomHex(random, 8), 'override'),
      record(other!, randomHex(random, 8), 'override'),
    ]);
    await store.insertSpans([decisionSpan({ ...moved!, confidence: 0.85 })]);
    await expectPages('moved', [{ ...moved!, confidence: 0.85 }, other!], []);
  });

  it('verify: the untouched table matches; an UPDATE, a DELETE and a forged INSERT are each found', async () => {
    const clean = await store.reconcileAuditTables();
    expect(clean.findings.filter((f) => f.table === TABLE)).toEqual([]);
    const counted = clean.tables.find((t) => t.table === TABLE)!;
    expect(counted.findings).toBe(0);
    expect(counted.rows).toBeGreaterThanOrEqual(counted.derived);

    const [edited, deleted, forged] = decisionsOf('tampered', [0.35, 0.45, 0.55]);
    await store.insertSpans([decisionSpan(edited!), decisionSpan(deleted!), decisionSpan(forged!)]);
    const [editedRecord, deletedRecord] = [randomHex(random, 8), randomHex(random, 8)];
    await store.insertSpans([
      record(edited!, editedRecord, 'override'),
      record(deleted!, deletedRecord, 'override'),
    ]);
    expect((await store.reconcileAuditTables({ tables: [TABLE] })).findings).toEqual([]);

    // An insider moves one override where a page would show it first, deletes another and adds one nobody made.
    await tamper(
      store,
      `ALTER TABLE ${TABLE} UPDATE confidence_key = 0.99 WHERE decision_id = '${edited!.decisionId}'`,
    );
    await tamper(store, `ALTER TABLE ${TABLE} DELETE WHERE decision_id = '${deleted!.decisionId}'`);
    const forgedSpan = randomHex(random, 8);
    await tamper(
      store,
      `INSERT INTO ${TABLE} (decision_id, span_id, record_time, decided, confidence_key, time, service, model_id,
         model_version)
       SELECT decision_id, '${forgedSpan}', time, true, ifNull(confidence, -1), time, service, model_id, model_version
       FROM audit_decisions WHERE decision_id = '${forged!.decisionId}'`,
    );
    const expected: Pick<ReconciliationFinding, 'code' | 'decisionId' | 'spanId'>[] = [
      { code: 'different', decisionId: edited!.decisionId, spanId: editedRecord },
      { code: 'extra', decisionId: forged!.decisionId, spanId: forgedSpan },
      { code: 'missing', decisionId: deleted!.decisionId, spanId: deletedRecord },
    ];
    for (const tables of [undefined, [TABLE]]) {
      const result = await store.reconcileAuditTables(tables === undefined ? {} : { tables });
      const found = result.findings.filter((f) => f.table === TABLE);
      expect(
        found
          .map(({ code, decisionId, spanId }) => ({ code, decisionId, spanId }))
          .sort((a, b) => (a.code < b.code ? -1 : 1)),
      ).toEqual(expected);
      expect(result.tables.find((t) => t.table === TABLE)!.findings).toBe(3);
      expect(found.every((f) => f.message.includes(f.decisionId!))).toBe(true);
    }
  });
});
