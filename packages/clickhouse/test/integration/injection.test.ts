import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { countRows, openTempStore } from '../support/temp-store.ts';

// Attempts to break out of a string literal, a parameter placeholder, a comment or a statement.
const ATTACKS = [
  "' OR 1=1 --",
  "\\' OR 1=1 --",
  "') UNION ALL SELECT * FROM system.tables --",
  "x'; DROP TABLE default.otel_traces; --",
  '{decision_id:String}',
  "x' OR decision_id != '",
  "credit-scorer' OR model_id != 'x",
  "x\u0000' OR 1=1",
];

const TABLES = [
  'otel_traces',
  'audit_decisions',
  'audit_oversight',
  'audit_feedback',
  'audit_incidents',
  'audit_erasures',
];

describe('every query parameter is bound, never spliced (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  let before: number[];

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset(11);
    await store.insertSpans(data.spans);
    before = await Promise.all(TABLES.map((t) => countRows(store, t)));
  });
  afterAll(async () => {
    await cleanup();
  });

  const period = () => ({ from: new Date(data.start), to: new Date(data.end) });

  it.each(ATTACKS)('returns nothing extra for %j', async (attack) => {
    expect(await store.decisionTimeline({ decisionId: attack })).toEqual([]);
    expect(await store.decisionTimeline({ traceId: attack })).toEqual([]);
    for (const query of [{ decisionId: attack }, { traceId: attack }]) {
      expect(await store.timelineWithEvidence(query)).toEqual({
        entries: [],
        evidence: { spans: [], checkpoints: [] },
      });
    }
    expect(await store.subjectDecisions({ subjectId: attack })).toEqual([]);
    for (const field of ['modelId', 'modelVersion', 'service'] as const) {
      const filter = { ...period(), [field]: attack };
      expect(await store.decisions(filter)).toEqual([]);
      expect((await store.oversightRates(filter)).decisions).toBe(0);
      expect((await store.accuracy(filter)).decisions).toBe(0);
      expect((await store.confidenceDistribution(filter)).decisions).toBe(0);
      expect((await store.fairnessDisparity(filter)).groups).toEqual([]);
      const report = await store.periodReport(filter);
      expect(report.totals.decisions).toBe(0);
      expect(report.models).toEqual([]);
      const adversarial = await store.adversarialSignals({ ...filter, minBurst: 1, minRepeats: 1 });
      expect(adversarial.nearThresholdBursts).toEqual([]);
      expect(adversarial.repeatedInputs).toEqual([]);
    }
    const drift = await store.driftSignal({
      modelId: attack,
      baseline: { from: new Date(data.start), to: new Date(data.deployAt) },
      current: { from: new Date(data.deployAt), to: new Date(data.end) },
    });
    expect(drift.evidence.baselineDecisions + drift.evidence.currentDecisions).toBe(0);
    await expect(store.degradationSignal({ deploymentId: attack })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await store.getIncident(attack)).toBeNull();
    expect(await store.listIncidents({ modelId: attack })).toEqual([]);
    expect(await store.listIncidents({ decisionId: attack })).toEqual([]);
    expect(await store.listQuarantine({ code: attack })).toEqual([]);
    expect(await store.listErasures({ subjectId: attack })).toEqual([]);
    expect(await store.spansForVerification({ stream: attack })).toEqual([]);
    expect(await store.traceSpans(attack)).toEqual([]);
  });

  it('stores hostile text verbatim and reads it back unchanged', async () => {
    for (const attack of ATTACKS) {
      const incident = await store.createIncident({
        title: attack,
        description: attack,
        severity: 'low',
        category: 'malfunction',
        decisionIds: [attack],
        modelId: attack,
      });
      expect(await store.getIncident(incident.incidentId)).toEqual(incident);
      const erasure = await store.recordErasure({ subjectId: attack, reason: attack, keyIds: [attack] });
      expect(erasure.decisionCount).toBe(0);
      expect(await store.listErasures({ subjectId: attack })).toEqual([erasure]);
    }
  });

  it('leaves every table as it was apart from the rows written on purpose', async () => {
    const after = await Promise.all(TABLES.map((t) => countRows(store, t)));
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4));
    expect(after[4]).toBe((before[4] ?? 0) + ATTACKS.length);
    expect(after[5]).toBe((before[5] ?? 0) + ATTACKS.length);
    const report = await store.periodReport({ ...period(), modelId: 'credit-scorer' });
    expect(report.totals.decisions).toBe(data.decisions.length);
  });

  it('binds stored hostile values when the timeline looks up what is linked to a decision', async () => {
    // The timeline's second statement binds values read from the store (model, stream, ids):
    // a model or stream named like an attack must match only itself, never the dataset's
    // credit-scorer deployments or stream-1 checkpoints.
    const random = seededRandom(5);
    for (const attack of ATTACKS) {
      const decision = {
        decisionId: decisionIdAt(data.end, random),
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: data.end,
        modelId: attack,
        modelVersion: attack,
        outcome: 'approve',
        stream: attack,
        seq: 0,
      };
      await store.insertSpans([decisionSpan(decision)]);
      const timeline = await store.decisionTimeline({ decisionId: decision.decisionId });
      expect(timeline.map((e) => [e.kind, e.attributes.model_id, e.attributes.integrity_stream])).toEqual([
        ['decision', attack, attack],
      ]);
    }
  });

  it('rejects non-string parameters instead of coercing them into SQL', async () => {
    const bogus = { toString: () => "' OR 1=1 --" } as unknown as string;
    await expect(store.subjectDecisions({ subjectId: bogus })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.decisions({ ...period(), modelId: bogus })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.decisions({ ...period(), limit: 1e12 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.decisions({ from: new Date('nope'), to: new Date() })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
