import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';
import {
  checkpointSpan,
  decisionIdAt,
  decisionSpan,
  deploymentSpan,
  feedbackSpan,
  oversightOf,
  randomHex,
  seededRandom,
  systemSpan,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

/** The SQL blocks of docs/INVESTIGATING.md, by the id of their `-- cookbook:` line. */
function cookbook(): Map<string, string> {
  const text = readFileSync(new URL('../../../../docs/INVESTIGATING.md', import.meta.url), 'utf8');
  const blocks = new Map<string, string>();
  for (const [, sql] of text.matchAll(/```sql\n([\s\S]*?)```/g)) {
    const id = /^-- cookbook: ([\w-]+)$/m.exec(sql!)?.[1];
    if (id === undefined) throw new Error(`an SQL block without a "-- cookbook:" id:\n${sql}`);
    if (blocks.has(id)) throw new Error(`two SQL blocks named ${id}`);
    blocks.set(id, sql!);
  }
  return blocks;
}

const HOUR = 3_600_000;
const START = Date.UTC(2026, 6, 1, 9);
const DEPLOY_AT = START + 2 * HOUR;
const random = seededRandom(61);
const ms = (t: number): string => new Date(t).toISOString().replace('T', ' ').replace('Z', '');

// 24 decisions of credit 1.0.0 before the deployment and 2.0.0 after it, one every 10 minutes.
const decisions: DecisionFixture[] = Array.from({ length: 24 }, (_, i) => {
  const startMs = START + i * 10 * 60_000 + 1_000;
  const version = startMs >= DEPLOY_AT ? '2.0.0' : '1.0.0';
  const confidence = [0.91, 0.48, 0.55, 0.12, 0.73, 0.5][i % 6]!;
  return {
    decisionId: decisionIdAt(startMs, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs,
    modelId: 'credit',
    modelVersion: version,
    outcome: confidence >= 0.5 ? 'approve' : 'deny',
    confidence,
    subjectId: `subject-${i % 5}`,
    inputHash: i % 8 === 3 ? 'e'.repeat(64) : randomHex(random, 32),
    fairnessGroup: i % 3 === 0 ? 'b' : 'a',
    // The first three are unsigned; stream s1 misses seq 7.
    ...(i < 3 ? {} : { stream: 's1', seq: i - 3 >= 7 ? i - 2 : i - 3 }),
  };
});
const overrides = new Set([1, 4, 13, 14, 20].map((i) => decisions[i]!.decisionId));
const reviewedOnly = new Set([2, 8].map((i) => decisions[i]!.decisionId));
const reviewerOf = (i: number): string => (i % 2 === 0 ? 'ana' : 'ben');
const labels = new Map(
  [0, 1, 2, 5, 12, 13, 15, 18, 21].map((i) => [decisions[i]!.decisionId, i % 3 !== 0] as const),
);
const slow = decisions[9]!;

/** The recorded input feature `income` of decisions 8 onward (the earlier ones record none). */
const incomeOf = (i: number): number | undefined => (i >= 8 ? 20 + ((i * 7) % 13) + 0.5 : undefined);

function spans(): SpanRecord[] {
  const out: SpanRecord[] = decisions.map((d, i) => {
    const span = decisionSpan(d);
    const income = incomeOf(i);
    if (income !== undefined)
      span.attributes['audit.input.features'] = JSON.stringify({ income, ratio: 0.3 });
    return span;
  });
  out.push(
    deploymentSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: DEPLOY_AT,
      modelId: 'credit',
      modelVersion: '2.0.0',
      previousVersion: '1.0.0',
      deploymentId: 'dep-2',
    }),
  );
  for (const [i, d] of decisions.entries()) {
    const action = overrides.has(d.decisionId)
      ? 'override'
      : reviewedOnly.has(d.decisionId)
        ? 'review'
        : null;
    if (action !== null) {
      const span = oversightOf(
        d,
        random,
        action,
        action === 'override' ? (d.outcome === 'approve' ? 'deny' : 'approve') : undefined,
      );
      span.attributes['audit.oversight.reviewer'] = reviewerOf(i);
      out.push(span);
    }
    const correct = labels.get(d.decisionId);
    if (correct !== undefined) {
      out.push(
        feedbackSpan({
          decisionId: d.decisionId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          startMs: d.startMs + HOUR,
          correct,
          actualOutcome: correct ? d.outcome : 'other',
        }),
      );
    }
  }
  // A slow database query in one decision's trace, and a fast one in another.
  for (const [d, durationMs, spanId] of [
    [slow, 1_800, 'db00000000000001'],
    [decisions[10]!, 4, 'db00000000000002'],
  ] as const) {
    const span = systemSpan({
      traceId: d.traceId,
      spanId,
      parentSpanId: d.spanId,
      name: 'SELECT applicants',
      startMs: d.startMs,
    });
    span.endTimeUnixNano = (BigInt(span.startTimeUnixNano) + BigInt(durationMs) * 1_000_000n).toString();
    out.push(span);
  }
  out.push(
    checkpointSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: START + 5 * HOUR,
      stream: 's1',
      size: 12,
    }),
  );
  return out;
}

