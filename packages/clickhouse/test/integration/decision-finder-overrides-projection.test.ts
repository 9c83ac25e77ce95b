import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MIGRATIONS, type DecisionSearch, type FoundDecision, type Store } from '@decisiontrail/clickhouse';
import { QueryContext } from '@decisiontrail/clickhouse/internal';
import {
  decisionIdAt,
  decisionSpan,
  oversightOf,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStoreAt, rowsOf } from '../support/temp-store.ts';

/** Migration 34: audit_overrides' projection by model, version and confidence key. */
const PROJECTED = 34;
const PROJECTION = 'by_model_confidence';
const START = Date.UTC(2026, 9, 1, 9);
const random = seededRandom(3434);

/**
 * An overridden page of one model version reads its ids from the projection of audit_overrides by model, version and
 * confidence key (that model's range, not every override's row), which must hold exactly the table's rows whatever
 * happened to them: built for the parts stored before the migration, written with every insert after it, and built
 * again when a merge replaces rows — a pending row by its decided one, a decision's row by the row of its later
 * copy. Enough overrides (four model versions of 1000 decisions) that the table spans granules of 1024 rows and the engine
 * chooses the projection by itself. Every expectation is computed here from what the test stored.
 */
describe('migration 34: the overridden pages of one model version from the projection of audit_overrides', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const MODELS = [
    ['scorer', '1'],
    ['scorer', '2'],
    ['fraud', '1'],
    ['triage', '7'],
  ] as const;
  /** Every decision as its last stored copy has it, and whether a record of it is an override. */
  const stored = new Map<string, DecisionFixture>();
  const overridden = new Set<string>();
  const made: DecisionFixture[] = [];
  let at = START;
  for (let i = 0; i < 4000; i++) {
    at += 1000;
    const [modelId, modelVersion] = MODELS[i % MODELS.length]!;
    made.push({
      decisionId: decisionIdAt(at, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: at,
      modelId,
      modelVersion,
      outcome: 'approve',
      // Ties in confidence (three decimals over 1000 decisions a version), some without one.
      ...(i % 50 === 7 ? {} : { confidence: Math.round(random() * 1000) / 1000 }),
      service: i % 3 === 0 ? 'loan-api' : 'fraud-api',
    });
  }
  const override = (d: DecisionFixture, action = 'override') => oversightOf(d, random, action);
  async function storeDecisions(ds: DecisionFixture[]): Promise<void> {
    await store.insertSpans(ds.map(decisionSpan));
    for (const d of ds) stored.set(d.decisionId, d);
  }
  async function storeOverrides(ds: DecisionFixture[]): Promise<void> {
    await store.insertSpans(ds.map((d) => override(d)));
    for (const d of ds) overridden.add(d.decisionId);
  }

  /** Every page of a search through its cursors. */
  async function allPages(search: DecisionSearch, limit: number): Promise<FoundDecision[]> {
    const found: FoundDecision[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const page = await store.findDecisions({
        ...search,
        limit,
        ...(cursor === undefined ? {} : { cursor }),
      });
      found.push(...page.decisions);
      if (page.nextCursor === null) return found;
      cursor = page.nextCursor;
    }
    throw new Error('more than 200 pages');
  }

  /** The overridden decisions of a model version (stored, with an override) in a search's order, computed here. */
  function expected(model: string, version: string, sort: 'confidence' | 'time', order: 'asc' | 'desc') {
    const key = (d: DecisionFixture): number => (sort === 'time' ? d.startMs : (d.confidence ?? -1));
    const sign = order === 'asc' ? 1 : -1;
    return [...stored.values()]
      .filter((d) => d.modelId === model && d.modelVersion === version && overridden.has(d.decisionId))
      .sort((a, b) => sign * (key(a) - key(b) || (a.decisionId < b.decisionId ? -1 : 1)))
      .map((d) => [d.decisionId, d.confidence ?? null]);
  }

  async function expectPages(): Promise<void> {
    for (const [model, version] of MODELS.slice(0, 2)) {
      for (const [sort, order] of [
        ['confidence', 'desc'],
        ['confidence', 'asc'],
        ['time', 'desc'],
      ] as const) {
        const want = expected(model, version, sort, order);
        expect(want.length).toBeGreaterThan(0);
        const search = { modelId: model, modelVersion: version, overridden: true, sort, order } as const;
        const got = await allPages(search, 97);
        expect(
          got.map((d) => [d.decisionId, d.confidence]),
          `${model} ${version} ${sort} ${order}`,
        ).toEqual(want);
        expect(got.every((d) => d.overridden)).toBe(true);
      }
    }
  }

  /**
   * The projection holds exactly the table's rows, copy for copy (neither read with FINAL): each part's projection
   * read as it is stored (mergeTreeProjection), against the table's parts.
   */
  async function expectProjectionIsTable(): Promise<void> {
    const columns =
      'decision_id, decided, confidence_key, toString(time) AS t, service, model_id, model_version';
    const order = 'ORDER BY decision_id, decided, confidence_key, t, service, model_id, model_version';
    const projected = await rowsOf(
      store,
      `SELECT ${columns} FROM mergeTreeProjection(default, audit_overrides, ${PROJECTION}) ${order}`,
    );
    const table = await rowsOf(store, `SELECT ${columns} FROM default.audit_overrides ${order}`);
    expect(table.length).toBeGreaterThan(0);
    expect(projected).toEqual(table);
  }

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(PROJECTED - 1));
    // Before the migration: half the decisions, most of them overridden, in two inserts.
    await storeDecisions(made.slice(0, 2000));
    await storeOverrides(made.slice(0, 2000).filter((_, i) => i % 5 !== 1));
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version >= PROJECTED).map((m) => m.version),
    );
  });
  afterAll(async () => {
    await cleanup();
  });

  it('builds the projection for the parts stored before the migration', async () => {
    const [parts] = await rowsOf<{ stored: string; projected: string }>(
      store,
      `SELECT toString(sum(p.rows)) AS stored,
         toString((SELECT sum(j.rows) FROM system.projection_parts AS j
           WHERE j.database = 'default' AND j.table = 'audit_overrides' AND j.name = '${PROJECTION}' AND j.active))
           AS projected
       FROM system.parts AS p WHERE p.database = 'default' AND p.table = 'audit_overrides' AND p.active`,
    );
    expect(Number(parts!.stored)).toBe(overridden.size);
    expect(parts!.projected).toBe(parts!.stored);
    await expectProjectionIsTable();
    await expectPages();
  });

  it('reads it for a page of one model version, and lists what was stored through pending rows, later copies and merges', async () => {
    // Overrides stored before their decisions (pending rows), then the decisions (their decided rows).
    const later = made.slice(2000);
    await storeOverrides(later.filter((_, i) => i % 4 !== 2));
    await expectProjectionIsTable();
    await storeDecisions(later);
    // Later copies of overridden decisions at another confidence: their rows again, at the new key.
    const moved = [...overridden]
      .filter((_, i) => i % 37 === 0)
      .map((id) => ({ ...stored.get(id)!, confidence: Math.round(random() * 1000) / 1000 }));
    await storeDecisions(moved);
    await expectProjectionIsTable();

    await expectPages();
    // Merged: the pending rows and the earlier copies' rows replaced in the table, and in the projection.
    await store.client.command({ query: 'OPTIMIZE TABLE default.audit_overrides FINAL' });
    const [{ pending }] = await rowsOf<{ pending: string }>(
      store,
      'SELECT toString(countIf(NOT decided)) AS pending FROM default.audit_overrides',
    );
    expect(pending).toBe('0');
    await expectProjectionIsTable();
    // The finder's statement for the ids of a page of one model version reads the projection (a granule of the
    // merged part's two or more).
    const statements: { sql: string; params: Record<string, unknown> }[] = [];
    const rows = QueryContext.prototype.rows;
    const spy = vi.spyOn(QueryContext.prototype, 'rows').mockImplementation(function (
      this: QueryContext,
      template,
      params,
    ) {
      statements.push({ sql: this.sql(template), params: params ?? {} });
      return rows.call(this, template, params) as never;
    });
    await store.findDecisions({ modelId: 'scorer', modelVersion: '2', overridden: true, sort: 'confidence' });
    spy.mockRestore();
    expect(statements[0]!.sql).toContain('audit_overrides');
    const plan = await store.client.query({
      query: `EXPLAIN ${statements[0]!.sql}`,
      query_params: statements[0]!.params,
      format: 'JSONEachRow',
    });
    const explained = (await plan.json<{ explain: string }>()).map((row) => row.explain).join('\n');
    expect(explained).toContain(`ReadFromMergeTree (${PROJECTION})`);

    await expectPages();
  });
});
