import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import {
  decisionIdAt,
  decisionSpan,
  randomHex,
  seededRandom,
  systemSpan,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The timeline with its evidence shows the spans of a decision's trace a day either side of it, whichever day's
 * partition of `otel_traces` they are stored in: a trace that crosses midnight is shown whole.
 */
describe('a timeline whose trace crosses midnight (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  const random = seededRandom(24);
  // 30 seconds before midnight of 2026-03-05 (UTC), a day the data set has no decision on.
  const decidedAt = Date.UTC(2026, 2, 6) - 30_000;
  const decision: DecisionFixture = {
    decisionId: decisionIdAt(decidedAt, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: decidedAt,
    modelId: 'credit-scorer',
    modelVersion: '2.0.0',
    outcome: 'approve',
    confidence: 0.9,
  };
  const span = (name: string, startMs: number, parentSpanId = decision.spanId) =>
    systemSpan({ traceId: decision.traceId, spanId: randomHex(random, 8), parentSpanId, name, startMs });
  const request = span('POST /loans', decidedAt - 5 * MINUTE, '');
  const spans = {
    request,
    afterMidnight: span('notify applicant', decidedAt + 2 * MINUTE),
    nextEvening: span('reminder', decidedAt + 20 * 60 * MINUTE),
    earlyThatDay: span('pre-check', decidedAt - 23 * 60 * MINUTE, request.spanId),
    // More than a day after the decision: not shown (the timeline reads its traces a day either side).
    twoDaysOn: span('archive', decidedAt + DAY + MINUTE),
  };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset();
    await store.insertSpans([...data.spans, decisionSpan(decision), ...Object.values(spans)]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it("shows the trace's spans on the day before and after the decision's, and none beyond a day", async () => {
    const { entries, evidence } = await store.timelineWithEvidence({ decisionId: decision.decisionId });
    const shown = entries.filter((e) => e.kind === 'span').map((e) => e.spanId);
    expect(shown.sort()).toEqual(
      [spans.request, spans.afterMidnight, spans.nextEvening, spans.earlyThatDay].map((s) => s.spanId).sort(),
    );
    // The shown spans lie on both sides of midnight: in two days' partitions.
    const dayOf = (s: { startTimeUnixNano: string }) =>
      new Date(Number(BigInt(s.startTimeUnixNano) / 1_000_000n)).getUTCDate();
    expect([spans.earlyThatDay, spans.afterMidnight, spans.nextEvening].map(dayOf)).toEqual([5, 6, 6]);
    expect(entries.filter((e) => e.kind === 'decision').map((e) => e.spanId)).toEqual([decision.spanId]);
    // The check is given the spans read, the shown ones among them.
    expect(evidence.spans.map((s) => s.spanId)).toEqual(expect.arrayContaining(shown));
    expect(evidence.spans.map((s) => s.spanId)).not.toContain(spans.twoDaysOn.spanId);
  });
});