describe('docs/INVESTIGATING.md: every query answers its question on a populated store', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let incidentId: string;
  const blocks = cookbook();

  const query = async <T>(id: string, params: Record<string, string | number> = {}): Promise<T[]> => {
    const sql = blocks.get(id);
    if (sql === undefined) throw new Error(`no cookbook query ${id}`);
    const result = await store.client.query({
      query: sql,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return result.json<T>();
  };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    await store.insertSpans(spans());
    // An exact redelivery of one decision span and a conflicting copy of another (another outcome), each in a
    // batch of its own as a retry writes it.
    await store.insertSpans([decisionSpan(decisions[6]!)]);
    await store.insertSpans([decisionSpan({ ...decisions[5]!, outcome: 'deny' })]);
    const incident = await store.createIncident({
      title: 'v2 approves too much',
      severity: 'high',
      category: 'malfunction',
      modelId: 'credit',
      modelVersion: '2.0.0',
      decisionIds: [decisions[0]!.decisionId],
      windowFrom: new Date(DEPLOY_AT),
      windowTo: new Date(DEPLOY_AT + HOUR),
    });
    incidentId = incident.incidentId;
  });
  afterAll(async () => {
    await cleanup();
  });

  it('has at least a dozen questions, each tested below', () => {
    expect(blocks.size).toBeGreaterThanOrEqual(12);
  });

  it('1. a version in a window and its override rate', async () => {
    const [from, to] = [DEPLOY_AT, DEPLOY_AT + 2 * HOUR];
    const inWindow = decisions.filter(
      (d) => d.modelVersion === '2.0.0' && d.startMs >= from && d.startMs < to,
    );
    const overridden = inWindow.filter((d) => overrides.has(d.decisionId)).length;
    const [row] = await query<{ decisions: number; overridden: number; override_rate: number }>(
      'version-window-override-rate',
      { model: 'credit', version: '2.0.0', from: ms(from), to: ms(to) },
    );
    expect(row).toEqual({
      decisions: inWindow.length,
      overridden,
      override_rate: Math.round((overridden / inWindow.length) * 10_000) / 10_000,
    });
  });

  it('2. override rate per day and version', async () => {
    const rows = await query<{ day: string; model_version: string; decisions: number; overridden: number }>(
      'override-rate-per-day',
      { model: 'credit' },
    );
    const want = ['1.0.0', '2.0.0'].map((version) => {
      const of = decisions.filter((d) => d.modelVersion === version);
      return {
        day: '2026-07-01',
        model_version: version,
        decisions: of.length,
        overridden: of.filter((d) => overrides.has(d.decisionId)).length,
      };
    });
    expect(rows).toEqual(want);
  });

  it('3. decisions after a deployment', async () => {
    const after = decisions.filter((d) => d.startMs >= DEPLOY_AT);
    const rows = await query<{ model_version: string; decisions: number }>('decisions-after-deployment', {
      deployment: 'dep-2',
    });
    expect(rows.map(({ model_version, decisions: n }) => ({ model_version, decisions: n }))).toEqual([
      { model_version: '2.0.0', decisions: after.length },
    ]);
  });

  it('4. the same input seen again', async () => {
    const repeated = decisions.filter((d) => d.inputHash === 'e'.repeat(64));
    const rows = await query<{
      input_fingerprint: number;
      decisions: number;
      outcomes: number;
      decision_ids: string[];
    }>('repeated-inputs', { from: ms(START), to: ms(START + 24 * HOUR) });
    expect(rows).toHaveLength(1);
    // The fingerprint is what the doc says it is: cityHash64 of the input hash the spans carry (read the same way).
    const fingerprint = await store.client.query({
      query: 'SELECT cityHash64({hash:String}) AS f',
      query_params: { hash: 'e'.repeat(64) },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    expect(rows[0]!.input_fingerprint).toBe(((await fingerprint.json()) as { f: number }[])[0]!.f);
    expect(rows[0]!.decisions).toBe(repeated.length);
    expect(rows[0]!.outcomes).toBe(new Set(repeated.map((d) => d.outcome)).size);
    expect(new Set(rows[0]!.decision_ids)).toEqual(new Set(repeated.map((d) => d.decisionId)));
  });

  it('5. uncertain decisions nobody reviewed', async () => {
    const want = decisions
      .filter(
        (d) =>
          d.confidence! >= 0.45 &&
          d.confidence! <= 0.55 &&
          !overrides.has(d.decisionId) &&
          !reviewedOnly.has(d.decisionId),
      )
      .map((d) => d.decisionId);
    const rows = await query<{ decision_id: string }>('unreviewed-uncertain', {
      model: 'credit',
      low: 0.45,
      high: 0.55,
    });
    expect(rows.map((r) => r.decision_id)).toEqual(want);
  });

  it('6. accuracy per version from the latest label', async () => {
    const rows = await query<{ model_version: string; labelled: number; correct: number }>(
      'accuracy-per-version',
      {
        model: 'credit',
      },
    );
    const want = ['1.0.0', '2.0.0'].map((version) => {
      const of = decisions.filter((d) => d.modelVersion === version && labels.has(d.decisionId));
      return {
        model_version: version,
        labelled: of.length,
        correct: of.filter((d) => labels.get(d.decisionId)).length,
      };
    });
    expect(
      rows.map(({ model_version, labelled, correct }) => ({ model_version, labelled, correct })),
    ).toEqual(want);
  });

  it('7. selection rate per fairness group', async () => {
    // Decision 5 has a conflicting stored copy: audit_decisions (FINAL) keeps one of the two outcomes.
    const rows = await query<{ fairness_group: string; decisions: number; selected: number }>(
      'selection-rate-per-group',
      { model: 'credit', outcome: 'approve' },
    );
    for (const group of ['a', 'b']) {
      const of = decisions.filter((d) => d.fairnessGroup === group);
      const row = rows.find((r) => r.fairness_group === group)!;
      expect(row.decisions).toBe(of.length);
      const approved = of.filter((d) => d.outcome === 'approve' && d !== decisions[5]).length;
      expect(row.selected - approved).toBeGreaterThanOrEqual(0);
      expect(row.selected - approved).toBeLessThanOrEqual(decisions[5]!.fairnessGroup === group ? 1 : 0);
    }
  });

  it('8. everything about one subject', async () => {
    const of = decisions.filter((d) => d.subjectId === 'subject-3');
    const ids = new Set(of.map((d) => d.decisionId));
    const rows = await query<{ kind: string; decision_id: string }>('subject-everything', {
      subject: 'subject-3',
    });
    expect(rows.filter((r) => r.kind === 'decision').map((r) => r.decision_id)).toEqual(
      of.map((d) => d.decisionId),
    );
    expect(rows.filter((r) => r.kind === 'oversight')).toHaveLength(
      of.filter((d) => overrides.has(d.decisionId) || reviewedOnly.has(d.decisionId)).length,
    );
    expect(rows.filter((r) => r.kind === 'feedback')).toHaveLength(
      of.filter((d) => labels.has(d.decisionId)).length,
    );
    expect(rows.every((r) => ids.has(r.decision_id))).toBe(true);
  });

  it('9. reviews by one reviewer', async () => {
    const want = decisions
      .map((d, i) => ({ d, i }))
      .filter(
        ({ d, i }) =>
          (overrides.has(d.decisionId) || reviewedOnly.has(d.decisionId)) && reviewerOf(i) === 'ana',
      )
      .map(({ d }) => d.decisionId);
    const rows = await query<{ decision_id: string; action: string }>('reviews-by-reviewer', {
      reviewer: 'ana',
    });
    expect(rows.map((r) => r.decision_id)).toEqual(want);
  });

  it('10. the slow database span beside its decision', async () => {
    const rows = await query<{ decision_id: string; slow_span: string; slow_ms: number }>(
      'slow-span-beside-decision',
      {
        min_ms: 500,
        from: ms(START),
        to: ms(START + 24 * HOUR),
      },
    );
    expect(rows).toEqual([
      { decision_id: slow.decisionId, outcome: slow.outcome, slow_span: 'SELECT applicants', slow_ms: 1800 },
    ]);
  });

  it('11. the decisions an incident affected', async () => {
    const want = decisions
      .filter(
        (d) =>
          d === decisions[0] ||
          (d.modelVersion === '2.0.0' && d.startMs >= DEPLOY_AT && d.startMs < DEPLOY_AT + HOUR),
      )
      .map((d) => d.decisionId);
    const rows = await query<{ decision_id: string }>('incident-affected', { incident: incidentId });
    expect(rows.map((r) => r.decision_id)).toEqual(want);
  });

  it('12. audit records no stream signs', async () => {
    const unsignedDecisions = decisions.filter((d) => d.stream === undefined).length;
    const rows = await query<{ record_type: string; records: number }>('unsigned-records');
    // The fixture's oversight, feedback and deployment spans carry no stream either.
    const oversight = overrides.size + reviewedOnly.size;
    expect(rows).toEqual([
      { record_type: 'decision', records: unsignedDecisions },
      { record_type: 'deployment', records: 1 },
      { record_type: 'feedback', records: labels.size },
      { record_type: 'oversight', records: oversight },
    ]);
  });

  it('13. one span id stored with different contents (an exact redelivery is not one)', async () => {
    const rows = await query<{ SpanId: string; copies: number; contents: number }>('conflicting-copies');
    expect(rows).toEqual([{ SpanId: decisions[5]!.spanId, copies: 2, contents: 2 }]);
  });

  it('14. gaps in a stream', async () => {
    const rows = await query<{ stream: string; missing_seq: number }>('sequence-gaps');
    expect(rows).toEqual([{ stream: 's1', missing_seq: 7 }]);
  });

  it('15. how far each stream is sealed', async () => {
    const signed = decisions.filter((d) => d.stream === 's1');
    const rows = await query<{
      stream: string;
      decisions: number;
      checkpoint_size: number;
      below_checkpoint: number;
    }>('sealed-per-stream');
    expect(rows).toEqual([
      {
        stream: 's1',
        decisions: signed.length,
        checkpoint_size: 12,
        below_checkpoint: signed.filter((d) => d.seq! < 12).length,
      },
    ]);
  });

  it('16. one input feature, hour by hour', async () => {
    const rows = await query<{
      hour: string;
      decisions: number;
      mean: number;
      lowest: number;
      highest: number;
    }>('input-feature-per-hour', { model: 'credit', feature: 'income' });
    const byHour = new Map<number, number[]>();
    decisions.forEach((d, i) => {
      const income = incomeOf(i);
      if (income === undefined) return;
      const hour = Math.floor(d.startMs / HOUR) * HOUR;
      byHour.set(hour, [...(byHour.get(hour) ?? []), income]);
    });
    expect(rows).toEqual(
      [...byHour.entries()]
        .sort(([a], [b]) => a - b)
        .map(([hour, values]) => ({
          hour: new Date(hour).toISOString().replace('T', ' ').slice(0, 19),
          decisions: values.length,
          mean: Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10_000) / 10_000,
          lowest: Math.min(...values),
          highest: Math.max(...values),
        })),
    );
  });
});
