import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import type { ModelRecordKeeping, Store } from '@decisiontrail/clickhouse';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const MINUTE = 60_000;
const DAY = Date.UTC(2026, 5, 10);
const FROM = DAY + 10 * 60 * MINUTE;
const TO = DAY + 14 * 60 * MINUTE;
const random = seededRandom(19);

/** What became of a decision the producer made. */
type Fate = 'kept' | 'dropped' | 'deleted';

/**
 * A producer as the signing span processor behaves: kept decisions take the next seq of the stream, dropped ones
 * none; a count record takes a seq too and carries the running total of its model. Only the spans a test inserts
 * reach the store; the expectations are written out by hand from the plan of each test, not from this class.
 */
class Stream {
  readonly id: string;
  #seq = 0;
  readonly #totals = new Map<string, number>();
  readonly #since = new Map<string, number>();
  readonly stored: SpanRecord[] = [];

  constructor(id: string, firstSeq = 0) {
    this.id = id;
    this.#seq = firstSeq;
  }

  decide(model: [string, string], atMs: number, fate: Fate = 'kept', missing?: string[]): void {
    const key = model.join('/');
    this.#totals.set(key, (this.#totals.get(key) ?? 0) + 1);
    if (!this.#since.has(key)) this.#since.set(key, atMs);
    if (fate === 'dropped') return;
    const span = decisionSpan({
      decisionId: decisionIdAt(atMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: atMs,
      modelId: model[0],
      modelVersion: model[1],
      outcome: 'approve',
      stream: this.id,
      seq: this.#seq++,
    });
    if (missing !== undefined) span.attributes['audit.completeness.missing'] = JSON.stringify(missing);
    if (fate === 'kept') this.stored.push(span);
  }

  /** Count records of every model whose total changed, made at `atMs`. */
  count(atMs: number): void {
    for (const [key, total] of this.#totals) {
      const since = this.#since.get(key);
      if (since === undefined) continue;
      this.#since.delete(key);
      const [modelId, modelVersion] = key.split('/') as [string, string];
      const span = decisionSpan({
        decisionId: '',
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: since,
        modelId,
        modelVersion,
        outcome: '',
      });
      span.name = 'audit.count';
      span.endTimeUnixNano = String(BigInt(atMs) * 1_000_000n);
      span.attributes = {
        'audit.record.type': 'count',
        'audit.model.id': modelId,
        'audit.model.version': modelVersion,
        'audit.count.decisions': String(total),
        'audit.integrity.stream': this.id,
        'audit.integrity.seq': String(this.#seq++),
      };
      this.stored.push(span);
    }
  }
}

const CREDIT: [string, string] = ['credit-scorer', '2'];
const FRAUD: [string, string] = ['fraud', '1'];

function unsigned(model: [string, string], atMs: number): SpanRecord {
  return decisionSpan({
    decisionId: decisionIdAt(atMs, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: atMs,
    modelId: model[0],
    modelVersion: model[1],
    outcome: 'deny',
  });
}

let store: Store;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  // Stream a: counted since long before the period. 12 credit decisions before it (one count record at 09:50
  // with total 12), then in the period 30 credit decisions — 3 dropped on a full spool, 2 deleted from the store,
  // the last 5 after the period's last count record (13:00) — and 10 fraud decisions, every one dropped.
  const a = new Stream('stream-a', 500);
  for (let i = 0; i < 12; i++) a.decide(CREDIT, FROM - 120 * MINUTE + i * MINUTE);
  a.count(FROM - 10 * MINUTE);
  const fates: Fate[] = Array.from({ length: 25 }, (_, i) =>
    i === 3 || i === 9 || i === 17 ? 'dropped' : i === 5 || i === 20 ? 'deleted' : 'kept',
  );
  fates.forEach((fate, i) => {
    // Three stored decisions were flagged by the completeness check; one of them is also delivered twice below.
    const missing =
      i === 1
        ? ['audit.input.hash_key_id']
        : i === 2
          ? ['audit.input.hash_key_id', 'audit.decision.type']
          : i === 4
            ? ['audit.decision.type']
            : undefined;
    a.decide(CREDIT, FROM + i * 5 * MINUTE, fate, missing);
    if (i === 12) for (let k = 0; k < 10; k++) a.decide(FRAUD, FROM + i * 5 * MINUTE + k * 1000, 'dropped');
    if (i === 12) a.count(FROM + i * 5 * MINUTE + MINUTE);
  });
  a.count(FROM + 180 * MINUTE);
  for (let i = 0; i < 5; i++) a.decide(CREDIT, FROM + 200 * MINUTE + i * MINUTE);
  // A count record after the period changes nothing in it.
  a.count(TO + 5 * MINUTE);
  // Stream b: an older producer that writes no count records: 4 credit decisions, not measured.
  const b = new Stream('stream-b');
  for (let i = 0; i < 4; i++) b.decide(CREDIT, FROM + 30 * MINUTE + i * MINUTE);
  // Stream c: started and stopped in the period, its one count record at shutdown: 6 credit decisions, 1 deleted.
  const c = new Stream('stream-c');
  for (let i = 0; i < 6; i++) c.decide(CREDIT, FROM + 60 * MINUTE + i * MINUTE, i === 2 ? 'deleted' : 'kept');
  c.count(FROM + 70 * MINUTE);
  // Unsigned decisions: 2 of credit-scorer and 3 of a rules engine that no stream counts.
  const spans = [
    ...a.stored,
    ...b.stored,
    ...c.stored,
    unsigned(CREDIT, FROM + 90 * MINUTE),
    unsigned(CREDIT, FROM + 91 * MINUTE),
    ...[0, 1, 2].map((i) => unsigned(['rules-engine', '1'], FROM + 100 * MINUTE + i * MINUTE)),
  ];
  await store.insertSpans(spans);
  // Exact redeliveries of a flagged decision and of a count record, in a batch of their own, count once.
  const flagged = a.stored.find(
    (s) => s.attributes['audit.completeness.missing'] === '["audit.decision.type"]',
  );
  const counted = a.stored.find(
    (s) => s.name === 'audit.count' && s.attributes['audit.count.decisions'] === '25',
  );
  await store.insertSpans([flagged!, counted!]);
}, 120_000);

afterAll(async () => {
  await cleanup?.();
});

function byModel(models: readonly ModelRecordKeeping[], id: string): ModelRecordKeeping {
  const found = models.find((m) => m.modelId === id);
  if (found === undefined) throw new Error(`no ${id} in ${JSON.stringify(models)}`);
  return found;
}

describe('record keeping in the period report', () => {
  it('coverage compares stored decisions with the producers’ counts, range by range; what no count measures is said', async () => {
    const report = await store.periodReport({ from: new Date(FROM), to: new Date(TO), exact: true });
    expect(report.recordKeeping.targets).toEqual({ coverage: 1, completeness: 0.99 });
    const credit = byModel(report.recordKeeping.models, 'credit-scorer');
    // Stored in the period: stream a 25 - 3 dropped - 2 deleted + 5 after its last count = 25; stream b 4;
    // stream c 5; unsigned 2.
    expect(credit.decisions).toBe(36);
    expect(credit.coverage).toMatchObject({
      // Stream a from its 09:50 record (total 12) to its 13:00 record (total 12 + 25 = 37): 25; stream c: 6.
      counted: 31,
      // Of them stored: 25 - 3 - 2 = 20 in stream a, 5 in stream c.
      stored: 25,
      streams: 2,
      inconsistentStreams: 0,
      // Stream a's 5 after 13:00, stream b's 4, the 2 unsigned ones.
      notMeasured: 11,
    });
    expect(credit.coverage.ratio).toBeCloseTo(25 / 31, 12);
    // From the first decision stream a's baseline does not cover to the 13:00 record.
    expect(credit.coverage.fromUnixNano).toBe(String(BigInt(FROM) * 1_000_000n));
    expect(credit.coverage.toUnixNano).toBe(String(BigInt(FROM + 180 * MINUTE) * 1_000_000n));

    // Every fraud decision was dropped: counted, none stored — 0 %, not "no data".
    const fraud = byModel(report.recordKeeping.models, 'fraud');
    expect(fraud.decisions).toBe(0);
    expect(fraud.coverage).toMatchObject({ counted: 10, stored: 0, ratio: 0, notMeasured: 0 });
    expect(fraud.completeness.ratio).toBeNull();

    // Nothing counts the rules engine's decisions: not measured, never 100 %.
    const rules = byModel(report.recordKeeping.models, 'rules-engine');
    expect(rules.coverage).toMatchObject({ counted: 0, stored: 0, ratio: null, notMeasured: 3, streams: 0 });
    expect(rules.coverage.fromUnixNano).toBe('');
  });

  it('completeness is the share of stored decisions not flagged, with the missing attributes counted one by one', async () => {
    const report = await store.periodReport({ from: new Date(FROM), to: new Date(TO) });
    const credit = byModel(report.recordKeeping.models, 'credit-scorer');
    expect(credit.completeness).toEqual({
      decisions: 36,
      incomplete: 3,
      ratio: 33 / 36,
      missing: { 'audit.decision.type': 2, 'audit.input.hash_key_id': 2 },
    });
    const rules = byModel(report.recordKeeping.models, 'rules-engine');
    expect(rules.completeness).toEqual({ decisions: 3, incomplete: 0, ratio: 1, missing: {} });
  });

  it('the model and service filters narrow the counts as they narrow the decisions', async () => {
    const fraudOnly = await store.periodReport({
      from: new Date(FROM),
      to: new Date(TO),
      modelId: 'fraud',
    });
    expect(fraudOnly.recordKeeping.models.map((m) => m.modelId)).toEqual(['fraud']);
    const elsewhere = await store.periodReport({
      from: new Date(FROM),
      to: new Date(TO),
      service: 'another-service',
    });
    expect(elsewhere.recordKeeping.models).toEqual([]);
    // A period that ends before stream a's 13:00 record: stream a measured up to 11:01 only.
    const morning = await store.periodReport({
      from: new Date(FROM),
      to: new Date(FROM + 62 * MINUTE),
      modelId: 'credit-scorer',
    });
    const credit = byModel(morning.recordKeeping.models, 'credit-scorer');
    // Stream a: 13 decisions (i = 0..12) made up to the 11:01 record, 2 dropped (i = 3, 9), 1 deleted (i = 5);
    // stream c has no record before 11:02 (its decisions start at 11:00): not measured.
    expect(credit.coverage).toMatchObject({ counted: 13, stored: 10, streams: 1 });
  });
});
