import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionSearch, Store } from '@decisiontrail/clickhouse';
import {
  decisionIdAt,
  decisionSpan,
  oversightOf,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

/**
 * A confidence that is not a finite number: the instrumentation drops one, but the views keep what another producer
 * sends ('NaN', 'Infinity'). The finder must still list every decision once by confidence, either way, across pages:
 * NaN after every number both ways (first highest first, last lowest first, as the engine orders it), ±Infinity as
 * numbers, a missing confidence as -1. The order is computed here from what the test stored.
 */
const random = seededRandom(4242);
const START = Date.UTC(2026, 10, 2, 9);
const CONFIDENCES = [Number.NaN, Infinity, -Infinity, undefined, 0.5, 0.25, 0.75, 0.5];

describe('decision finder: confidences that are not finite numbers', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const made: DecisionFixture[] = [];
  const overridden = new Set<string>();

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    for (let i = 0; i < 40; i++) {
      const at = START + i * 1000;
      const confidence = CONFIDENCES[i % CONFIDENCES.length];
      made.push({
        decisionId: decisionIdAt(at, random),
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: at,
        modelId: 'scorer',
        modelVersion: '1',
        outcome: 'approve',
        ...(confidence === undefined ? {} : { confidence }),
        service: 'loan-api',
      });
    }
    await store.insertSpans(made.map(decisionSpan));
    // Overrides of NaN and finite ones: the overridden pages read their ids from audit_overrides.
    const reviewed = made.filter((_, i) => i % 3 === 0);
    for (const d of reviewed) overridden.add(d.decisionId);
    await store.insertSpans(reviewed.map((d) => oversightOf(d, random)));
  });
  afterAll(async () => cleanup?.());

  /** The expected order: by key (NaN greater than every number), then id; reversed for highest first. */
  function expected(ds: DecisionFixture[], order: 'asc' | 'desc'): string[] {
    const key = (d: DecisionFixture): number => d.confidence ?? -1;
    const sorted = [...ds].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const byKey = Number.isNaN(x)
        ? Number.isNaN(y)
          ? 0
          : 1
        : Number.isNaN(y)
          ? -1
          : x > y
            ? 1
            : x < y
              ? -1
              : 0;
      return byKey || (a.decisionId < b.decisionId ? -1 : a.decisionId > b.decisionId ? 1 : 0);
    });
    return (order === 'asc' ? sorted : sorted.reverse()).map((d) => d.decisionId);
  }

  async function allPages(search: DecisionSearch): Promise<string[]> {
    const listed: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const found = await store.findDecisions({ ...search, ...(cursor === undefined ? {} : { cursor }) });
      listed.push(...found.decisions.map((d) => d.decisionId));
      if (found.nextCursor === null) return listed;
      cursor = found.nextCursor;
    }
    throw new Error('more pages than decisions');
  }

  for (const order of ['desc', 'asc'] as const) {
    for (const limit of [1, 3, 4]) {
      it(`lists every decision once by confidence, ${order}, in pages of ${limit}`, async () => {
        expect(await allPages({ sort: 'confidence', order, limit })).toEqual(expected(made, order));
      });
    }
    it(`lists the overridden ones once by confidence, ${order}, in pages of 2`, async () => {
      const listed = await allPages({ sort: 'confidence', order, limit: 2, overridden: true });
      expect(listed).toEqual(
        expected(
          made.filter((d) => overridden.has(d.decisionId)),
          order,
        ),
      );
    });
  }

  it('shows a NaN confidence as no number, never as a made-up one', async () => {
    const page = await store.findDecisions({ sort: 'confidence', order: 'desc', limit: 5 });
    const first = page.decisions[0]!;
    expect(Number.isNaN(made.find((d) => d.decisionId === first.decisionId)!.confidence)).toBe(true);
    expect(first.confidence ?? null).toBeNull();
  });
});
