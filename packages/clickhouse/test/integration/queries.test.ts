import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store, TimelineEntry } from '@decisiontrail/clickhouse';
import { normalizeStatusCode } from '@decisiontrail/core';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { decisionSpan, systemSpan } from '../support/span-fixtures.ts';
import { countRows, openTempStore } from '../support/temp-store.ts';

function psi(expected: number[], actual: number[]): number {
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] as number, 1e-4);
    const a = Math.max(actual[i] as number, 1e-4);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

function bucketShares(values: number[], buckets = 10): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) counts[Math.min(Math.max(Math.floor(v * buckets), 0), buckets - 1)]! += 1;
  return counts.map((n) => n / values.length);
}

describe('investigation queries on a known dataset (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  const model = { modelId: 'credit-scorer' };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset();
    const sink = store.createSink({ maxBatchSize: 200, flushIntervalMs: 5 });
    await sink.write(data.spans);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('answers a GDPR access request with every decision about the subject', async () => {
    const expected = data.decisions
      .filter((d) => d.subjectId === 'subject-3')
      .sort((a, b) => a.startMs - b.startMs);
    const rows = await store.subjectDecisions({ subjectId: 'subject-3' });
    expect(rows.map((r) => r.decisionId)).toEqual(expected.map((d) => d.decisionId));
    expect(rows[0]).toMatchObject({
      modelId: 'credit-scorer',
      subjectId: 'subject-3',
      integrityStream: 'stream-1',
    });
  });

  it('lists decisions by model version and period', async () => {
    const v2 = await store.decisions({
      ...model,
      modelVersion: '2.0.0',
      from: new Date(data.deployAt),
      to: new Date(data.end),
    });
    expect(v2).toHaveLength(data.decisions.filter((d) => d.modelVersion === '2.0.0').length);
    expect(new Set(v2.map((d) => d.modelVersion))).toEqual(new Set(['2.0.0']));
  });

  it('builds the period report from numbers it can check', async () => {
    const incident = await store.createIncident({
      title: 'wrong denials',
      severity: 'high',
      category: 'fundamental_rights',
      modelId: 'credit-scorer',
      decisionIds: [data.decisions[0]!.decisionId],
      occurredAt: new Date(data.start + 30 * 3_600_000),
    });
    for (const exact of [false, true]) {
      const report = await store.periodReport({
        ...model,
        from: new Date(data.start),
        to: new Date(data.end),
        exact,
      });
      const ds = data.decisions;
      const count = (f: (d: (typeof ds)[number]) => boolean) => ds.filter(f).length;
      // Failures are stored in both exporter spellings, and the report counts both.
      expect(new Set(ds.map((d) => d.statusCode).filter((c) => c !== 'Unset'))).toEqual(
        new Set(['Error', 'STATUS_CODE_ERROR']),
      );
      expect(report.totals.decisions).toBe(240);
      expect(report.totals.byOutcome).toEqual({
        approve: count((d) => d.outcome === 'approve'),
        deny: count((d) => d.outcome === 'deny'),
      });
      expect(report.models.map((m) => [m.modelVersion, m.decisions])).toEqual([
        ['1.0.0', 120],
        ['2.0.0', 120],
      ]);
      expect(report.deployments.map((d) => d.deploymentId)).toEqual(['dep-1', 'dep-2']);
      const correct = data.feedback.filter((f) => f.correct).length;
      expect(report.accuracy).toMatchObject({
        decisions: 240,
        labelled: data.feedback.length,
        correct,
        incorrect: data.feedback.length - correct,
        failed: count((d) => normalizeStatusCode(d.statusCode ?? '') === 'Error'),
      });
      expect(report.accuracy.accuracy).toBeCloseTo(correct / data.feedback.length, 12);
      expect(report.oversight).toMatchObject({
        decisions: 240,
        reviewed: data.oversight.length,
        overridden: data.oversight.filter((o) => o.action === 'override').length,
        byAction: {
          override: data.oversight.filter((o) => o.action === 'override').length,
          review: data.oversight.filter((o) => o.action === 'review').length,
        },
      });
      const confidences = ds.map((d) => d.confidence!);
      expect(report.confidence.mean).toBeCloseTo(confidences.reduce((a, b) => a + b, 0) / 240, 9);
      expect(report.confidence.buckets.map((b) => b.count / 240)).toEqual(bucketShares(confidences));
      for (const group of ['group-a', 'group-b']) {
        const members = ds.filter((d) => d.fairnessGroup === group);
        const rate = members.filter((d) => d.outcome === 'approve').length / members.length;
        expect(report.fairness.outcomes.find((o) => o.outcome === 'approve')?.rates[group]).toBeCloseTo(
          rate,
          12,
        );
      }
      const approve = report.fairness.outcomes.find((o) => o.outcome === 'approve')!;
      expect(approve.ratio).toBeCloseTo(approve.minRate / approve.maxRate, 12);
      expect(report.incidents).toMatchObject({ total: 1, open: 1, byCategory: { fundamental_rights: 1 } });
      expect(report.incidents.items[0]?.incidentId).toBe(incident.incidentId);
      expect(report.retention.decisionsByClass).toEqual({ high_risk: 240 });
      expect(report.retention.policyDays).toEqual({
        standard: 2557,
        high_risk: 3653,
        incident: null,
        permanent: null,
      });
      expect(report.dataGovernance).toMatchObject({
        withInputHash: 240,
        withSubject: 240,
        withIntegrity: 240,
        streams: [{ stream: 'stream-1', decisions: 240, latestCheckpointSize: 240 }],
      });
    }
  });

  it('reads whole hours from the rollup and the partial hours at the edges from the decisions', async () => {
    const from = data.start + 30 * 60_000 + 123;
    const to = data.end - 17 * 60_000;
    const inside = data.decisions.filter((d) => d.startMs >= from && d.startMs < to);
    const fast = await store.periodReport({ ...model, from: new Date(from), to: new Date(to) });
    const exact = await store.periodReport({ ...model, from: new Date(from), to: new Date(to), exact: true });
    expect(fast.totals.decisions).toBe(inside.length);
    expect(fast.totals).toEqual(exact.totals);
    expect(fast.fairness).toEqual(exact.fairness);
    expect(fast.models).toEqual(exact.models);
    expect(fast.confidence.buckets).toEqual(exact.confidence.buckets);
    expect(fast.confidence.mean).toBeCloseTo(exact.confidence.mean!, 9);
    // t-digest quantiles from the rollup are close to the exact ones.
    expect(Math.abs(fast.confidence.p50! - exact.confidence.p50!)).toBeLessThan(0.05);
    expect(fast.totals.byOutcome.approve).toBe(inside.filter((d) => d.outcome === 'approve').length);
  });

  it('rebuilds a decision timeline: deployment, decision, trace spans, oversight, feedback, checkpoint, incident', async () => {
    const first = data.decisions[0]!;
    const timeline = await store.decisionTimeline({ decisionId: first.decisionId });
    expect(timeline.map((e) => e.kind)).toEqual([
      'deployment',
      'decision',
      'span',
      'span',
      'oversight',
      'feedback',
      'checkpoint',
      'incident',
    ]);
    expect(timeline[0]?.attributes.deployment_id).toBe('dep-1');
    expect(
      timeline
        .filter((e) => e.kind === 'span')
        .map((e) => e.spanId)
        .sort(),
    ).toEqual([...data.firstTraceSystemSpanIds].sort());
    expect(timeline.find((e) => e.kind === 'oversight')?.attributes).toMatchObject({
      action: 'override',
      new_outcome: 'deny',
    });
    expect(timeline.find((e) => e.kind === 'checkpoint')?.attributes).toMatchObject({
      tree_size: '100',
      leaf_index: '0',
    });
    const times = timeline.map((e) => BigInt(e.timeUnixNano));
    expect(times).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // A decision after dep-2 also lists dep-2 and is covered by the checkpoint of size 200.
    const late = data.decisions[150]!;
    const lateTimeline = await store.decisionTimeline({ decisionId: late.decisionId });
    expect(lateTimeline.filter((e) => e.kind === 'deployment').map((e) => e.name)).toEqual([
      'dep-1',
      'dep-2',
    ]);
    expect(lateTimeline.find((e) => e.kind === 'checkpoint')?.attributes.tree_size).toBe('200');
    expect(await store.decisionTimeline({ decisionId: '00000000-0000-7000-8000-000000000000' })).toEqual([]);
  });

  it('returns the same rows from the decision_timeline view as from the store, by decision and by trace', async () => {
    const viewRows = async (params: { decision_id: string; trace_id: string }) => {
      const result = await store.client.query({
        query: `SELECT kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, decision_id AS decisionId,
            trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, name, service,
            status_code AS statusCode, toString(duration_ns) AS durationNanos, attributes
          FROM decision_timeline(decision_id = {decision_id:String}, trace_id = {trace_id:String})`,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      });
      return result.json<TimelineEntry>();
    };
    // Rows with the same time and kind may come in either order; compare them as sets.
    const canonical = (rows: TimelineEntry[]) => rows.map((row) => JSON.stringify(row)).sort();
    const kinds = new Set<string>();
    for (const decision of [0, 1, 6, 12, 150, data.decisions.length - 1].map((i) => data.decisions[i]!)) {
      const byId = await store.decisionTimeline({ decisionId: decision.decisionId });
      expect(canonical(byId)).toEqual(
        canonical(await viewRows({ decision_id: decision.decisionId, trace_id: '' })),
      );
      const byTrace = await store.decisionTimeline({ traceId: decision.traceId });
      expect(canonical(byTrace)).toEqual(
        canonical(await viewRows({ decision_id: '', trace_id: decision.traceId })),
      );
      expect(canonical(byTrace)).toEqual(canonical(byId));
      for (const entry of byId) kinds.add(entry.kind);
    }
    expect([...kinds].sort()).toEqual([
      'checkpoint',
      'decision',
      'deployment',
      'feedback',
      'incident',
      'oversight',
      'span',
    ]);
  });

  it('reads the same timeline with its evidence in two statements as decisionTimeline and timelineEvidence do in four', async () => {
    const canonical = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();
    const kinds = new Set<string>();
    let followUps = 0;
    for (const decision of [0, 1, 6, 12, 150, data.decisions.length - 1].map((i) => data.decisions[i]!)) {
      for (const query of [{ decisionId: decision.decisionId }, { traceId: decision.traceId }]) {
        const entries = await store.decisionTimeline(query);
        const both = await store.timelineWithEvidence(query);
        expect(canonical(both.entries)).toEqual(canonical(entries));
        for (const entry of entries) kinds.add(entry.kind);
        // What the timeline command asked timelineEvidence for: the decisions, reviews and feedback shown.
        const checked = entries.filter((e) => ['decision', 'oversight', 'feedback'].includes(e.kind));
        followUps += checked.length - 1;
        const evidence = await store.timelineEvidence({
          decisionIds: entries.filter((e) => e.kind === 'decision').map((e) => e.decisionId),
          spans: checked.map((e) => ({
            traceId: e.traceId,
            spanId: e.spanId,
            timeUnixNano: e.timeUnixNano,
            stream: e.attributes['integrity_stream'] ?? '',
            seq: e.attributes['integrity_seq'] ?? '',
          })),
        });
        expect(evidence.spans.length).toBeGreaterThanOrEqual(checked.length);
        // Every copy of every span that evidence holds, and the same checkpoints; the trace's other spans besides.
        const copiesOf = (spans: typeof evidence.spans, span: (typeof evidence.spans)[number]) =>
          canonical(spans.filter((s) => s.traceId === span.traceId && s.spanId === span.spanId));
        for (const span of evidence.spans) {
          expect(copiesOf(both.evidence.spans, span)).toEqual(copiesOf(evidence.spans, span));
        }
        expect(canonical(both.evidence.checkpoints)).toEqual(canonical(evidence.checkpoints));
        expect(both.evidence.checkpoints.length).toBeGreaterThan(0);
      }
    }
    expect(followUps).toBeGreaterThan(0);
    expect([...kinds].sort()).toEqual([
      'checkpoint',
      'decision',
      'deployment',
      'feedback',
      'incident',
      'oversight',
      'span',
    ]);
    expect(await store.timelineWithEvidence({ decisionId: '00000000-0000-7000-8000-000000000000' })).toEqual({
      entries: [],
      evidence: { spans: [], checkpoints: [] },
    });
    await expect(store.timelineWithEvidence({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('finds spans of the trace inserted later, from a day before to a day after the decision', async () => {
    const decision = data.decisions[40]!;
    const span = (spanId: string, name: string, startMs: number) =>
      systemSpan({ traceId: decision.traceId, spanId, parentSpanId: decision.spanId, name, startMs });
    // Each in its own insert, so each is its own row of the trace-id lookup with its own start.
    const inserts = [
      [span('c'.repeat(16), 'POST /notify', decision.startMs + 10 * 60_000)],
      [span('d'.repeat(16), 'batch run', decision.startMs - 3 * 3_600_000)],
      [span('e'.repeat(16), 'next week', decision.startMs + 8 * 86_400_000)],
    ];
    const sink = store.createSink({ maxBatchSize: 10, flushIntervalMs: 5 });
    for (const records of inserts) await sink.write(records);
    await sink.close();
    const timeline = await store.decisionTimeline({ decisionId: decision.decisionId });
    expect(timeline.filter((e) => e.kind === 'span').map((e) => e.name)).toEqual([
      'batch run',
      'POST /notify',
    ]);
  });

  it('flags drift between the two versions with PSI evidence', async () => {
    const signal = await store.driftSignal({
      ...model,
      baseline: { from: new Date(data.start), to: new Date(data.deployAt) },
      current: { from: new Date(data.deployAt), to: new Date(data.end) },
    });
    const before = data.decisions.filter((d) => d.startMs < data.deployAt).map((d) => d.confidence!);
    const after = data.decisions.filter((d) => d.startMs >= data.deployAt).map((d) => d.confidence!);
    expect(signal.psiConfidence).toBeCloseTo(psi(bucketShares(before), bucketShares(after)), 9);
    expect(signal.evidence.baselineDecisions).toBe(before.length);
    expect(signal.evidence.confidence.map((b) => b.currentShare)).toEqual(bucketShares(after));
  });

  it('flags degradation after the deployment with the rates before and after', async () => {
    const signal = await store.degradationSignal({ deploymentId: 'dep-2' });
    const window = (after: boolean) => {
      const ids = new Set(
        data.decisions.filter((d) => d.startMs >= data.deployAt === after).map((d) => d.decisionId),
      );
      const overridden = data.oversight.filter(
        (o) => ids.has(o.decisionId) && o.action === 'override',
      ).length;
      const labels = data.feedback.filter((f) => ids.has(f.decisionId));
      return {
        overrideRate: overridden / ids.size,
        errorRate: labels.filter((f) => !f.correct).length / labels.length,
      };
    };
    const b = window(false);
    const a = window(true);
    expect(signal.evidence.before.oversight.overrideRate).toBeCloseTo(b.overrideRate, 12);
    expect(signal.evidence.after.oversight.overrideRate).toBeCloseTo(a.overrideRate, 12);
    expect(signal.overrideRateDelta).toBeCloseTo(a.overrideRate - b.overrideRate, 12);
    expect(signal.errorRateDelta).toBeCloseTo(a.errorRate - b.errorRate, 12);
    expect(signal.degraded).toBe(true);
  });

  it('finds the probing actor: a near-threshold burst and one input repeated', async () => {
    const signals = await store.adversarialSignals({
      ...model,
      from: new Date(data.start),
      to: new Date(data.end),
    });
    const probes = data.decisions.filter((d) => d.actorId === 'actor-probe');
    expect(signals.nearThresholdBursts).toHaveLength(1);
    expect(signals.nearThresholdBursts[0]).toMatchObject({
      actorId: 'actor-probe',
      decisions: probes.length,
    });
    expect(signals.nearThresholdBursts[0]?.decisionIds).toEqual(probes.map((d) => d.decisionId).sort());
    expect(signals.repeatedInputs).toEqual([
      expect.objectContaining({
        actorId: 'actor-probe',
        inputHash: 'f'.repeat(64),
        decisions: probes.length,
      }),
    ]);
  });

  it('keeps incidents as versions: create, update, list, delete', async () => {
    const created = await store.createIncident({
      title: 'patient harm',
      severity: 'critical',
      category: 'death',
      decisionIds: ['d-1'],
      occurredAt: new Date('2026-03-01T12:00:00.000Z'),
      windowFrom: new Date('2026-02-28T00:00:00.000Z'),
    });
    expect(created.reportDeadline.toISOString()).toBe('2026-03-11T12:00:00.000Z');
    expect(await store.getIncident(created.incidentId)).toEqual(created);
    const reported = await store.updateIncident(created.incidentId, {
      status: 'reported',
      reportedAt: new Date('2026-03-05T00:00:00.000Z'),
    });
    expect(reported).toMatchObject({ version: 2, status: 'reported', title: 'patient harm' });
    expect((await store.getIncident(created.incidentId))?.reportedAt?.toISOString()).toBe(
      '2026-03-05T00:00:00.000Z',
    );
    expect((await store.listIncidents({ decisionId: 'd-1' })).map((i) => i.incidentId)).toEqual([
      created.incidentId,
    ]);
    await store.deleteIncident(created.incidentId);
    expect(await store.getIncident(created.incidentId)).toBeNull();
    await expect(store.updateIncident(created.incidentId, { status: 'closed' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('quarantines refused spans verbatim and records erasure tombstones', async () => {
    const refused = decisionSpan({ ...data.decisions[1]!, outcome: 'tampered' });
    await store.quarantine([
      { record: refused, code: 'LEAF_MISMATCH', reason: 'leaf does not match checkpoint' },
    ]);
    const [entry] = await store.listQuarantine({ code: 'LEAF_MISMATCH' });
    expect(entry).toMatchObject({ code: 'LEAF_MISMATCH', stream: 'stream-1', record: refused });
    const erasure = await store.recordErasure({ subjectId: 'subject-3', keyIds: ['k1'], requestedBy: 'dpo' });
    expect(erasure.decisionCount).toBe(12);
    expect((await store.listErasures({ subjectId: 'subject-3' })).map((e) => e.erasureId)).toEqual([
      erasure.erasureId,
    ]);
  });
  it('counts a decision delivered twice in different batches once (exact report, queries)', async () => {
    // A retry after a lost ack, in another batch: the insert token cannot catch it, FINAL does.
    await store.insertSpans([decisionSpan(data.decisions[5]!)]);
    expect(await countRows(store, 'audit_decisions', true)).toBe(240);
    const decisions = await store.decisions({
      ...model,
      from: new Date(data.start),
      to: new Date(data.end),
      limit: 1000,
    });
    expect(decisions).toHaveLength(240);
    const report = await store.periodReport({
      ...model,
      from: new Date(data.start),
      to: new Date(data.end),
      exact: true,
    });
    expect(report.totals.decisions).toBe(240);
  });

  it("shows a batch row with its batch span, not the batch's other rows; by trace, every row as a decision", async () => {
    const first = data.decisions[60]!;
    const traceId = 'ba'.repeat(16);
    const batchSpanId = 'b0'.repeat(8);
    const rows = [0, 1, 2].map((index) => {
      const span = decisionSpan({
        ...first,
        // Last in this file and another model, so the dataset's counts above are as built.
        modelId: 'batch-scorer',
        decisionId: `${first.decisionId.slice(0, -2)}b${index}`,
        traceId,
        spanId: `b${index + 1}`.repeat(8),
        startMs: first.startMs + index,
      });
      return {
        ...span,
        parentSpanId: batchSpanId,
        attributes: { ...span.attributes, 'audit.batch.index': String(index) },
      };
    });
    const batch = systemSpan({
      traceId,
      spanId: batchSpanId,
      parentSpanId: '',
      name: 'audit.batch credit-scorer',
      startMs: first.startMs,
    });
    const sink = store.createSink({ maxBatchSize: 10, flushIntervalMs: 5 });
    await sink.write([batch, ...rows]);
    await sink.close();
    const row = (rows[1]!.attributes as Record<string, string>)['audit.decision.id']!;
    const byId = await store.decisionTimeline({ decisionId: row });
    expect(byId.filter((e) => e.kind === 'decision').map((e) => e.decisionId)).toEqual([row]);
    expect(byId.filter((e) => e.kind === 'span').map((e) => e.spanId)).toEqual([batchSpanId]);
    const byTrace = await store.decisionTimeline({ traceId });
    expect(byTrace.filter((e) => e.kind === 'decision')).toHaveLength(3);
    expect(byTrace.filter((e) => e.kind === 'span').map((e) => e.spanId)).toEqual([batchSpanId]);
    // The two-statement read with evidence shows the same rows.
    const canonical = (rows: TimelineEntry[]) => rows.map((e) => JSON.stringify(e)).sort();
    expect(canonical((await store.timelineWithEvidence({ decisionId: row })).entries)).toEqual(
      canonical(byId),
    );
    expect(canonical((await store.timelineWithEvidence({ traceId })).entries)).toEqual(canonical(byTrace));
    const view = await store.client.query({
      query: `SELECT span_id FROM decision_timeline(decision_id = {id:String}, trace_id = '') WHERE kind = 'span'`,
      query_params: { id: row },
      format: 'JSONEachRow',
    });
    expect(await view.json()).toEqual([{ span_id: batchSpanId }]);
  });
});
