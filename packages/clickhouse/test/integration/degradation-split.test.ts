import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import type { Store } from '@decisiontrail/clickhouse';
import {
  decisionIdAt,
  decisionSpan,
  deploymentSpan,
  oversightSpan,
  randomHex,
  seededRandom,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

// The degradation signal splits a model's decisions at its deployment's instant, which is stored to the
// nanosecond. Decisions made in the deployment's own millisecond fall on either side of it by their nanoseconds.
const random = seededRandom(2323);
const DEPLOY_MS = Date.UTC(2026, 9, 5, 12);
const NS = 1_000_000n;
const DEPLOY_NS = BigInt(DEPLOY_MS) * NS + 500_000n;

/** A span moved within its millisecond (the fixtures write whole milliseconds). */
function at(span: SpanRecord, ns: bigint): SpanRecord {
  const length = BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano);
  return { ...span, startTimeUnixNano: String(ns), endTimeUnixNano: String(ns + length) };
}

interface Made {
  decisionId: string;
  ns: bigint;
  overridden: boolean;
  span: SpanRecord;
  traceId: string;
  spanId: string;
}

function decision(ns: bigint, overridden: boolean): Made {
  const ms = Number(ns / NS);
  const traceId = randomHex(random, 16);
  const spanId = randomHex(random, 8);
  const decisionId = decisionIdAt(ms, random);
  const span = decisionSpan({
    decisionId,
    traceId,
    spanId,
    startMs: ms,
    modelId: 'scorer',
    modelVersion: ns < DEPLOY_NS ? '1' : '2',
    outcome: 'approve',
  });
  return { decisionId, ns, overridden, span: at(span, ns), traceId, spanId };
}

// 29 decisions in the hours before, then the 30th in the deployment's millisecond 300 µs before it
// (200 000 ns into the millisecond, the deployment at 500 000); after it, one in the same millisecond 300 000 ns
// later and 30 in the hours after. Every fifth is overridden, and the one just before the deployment too.
const decisions: Made[] = [
  ...Array.from({ length: 29 }, (_, i) => decision(DEPLOY_NS - BigInt((i + 1) * 60_000) * NS, i % 5 === 0)),
  decision(BigInt(DEPLOY_MS) * NS + 200_000n, true),
  decision(BigInt(DEPLOY_MS) * NS + 800_000n, false),
  ...Array.from({ length: 30 }, (_, i) => decision(DEPLOY_NS + BigInt((i + 1) * 60_000) * NS, i % 3 === 0)),
];

describe('degradation signal at a deployment inside a millisecond (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    const deployment = deploymentSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: DEPLOY_MS,
      modelId: 'scorer',
      modelVersion: '2',
      previousVersion: '1',
      deploymentId: 'dep-ns',
    });
    const overrides = decisions
      .filter((d) => d.overridden)
      .map((d) =>
        oversightSpan({
          decisionId: d.decisionId,
          decisionTraceId: d.traceId,
          decisionSpanId: d.spanId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          startMs: Number(d.ns / NS) + 5_000,
          action: 'override',
          newOutcome: 'deny',
        }),
      );
    await store.insertSpans([...decisions.map((d) => d.span), at(deployment, DEPLOY_NS), ...overrides]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('counts a decision made earlier in the deployment millisecond as before it, a later one as after', async () => {
    const signal = await store.degradationSignal({ deploymentId: 'dep-ns' });
    const side = (after: boolean) => {
      const of = decisions.filter((d) => d.ns >= DEPLOY_NS === after);
      return { decisions: of.length, overridden: of.filter((d) => d.overridden).length };
    };
    const before = side(false);
    const after = side(true);
    // Worked out by hand too: 29 + 1 before (6 + 1 overridden), 1 + 30 after (10 overridden).
    expect(before).toEqual({ decisions: 30, overridden: 7 });
    expect(after).toEqual({ decisions: 31, overridden: 10 });
    expect(signal.evidence.before.oversight).toMatchObject(before);
    expect(signal.evidence.after.oversight).toMatchObject(after);
    // 30 before is the default minimum: the override rate is compared, not an 'insufficient baseline'.
    expect(signal.insufficient.map((r) => r.rate)).toEqual(['error rate']);
    expect(signal.overrideRateDelta).toBeCloseTo(10 / 31 - 7 / 30, 12);
    expect(signal.verdict).toBe('degraded');
    expect(signal.at).toBe(new Date(DEPLOY_MS).toISOString());
  });

  it('an instant given in milliseconds splits at the start of that millisecond', async () => {
    const signal = await store.degradationSignal({ modelId: 'scorer', at: new Date(DEPLOY_MS) });
    const ms = BigInt(DEPLOY_MS) * NS;
    expect(signal.evidence.before.oversight.decisions).toBe(decisions.filter((d) => d.ns < ms).length);
    expect(signal.evidence.after.oversight.decisions).toBe(decisions.filter((d) => d.ns >= ms).length);
  });
});
