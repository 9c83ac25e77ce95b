import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrationStatements,
  renderContext,
  type DecisionSearch,
  type FoundDecision,
  type Store,
} from '@decisiontrail/clickhouse';
import { findDecisions, QueryContext, type FinderTuning } from '@decisiontrail/clickhouse/internal';
import {
  checkpointSpan,
  decisionIdAt,
  decisionSpan,
  oversightOf,
  oversightSpan,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const START = Date.UTC(2026, 5, 1, 8);
const random = seededRandom(41);

const DAY_MS = 86_400_000;
/**
 * Six more decisions far from the others (weeks, years, decades away), so a time-ordered page is read through
 * several of the finder's windows of time and, past the widest, without one.
 */
const FAR_MS = [-40 * DAY_MS, -3 * DAY_MS, 30 * DAY_MS, 730 * DAY_MS, 19 * 365 * DAY_MS, 20 * 365 * DAY_MS];

/**
 * 96 decisions: two models, three versions, outcomes, some without confidence, two streams and unsigned ones; 90
 * of them 45 s apart, the rest far away.
 */
const decisions: DecisionFixture[] = Array.from({ length: 90 + FAR_MS.length }, (_, i) => {
  const startMs = i >= 90 ? START + FAR_MS[i - 90]! : START + i * 45_000 + (i % 4 === 0 ? 0 : 7);
  const stream = i % 3 === 0 ? undefined : i % 3 === 1 ? 'stream-a' : 'stream-b';
  return {
    decisionId: decisionIdAt(startMs, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    // Ties in time, so the decision id must break them.
    startMs: i % 10 === 5 && i < 90 ? START + (i - 1) * 45_000 + 7 : startMs,
    modelId: i % 5 === 0 ? 'fraud' : 'credit',
    modelVersion: i < 40 ? '1.0.0' : i < 80 ? '2.0.0' : '',
    outcome: ['approve', 'deny', 'refer'][i % 3]!,
    ...(i % 11 === 0 ? {} : { confidence: Math.round(random() * 1000) / 1000 }),
    subjectId: `subject-${i % 9}`,
    fairnessGroup: i % 2 === 0 ? 'group-a' : 'group-b',
    ...(stream === undefined ? {} : { stream, seq: Math.floor(i / 3) }),
  };
});
/**
 * The `i`th decision of a test's own model, a second after the one before from `at`, approved, with the confidence
 * given: the fixtures of the tests that store decisions apart from the shared ones.
 */
const ownDecision = (
  model: string,
  subject: string,
  at: number,
  i: number,
  confidence: number,
): DecisionFixture => ({
  decisionId: decisionIdAt(at + i * 1000, random),
  traceId: randomHex(random, 16),
  spanId: randomHex(random, 8),
  startMs: at + i * 1000,
  modelId: model,
  modelVersion: '1',
  outcome: 'approve',
  confidence,
  subjectId: subject,
  fairnessGroup: 'group-a',
});

const overriddenIds = new Set(decisions.filter((_, i) => i % 7 === 3).map((d) => d.decisionId));
/** stream-a is sealed up to leaf 20 by a checkpoint the caller trusts; stream-b by none. */
const SEALED = [{ stream: 'stream-a', size: 20 }];

const integrityOf = (d: DecisionFixture): string =>
  d.stream === undefined
    ? 'unsigned'
    : d.stream !== 'stream-a'
      ? 'untrusted'
      : d.seq! < 20
        ? 'sealed'
        : 'unsealed';

/** The expected order, computed here: by time or by confidence (none as -1), then decision id. */
function expected(filter: (d: DecisionFixture) => boolean, search: DecisionSearch): string[] {
  const key = (d: DecisionFixture): number =>
    search.sort === 'confidence' ? (d.confidence ?? -1) : d.startMs;
  const sign = search.order === 'asc' ? 1 : -1;
  return decisions
    .filter(filter)
    .sort((a, b) => sign * (key(a) - key(b) || (a.decisionId < b.decisionId ? -1 : 1)))
    .map((d) => d.decisionId);
}

describe('findDecisions (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  let ctx: QueryContext;

  /**
   * Every page of a search, followed through its cursors; with `tuning`, through the finder's other path (a
   * confidence order read from audit_decisions_by_confidence, which a store this small never needs).
   */
  async function allPages(
    search: DecisionSearch,
    limit: number,
    tuning?: FinderTuning,
  ): Promise<FoundDecision[]> {
    const found: FoundDecision[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const paged = { ...search, limit, ...(cursor === undefined ? {} : { cursor }) };
      const page =
        tuning === undefined ? await store.findDecisions(paged) : await findDecisions(ctx, paged, tuning);
      expect(page.decisions.length).toBeLessThanOrEqual(limit);
      found.push(...page.decisions);
      if (page.nextCursor === null) return found;
      cursor = page.nextCursor;
    }
    throw new Error('more than 100 pages');
  }

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    ctx = new QueryContext(
      store.client,
      renderContext({
        database: store.options.database,
        cluster: undefined,
        retention: store.options.retention,
      }),
    );
    const oversight = decisions
      .filter((d) => overriddenIds.has(d.decisionId))
      .map((d, i) =>
        oversightSpan({
          decisionId: d.decisionId,
          decisionTraceId: d.traceId,
          decisionSpanId: d.spanId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          startMs: d.startMs + 60_000 + i,
          action: 'override',
        }),
      );
    // A review is not an override.
    const review = oversightSpan({
      decisionId: decisions[0]!.decisionId,
      decisionTraceId: decisions[0]!.traceId,
      decisionSpanId: decisions[0]!.spanId,
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: START + 1,
      action: 'review',
    });
    const checkpoint = checkpointSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: START + 3_600_000,
      stream: 'stream-a',
      size: 20,
    });
    await store.insertSpans([...decisions.map(decisionSpan), ...oversight, review, checkpoint]);
  });
  afterAll(async () => {
    await cleanup();
  });

  const cases: { name: string; search: DecisionSearch; filter: (d: DecisionFixture) => boolean }[] = [
    { name: 'everything, newest first', search: {}, filter: () => true },
    { name: 'oldest first', search: { order: 'asc' }, filter: () => true },
    {
      name: 'a model version in a window',
      search: {
        modelId: 'credit',
        modelVersion: '2.0.0',
        from: new Date(START + 45 * 45_000),
        to: new Date(START + 70 * 45_000),
      },
      filter: (d) =>
        d.modelId === 'credit' &&
        d.modelVersion === '2.0.0' &&
        d.startMs >= START + 45 * 45_000 &&
        d.startMs < START + 70 * 45_000,
    },
    {
      name: 'the decisions without a version',
      search: { modelVersion: '' },
      filter: (d) => d.modelVersion === '',
    },
    {
      name: 'an outcome in a confidence range',
      search: { outcome: 'deny', minConfidence: 0.2, maxConfidence: 0.8 },
      filter: (d) =>
        d.outcome === 'deny' && d.confidence !== undefined && d.confidence >= 0.2 && d.confidence <= 0.8,
    },
    { name: 'overridden', search: { overridden: true }, filter: (d) => overriddenIds.has(d.decisionId) },
    {
      name: 'not overridden, one group',
      search: { overridden: false, fairnessGroup: 'group-b' },
      filter: (d) => !overriddenIds.has(d.decisionId) && d.fairnessGroup === 'group-b',
    },
    { name: 'one subject', search: { subjectId: 'subject-4' }, filter: (d) => d.subjectId === 'subject-4' },
    {
      name: 'by confidence, highest first',
      search: { sort: 'confidence' },
      filter: () => true,
    },
    {
      name: 'by confidence, lowest first, one model',
      search: { sort: 'confidence', order: 'asc', modelId: 'fraud' },
      filter: (d) => d.modelId === 'fraud',
    },
    ...(['sealed', 'unsealed', 'untrusted', 'unsigned'] as const).map((integrity) => ({
      name: `integrity ${integrity}`,
      search: { sealed: SEALED, integrity },
      filter: (d: DecisionFixture) => integrityOf(d) === integrity,
    })),
    {
      // The unsealed leaves start at the smaller checkpoint size (stream-b's) in one stream and the larger in the other.
      name: 'integrity unsealed, two streams sealed at different sizes',
      search: { sealed: [...SEALED, { stream: 'stream-b', size: 10 }], integrity: 'unsealed' },
      filter: (d) => (d.stream === 'stream-a' && d.seq! >= 20) || (d.stream === 'stream-b' && d.seq! >= 10),
    },
    {
      name: 'integrity untrusted when no checkpoint is trusted',
      search: { sealed: [], integrity: 'untrusted' },
      filter: (d) => d.stream !== undefined,
    },
  ];

  for (const { name, search, filter } of cases) {
    it(`pages through ${name} without repeating or skipping a decision`, async () => {
      const want = expected(filter, search);
      expect(want.length).toBeGreaterThan(0);
      const got = await allPages(search, 7);
      expect(got.map((d) => d.decisionId)).toEqual(want);
      if (search.sort === 'confidence' && search.subjectId === undefined) {
        const sideTable = await allPages(search, 7, { directConfidenceRows: 0 });
        expect(sideTable.map((d) => d.decisionId)).toEqual(want);
        expect(sideTable).toEqual(got);
      }
    });
    if (search.sort !== 'confidence' && search.subjectId === undefined) {
      // The same filters in confidence order, sorted from audit_decisions (the store is small) and read from
      // audit_decisions_by_confidence.
      const byConfidence: DecisionSearch = { ...search, sort: 'confidence' };
      it(`pages through ${name} by confidence, from either table, alike`, async () => {
        const want = expected(filter, byConfidence);
        const direct = await allPages(byConfidence, 6);
        expect(direct.map((d) => d.decisionId)).toEqual(want);
        expect(await allPages(byConfidence, 6, { directConfidenceRows: 0 })).toEqual(direct);
        // A budget smaller than the period's rows makes the direct read refuse and the side table answer.
        expect(await allPages(byConfidence, 6, { directConfidenceRows: 5 })).toEqual(direct);
      });
    }
  }

  /** The statements (and their params) of every page of a search by confidence with this budget, and the pages. */
  async function statementsOf(
    search: DecisionSearch,
    directConfidenceRows: number,
  ): Promise<{ sql: string[]; params: Record<string, unknown>[]; found: string[] }> {
    const sql: string[] = [];
    const params: Record<string, unknown>[] = [];
    const recording = new (class extends QueryContext {
      override rows<T>(template: string, bound?: Parameters<QueryContext['rows']>[1]): Promise<T[]> {
        sql.push(this.sql(template));
        params.push(bound ?? {});
        return super.rows<T>(template, bound);
      }
    })(ctx.client, ctx.render);
    const found: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await findDecisions(
        recording,
        { ...search, sort: 'confidence', limit: 4, ...(cursor === undefined ? {} : { cursor }) },
        { directConfidenceRows },
      );
      found.push(...page.decisions.map((d) => d.decisionId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return { sql, params, found };
  }

  it('tries no direct read by confidence that would count every stored decision past its budget', async () => {
    const direct = (sql: string[]): number => sql.filter((s) => s.includes('max_rows_to_read')).length;
    const sideTable = (sql: string[]): number =>
      sql.filter((s) => s.includes('audit_decisions_by_confidence')).length;
    const denials: DecisionSearch = { outcome: 'deny', sealed: SEALED, integrity: 'sealed' };
    const want = expected((d) => d.outcome === 'deny' && d.stream === 'stream-a' && d.seq! < 20, {
      sort: 'confidence',
    });
    expect(want.length).toBeGreaterThan(4);
    // The whole period and filters no index of audit_decisions holds: more stored decisions than the budget, and
    // only the side table is read.
    const over = await statementsOf(denials, 5);
    expect(over.found).toEqual(want);
    expect(direct(over.sql)).toBe(0);
    expect(sideTable(over.sql)).toBeGreaterThan(0);
    // Within the budget, the direct read answers every page, as before.
    const within = await statementsOf(denials, 100_000);
    expect(within.found).toEqual(want);
    expect(sideTable(within.sql)).toBe(0);
    expect(direct(within.sql)).toBeGreaterThan(0);
    // A period, or a model (its index), can rule out parts of the table: the direct read is tried, refused by the
    // budget, and the side table answers.
    for (const narrowed of [{ from: new Date(START) }, { modelId: 'credit' }]) {
      const tried = await statementsOf({ ...denials, ...narrowed }, 5);
      const inSearch = expected(
        (d) =>
          d.outcome === 'deny' &&
          d.stream === 'stream-a' &&
          d.seq! < 20 &&
          ('from' in narrowed ? d.startMs >= START : d.modelId === 'credit'),
        { sort: 'confidence' },
      );
      expect(tried.found).toEqual(inSearch);
      expect(direct(tried.sql)).toBeGreaterThan(0);
      expect(sideTable(tried.sql)).toBeGreaterThan(0);
    }
  });

  it("reads a page's rows by primary key without testing a skip index on them", async () => {
    // A model (idx_model), a period (idx_time) and a status (idx_integrity_stream): each names an indexed column.
    const search: DecisionSearch = {
      modelId: 'credit',
      from: new Date(START),
      sealed: SEALED,
      integrity: 'sealed',
    };
    const want = expected(
      (d) => d.modelId === 'credit' && d.startMs >= START && d.stream === 'stream-a' && d.seq! < 20,
      { sort: 'confidence' },
    );
    expect(want.length).toBeGreaterThan(4);
    const { sql, params, found } = await statementsOf(search, 100_000);
    expect(found).toEqual(want);
    const rowsSteps = sql.flatMap((s, i) => (s.includes('AS decisionId') ? [i] : []));
    expect(rowsSteps.length).toBeGreaterThan(1);
    for (const i of rowsSteps) {
      const plan = await store.client.query({
        query: `EXPLAIN indexes = 1 ${sql[i]!}`,
        query_params: params[i]!,
        format: 'JSONEachRow',
      });
      const explained = (await plan.json<{ explain: string }>()).map((row) => row.explain).join('\n');
      // The primary key of audit_decisions is analysed; no skip index of it is.
      expect(explained).toMatch(/PrimaryKey/);
      expect(explained).not.toMatch(/Skip\b|idx_/);
    }
  });

  it('reads a time-ordered page across gaps of hours to decades, pages of one and of all', async () => {
    for (const order of ['desc', 'asc'] as const) {
      const want = expected(() => true, { order });
      // A page of one is full in the first window; the far decisions are each a window (or none) away.
      expect((await allPages({ order }, 1)).map((d) => d.decisionId)).toEqual(want);
      expect((await allPages({ order }, 95)).map((d) => d.decisionId)).toEqual(want);
      // One model from the far side of the gaps: its page needs the widest windows and then no window at all.
      const fraud = expected((d) => d.modelId === 'fraud', { order });
      expect((await allPages({ order, modelId: 'fraud' }, 3)).map((d) => d.decisionId)).toEqual(fraud);
    }
    const period = { from: new Date(START - 41 * DAY_MS), to: new Date(START + 31 * DAY_MS) };
    const inPeriod = expected(
      (d) => d.startMs >= period.from.getTime() && d.startMs < period.to.getTime(),
      {},
    );
    expect((await allPages(period, 4)).map((d) => d.decisionId)).toEqual(inPeriod);
    expect(
      await store.findDecisions({ from: new Date(START + 3 * DAY_MS), to: new Date(START + 4 * DAY_MS) }),
    ).toEqual({
      decisions: [],
      nextCursor: null,
    });
  });

  it('marks each decision overridden or not and with its integrity status', async () => {
    const page = await store.findDecisions({ sealed: SEALED, limit: 1000 });
    expect(page.nextCursor).toBeNull();
    expect(page.decisions).toHaveLength(decisions.length);
    for (const found of page.decisions) {
      const fixture = decisions.find((d) => d.decisionId === found.decisionId)!;
      expect(found.overridden).toBe(overriddenIds.has(found.decisionId));
      expect(found.integrity).toBe(integrityOf(fixture));
      expect(found.confidence).toBe(fixture.confidence ?? null);
      // A listing's row: the content hashes are the timeline's.
      expect(found).not.toHaveProperty('inputHash');
      expect(found).not.toHaveProperty('outputHash');
      expect([found.traceId, found.spanId, found.subjectId]).toEqual([
        fixture.traceId,
        fixture.spanId,
        fixture.subjectId,
      ]);
    }
    expect((await store.findDecisions({ limit: 1 })).decisions[0]!.integrity).toBeNull();
  });

  it('finds what an incident affected: the decisions it names and its model version in its window', async () => {
    const named = decisions[2]!;
    const incident = {
      decisionIds: [named.decisionId],
      modelId: 'credit',
      modelVersion: '1.0.0',
      from: new Date(START + 10 * 45_000),
      to: new Date(START + 20 * 45_000),
    };
    const want = expected(
      (d) =>
        d.decisionId === named.decisionId ||
        (d.modelId === 'credit' &&
          d.modelVersion === '1.0.0' &&
          d.startMs >= incident.from.getTime() &&
          d.startMs < incident.to.getTime()),
      {},
    );
    expect((await allPages({ incident }, 4)).map((d) => d.decisionId)).toEqual(want);
    // Its two halves (named, and the model's window) merged in either order, through both tables.
    const affected = (d: DecisionFixture): boolean => want.includes(d.decisionId);
    for (const search of [{ order: 'asc' }, { sort: 'confidence' }] as DecisionSearch[]) {
      const ordered = expected(affected, search);
      expect((await allPages({ ...search, incident }, 2)).map((d) => d.decisionId)).toEqual(ordered);
      const sideTable = await allPages({ ...search, incident }, 2, { directConfidenceRows: 0 });
      expect(sideTable.map((d) => d.decisionId)).toEqual(ordered);
    }
  });

  it('lists a decision stored twice once, and one whose copies disagree once where its final copy sorts', async () => {
    // Far from the other decisions, under a model of their own (the tests above have run).
    const at = Date.UTC(2040, 0, 1);
    const make = (i: number, confidence: number) =>
      ownDecision('copies', 'subject-copies', at, i, confidence);
    const [twice, changed, once, resubjected] = [make(0, 0.5), make(1, 0.9), make(2, 0.3), make(3, 0.7)];
    // Separate inserts: separate parts, which audit_decisions_by_confidence (read without FINAL) keeps apart until
    // they merge (not before the OPTIMIZE below).
    await store.client.command({ query: 'SYSTEM STOP MERGES audit_decisions_by_confidence' });
    await store.insertSpans([
      decisionSpan(twice!),
      decisionSpan(changed!),
      decisionSpan(once!),
      decisionSpan(resubjected!),
    ]);
    await store.insertSpans([decisionSpan(twice!)]);
    // The later copy of `changed` (another span, confidence 0.1) is its final one in audit_decisions.
    await store.insertSpans([decisionSpan({ ...changed!, spanId: randomHex(random, 8), confidence: 0.1 })]);
    // A later copy of `resubjected` at the same confidence names another subject: the page lists that copy.
    await store.insertSpans([decisionSpan({ ...resubjected!, subjectId: 'subject-later' })]);
    const want = [
      [resubjected!.decisionId, 0.7, 'subject-later'],
      [twice!.decisionId, 0.5, 'subject-copies'],
      [once!.decisionId, 0.3, 'subject-copies'],
      [changed!.decisionId, 0.1, 'subject-copies'],
    ];
    const listed = (found: FoundDecision[]): unknown[] =>
      found.map((d) => [d.decisionId, d.confidence, d.subjectId]);
    for (const tuning of [undefined, { directConfidenceRows: 0 }]) {
      for (const limit of [1, 2, 50]) {
        const got = await allPages({ modelId: 'copies', sort: 'confidence' }, limit, tuning);
        expect(listed(got)).toEqual(want);
      }
      const ascending = await allPages({ modelId: 'copies', sort: 'confidence', order: 'asc' }, 1, tuning);
      expect(listed(ascending)).toEqual([...want].reverse());
      // The stale copy's confidence no longer matches a bound that only it met.
      const high = await allPages({ modelId: 'copies', sort: 'confidence', minConfidence: 0.8 }, 2, tuning);
      expect(high).toEqual([]);
    }
    const byTime = await allPages({ modelId: 'copies' }, 1);
    expect(byTime.map((d) => d.decisionId)).toEqual(
      [resubjected!, once!, changed!, twice!].map((d) => d.decisionId),
    );
    // Merged, the side table holds one row per decision and key, the last copy inserted, as audit_decisions does.
    await store.client.command({ query: 'SYSTEM START MERGES audit_decisions_by_confidence' });
    await store.client.command({ query: 'OPTIMIZE TABLE audit_decisions_by_confidence FINAL' });
    for (const limit of [1, 50]) {
      const merged = await allPages({ modelId: 'copies', sort: 'confidence' }, limit, {
        directConfidenceRows: 0,
      });
      expect(listed(merged)).toEqual(want);
    }
  });

  it('pages from the confidence table through a run of equal confidences below a stretch the filters rule out', async () => {
    // Approvals above every denial (the stretch a denial's page skips by the cursor's key), and the denials in
    // runs of equal confidence that pages of 2 split: each page must start right after the last row of the one
    // before, inside the run, not past it.
    const at = Date.UTC(2041, 0, 1);
    const confidences = [0.9, 0.9, 0.8, 0.4, 0.4, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2];
    const own = confidences.map((confidence, i) => ({
      ...ownDecision('ties', 'subject-ties', at, i, confidence),
      outcome: confidence > 0.5 ? 'approve' : 'deny',
    }));
    await store.insertSpans(own.map(decisionSpan));
    const want = own
      .filter((d) => d.outcome === 'deny')
      .sort((a, b) => b.confidence! - a.confidence! || (a.decisionId < b.decisionId ? 1 : -1))
      .map((d) => d.decisionId);
    expect(want).toHaveLength(8);
    const search: DecisionSearch = {
      from: new Date(at),
      to: new Date(at + 60_000),
      outcome: 'deny',
      sort: 'confidence',
    };
    for (const limit of [1, 2, 3]) {
      const sideTable = await allPages(search, limit, { directConfidenceRows: 0 });
      expect(sideTable.map((d) => d.decisionId)).toEqual(want);
      expect(await allPages(search, limit)).toEqual(sideTable);
    }
  });

  it('takes a decision as overridden when the final copy of an oversight record says so, not an earlier copy', async () => {
    const at = START + 2 * DAY_MS;
    const [flipped, kept] = [0, 1].map((i) => ownDecision('flip', 'subject-flip', at, i, 0.4 + i / 10));
    await store.insertSpans([decisionSpan(flipped!), decisionSpan(kept!)]);
    const record = (d: DecisionFixture, spanId: string, action: string) =>
      oversightSpan({
        decisionId: d.decisionId,
        decisionTraceId: d.traceId,
        decisionSpanId: d.spanId,
        traceId: d.traceId,
        spanId,
        startMs: d.startMs + 60_000,
        action,
      });
    const flippedRecord = randomHex(random, 8);
    await store.insertSpans([
      record(flipped!, flippedRecord, 'override'),
      record(kept!, randomHex(random, 8), 'override'),
    ]);
    // The same oversight record again, now a review: its final copy is no override.
    await store.insertSpans([record(flipped!, flippedRecord, 'review')]);
    for (const tuning of [undefined, { directConfidenceRows: 0 }]) {
      for (const [sort, order] of [
        ['confidence', 'desc'],
        ['confidence', 'asc'],
        ['time', 'desc'],
        ['time', 'asc'],
      ] as const) {
        const search = { modelId: 'flip', sort, order } as const;
        const overridden = await allPages({ ...search, overridden: true }, 1, tuning);
        expect(overridden.map((d) => d.decisionId)).toEqual([kept!.decisionId]);
        // audit_overrides still holds a row for the flipped record's override copy: not overridden all the same.
        const not = await allPages({ ...search, overridden: false }, 1, tuning);
        expect(not.map((d) => [d.decisionId, d.overridden])).toEqual([[flipped!.decisionId, false]]);
        const every = await allPages(search, 1, tuning);
        expect(every.map((d) => [d.decisionId, d.overridden]).sort()).toEqual(
          [
            [flipped!.decisionId, false],
            [kept!.decisionId, true],
          ].sort(),
        );
      }
    }
  });

  it('fills a page of decisions nobody overrode past a run of overridden ones longer than the ids first read', async () => {
    // 30 decisions of one model, the 2nd, 13th and 30th of them (by time and by confidence alike) not overridden:
    // a page of one or of two reads a few more ids than the page without the overridden set first, finds them all
    // overridden, and must go on through the set. Expectations from what this test stores.
    const at = START + 4 * DAY_MS;
    const made = Array.from({ length: 30 }, (_, i) =>
      ownDecision('mostly-overridden', 'subject-mostly', at, i, 0.1 + i / 100),
    );
    const kept = new Set([1, 12, 29].map((i) => made[i]!.decisionId));
    await store.insertSpans(made.map(decisionSpan));
    await store.insertSpans(made.filter((d) => !kept.has(d.decisionId)).map((d) => oversightOf(d, random)));
    for (const tuning of [undefined, { directConfidenceRows: 0 }]) {
      for (const [sort, order] of [
        ['confidence', 'desc'],
        ['confidence', 'asc'],
        ['time', 'desc'],
        ['time', 'asc'],
      ] as const) {
        const search = { modelId: 'mostly-overridden', sort, order } as const;
        const want = made
          .filter((d) => kept.has(d.decisionId))
          .map((d) => d.decisionId)
          .sort((a, b) => (a < b ? -1 : 1));
        if (order === 'desc') want.reverse();
        for (const limit of [1, 2, 30]) {
          const not = await allPages({ ...search, overridden: false }, limit, tuning);
          expect(not.map((d) => [d.decisionId, d.overridden])).toEqual(want.map((id) => [id, false]));
        }
        const every = await allPages(search, 7, tuning);
        expect(every.filter((d) => !d.overridden).map((d) => d.decisionId)).toEqual(want);
        expect(every.filter((d) => d.overridden)).toHaveLength(27);
      }
    }
  });

  it('takes a decision with an override and a later review (two records) as overridden, one with reviews alone as not, in every order through both tables', async () => {
    const at = START + 3 * DAY_MS;
    const [both, reviewed, none] = [0, 1, 2].map((i) =>
      ownDecision('two-records', 'subject-two-records', at, i, 0.3 + i / 10),
    );
    await store.insertSpans([decisionSpan(both!), decisionSpan(reviewed!), decisionSpan(none!)]);
    const record = (d: DecisionFixture, action: string, afterMs: number) =>
      oversightSpan({
        decisionId: d.decisionId,
        decisionTraceId: d.traceId,
        decisionSpanId: d.spanId,
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: d.startMs + afterMs,
        action,
      });
    await store.insertSpans([record(both!, 'override', 60_000), record(reviewed!, 'review', 60_000)]);
    await store.insertSpans([record(both!, 'review', 120_000), record(reviewed!, 'review', 120_000)]);
    for (const tuning of [undefined, { directConfidenceRows: 0 }]) {
      for (const [sort, order] of [
        ['confidence', 'desc'],
        ['confidence', 'asc'],
        ['time', 'desc'],
        ['time', 'asc'],
      ] as const) {
        const search = { modelId: 'two-records', sort, order } as const;
        const overridden = await allPages({ ...search, overridden: true }, 1, tuning);
        expect(overridden.map((d) => [d.decisionId, d.overridden])).toEqual([[both!.decisionId, true]]);
        const not = await allPages({ ...search, overridden: false }, 1, tuning);
        const expected = order === 'desc' ? [none!, reviewed!] : [reviewed!, none!];
        expect(not.map((d) => [d.decisionId, d.overridden])).toEqual(
          expected.map((d) => [d.decisionId, false]),
        );
      }
    }
  });

  it('finds an incident that names decisions and no model: those decisions, wherever they are in time', async () => {
    const [near, far] = [decisions[4]!, decisions[93]!];
    const incident = {
      decisionIds: [far.decisionId, near.decisionId],
      modelId: '',
      modelVersion: '',
      from: new Date(START),
      to: new Date(START + 1),
    };
    const want = expected((d) => d.decisionId === near.decisionId || d.decisionId === far.decisionId, {});
    expect((await allPages({ incident }, 1)).map((d) => d.decisionId)).toEqual(want);
    const byConfidence = expected(
      (d) => d.decisionId === near.decisionId || d.decisionId === far.decisionId,
      {
        sort: 'confidence',
      },
    );
    expect((await allPages({ incident, sort: 'confidence' }, 1)).map((d) => d.decisionId)).toEqual(
      byConfidence,
    );
    const unknown = { ...incident, decisionIds: ['0190aaaa-0000-7000-8000-000000000000'] };
    expect(await store.findDecisions({ incident: unknown })).toEqual({ decisions: [], nextCursor: null });
  });

  it('pages by confidence from the side table as migration 28 back-fills it from the decisions stored before', async () => {
    const search: DecisionSearch = { sort: 'confidence', modelId: 'credit', sealed: SEALED };
    const filled = await allPages(search, 7, { directConfidenceRows: 0 });
    // As a store migrated from 27 has it before the back-fill: the table empty; its pages then are too.
    await store.client.command({ query: 'TRUNCATE TABLE audit_decisions_by_confidence' });
    expect(await allPages(search, 7, { directConfidenceRows: 0 })).toEqual([]);
    const backfill = migrationStatements(
      MIGRATIONS.find((m) => m.version === 28)!,
      ctx.render,
    ).filter((sql) => sql.includes('INSERT INTO'));
    expect(backfill).toHaveLength(1);
    await store.client.command({ query: backfill[0]! });
    const got = await allPages(search, 7, { directConfidenceRows: 0 });
    expect(got.map((d) => d.decisionId)).toEqual(expected((d) => d.modelId === 'credit', search));
    for (const found of got) {
      const fixture = decisions.find((d) => d.decisionId === found.decisionId)!;
      expect([found.traceId, found.spanId, found.subjectId, found.fairnessGroup, found.outcome]).toEqual([
        fixture.traceId,
        fixture.spanId,
        fixture.subjectId,
        fixture.fairnessGroup,
        fixture.outcome,
      ]);
      expect(found.integrity).toBe(integrityOf(fixture));
      expect(found.overridden).toBe(overriddenIds.has(found.decisionId));
    }
    expect(got).toEqual(filled);
  });

  it('refuses malformed searches before reading anything', async () => {
    const page = await store.findDecisions({ limit: 2 });
    const bad: [DecisionSearch, RegExp][] = [
      [{ limit: 0 }, /limit/],
      [{ limit: 1001 }, /limit/],
      [{ minConfidence: 0.9, maxConfidence: 0.1 }, /minConfidence/],
      [{ minConfidence: Number.NaN }, /minConfidence/],
      [{ cursor: 'not-a-cursor' }, /cursor/],
      [{ cursor: page.nextCursor!, sort: 'confidence' }, /sorted by time desc/],
      [{ cursor: page.nextCursor!, order: 'asc' }, /sorted by time desc/],
      [{ integrity: 'sealed' }, /sealed/],
      [{ integrity: 'intact' as never, sealed: [] }, /integrity must be one of/],
      [{ sort: 'outcome' as never }, /sort/],
      [{ outcome: 7 as never }, /outcome must be a string/],
    ];
    for (const [search, message] of bad) {
      await expect(store.findDecisions(search), JSON.stringify(search)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      });
    }
  });

  it('leaves a period of all of time to the rows step over the side table', async () => {
    // A model of its own (the tests above have run). A decision's time past 2106 is not stored (the views' statistics
    // overflow), so no stored decision is outside the default period; the rows' step tests it on each final copy.
    const within = [0.5, 0.4, 0.3].map((c, i) => ownDecision('edge', 'subject-edge', START + 7_000, i, c));
    await store.insertSpans(within.map(decisionSpan));
    const want = within.map((d) => d.decisionId);
    for (const limit of [1, 2, 50]) {
      const page = await findDecisions(
        ctx,
        { modelId: 'edge', sort: 'confidence', limit },
        { directConfidenceRows: 0 },
      );
      expect(page.decisions.map((d) => d.decisionId)).toEqual(want.slice(0, limit));
    }
    const whole = await statementsOf({ modelId: 'edge' }, 0);
    expect(whole.found).toEqual(want);
    const sideTable = whole.sql.filter((sql) => sql.includes('audit_decisions_by_confidence'));
    expect(sideTable.length).toBeGreaterThan(0);
    for (const sql of sideTable) expect(sql).not.toContain('{from_ns:Int64}');
    // A period that is not all of time stays a condition of the side table's statement.
    const period = await statementsOf({ modelId: 'edge', from: new Date(START) }, 0);
    expect(period.found).toEqual(want);
    for (const sql of period.sql.filter((q) => q.includes('audit_decisions_by_confidence'))) {
      expect(sql).toContain('{from_ns:Int64}');
    }
  });
});

/**
 * A store that signed only after a while: 1,100 unsigned decisions (more than one block of migration 30's index on
 * the stream, 1,024 decisions), then 120 signed by two streams. A search by status reads audit_decisions with that
 * index (the unsigned) or without it (the others, which it would skip nothing for in a store signed throughout);
 * either way every page must be the one computed here.
 */
describe('findDecisions over a store that began unsigned', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let ctx: QueryContext;
  const rand = seededRandom(77);
  const start = Date.UTC(2026, 2, 1);
  const stored: DecisionFixture[] = Array.from({ length: 1220 }, (_, i) => {
    const startMs = start + i * 1_000;
    const signed = i >= 1100;
    const stream = !signed ? undefined : i % 2 === 0 ? 'stream-a' : 'stream-b';
    return {
      decisionId: decisionIdAt(startMs, rand),
      traceId: randomHex(rand, 16),
      spanId: randomHex(rand, 8),
      startMs,
      modelId: 'credit',
      modelVersion: '1.0.0',
      outcome: 'approve',
      ...(i % 13 === 0 ? {} : { confidence: Math.round(rand() * 1000) / 1000 }),
      subjectId: `subject-${i % 5}`,
      fairnessGroup: 'group-a',
      ...(stream === undefined ? {} : { stream, seq: Math.floor((i - 1100) / 2) }),
    };
  });
  const statusOf = (d: DecisionFixture): string =>
    d.stream === undefined
      ? 'unsigned'
      : d.stream !== 'stream-a'
        ? 'untrusted'
        : d.seq! < 40
          ? 'sealed'
          : 'unsealed';

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    ctx = new QueryContext(
      store.client,
      renderContext({
        database: store.options.database,
        cluster: undefined,
        retention: store.options.retention,
      }),
    );
    await store.insertSpans(stored.map(decisionSpan));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('finds each status in every order, from audit_decisions and from the confidence table, as computed here', async () => {
    const sealed = [{ stream: 'stream-a', size: 40 }];
    for (const integrity of ['sealed', 'unsealed', 'untrusted', 'unsigned'] as const) {
      for (const sort of ['time', 'confidence'] as const) {
        for (const order of ['desc', 'asc'] as const) {
          const key = (d: DecisionFixture): number =>
            sort === 'confidence' ? (d.confidence ?? -1) : d.startMs;
          const sign = order === 'asc' ? 1 : -1;
          const want = stored
            .filter((d) => statusOf(d) === integrity)
            .sort((a, b) => sign * (key(a) - key(b) || (a.decisionId < b.decisionId ? -1 : 1)))
            .map((d) => d.decisionId);
          expect(want.length).toBeGreaterThan(0);
          const search: DecisionSearch = { sealed, integrity, sort, order };
          for (const tuning of sort === 'time' ? [undefined] : [undefined, { directConfidenceRows: 0 }]) {
            const got: string[] = [];
            let cursor: string | undefined;
            for (let pages = 0; pages < 100; pages++) {
              const paged = { ...search, limit: 40, ...(cursor === undefined ? {} : { cursor }) };
              const page =
                tuning === undefined
                  ? await store.findDecisions(paged)
                  : await findDecisions(ctx, paged, tuning);
              got.push(...page.decisions.map((d) => d.decisionId));
              for (const d of page.decisions) expect(d.integrity).toBe(integrity);
              if (page.nextCursor === null) break;
              cursor = page.nextCursor;
            }
            expect(got, `${integrity} by ${sort} ${order}${tuning ? ' (side table)' : ''}`).toEqual(want);
          }
        }
      }
    }
  });
});
