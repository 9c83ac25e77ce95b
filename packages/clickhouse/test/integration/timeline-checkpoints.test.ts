import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import { ATTR_AUDIT_CHECKPOINT_SIZE, ATTR_AUDIT_INTEGRITY_KEY_ID } from '@decisiontrail/semconv';
import type { Store } from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

/**
 * Which checkpoints the timeline's read-time check is given for a leaf: every stored copy at the first tree size
 * above it (the only size whose leaves can hold it), none of the later sizes.
 */
describe('covering checkpoints of a timeline (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  let covering: SpanRecord;
  let resigned: SpanRecord;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    data = buildAuditDataset();
    await store.insertSpans(data.spans);
    const checkpoints = data.spans
      .filter((span) => span.attributes[ATTR_AUDIT_CHECKPOINT_SIZE] !== undefined)
      .sort(
        (a, b) =>
          Number(a.attributes[ATTR_AUDIT_CHECKPOINT_SIZE]) - Number(b.attributes[ATTR_AUDIT_CHECKPOINT_SIZE]),
      );
    covering = checkpoints[0]!;
    // The same size signed again, by another key, stored as a span of its own.
    const random = seededRandom(5);
    resigned = {
      ...covering,
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      attributes: { ...covering.attributes, [ATTR_AUDIT_INTEGRITY_KEY_ID]: 'other-key' },
    };
    await store.insertSpans([resigned]);
  });
  afterAll(async () => {
    await cleanup();
  });

  /** A decision whose leaf the first checkpoint covers. */
  const decision = () => data.decisions.find((d) => d.seq !== undefined && d.seq < 100)!;

  it('gives every copy at the first size above the leaf, and no later size', async () => {
    const d = decision();
    const evidence = await store.timelineEvidence({
      decisionIds: [],
      spans: [
        {
          traceId: d.traceId,
          spanId: d.spanId,
          timeUnixNano: String(BigInt(d.startMs) * 1_000_000n),
          stream: d.stream!,
          seq: String(d.seq),
        },
      ],
    });
    expect(evidence.checkpoints.map((c) => c.spanId).sort()).toEqual(
      [covering.spanId, resigned.spanId].sort(),
    );
  });

  it('reads the same checkpoints with the timeline, and takes its checkpoint entry from them', async () => {
    const d = decision();
    const { entries, evidence } = await store.timelineWithEvidence({ decisionId: d.decisionId });
    expect(evidence.checkpoints.map((c) => c.spanId)).toEqual(
      expect.arrayContaining([covering.spanId, resigned.spanId]),
    );
    const entry = entries.find((e) => e.kind === 'checkpoint');
    expect(entry).toMatchObject({
      decisionId: d.decisionId,
      spanId: [covering.spanId, resigned.spanId].sort()[0],
      attributes: { stream: d.stream, tree_size: '100', leaf_index: String(d.seq) },
    });
    // The decision_timeline view's entry (from audit_checkpoints) names the same size, of either copy.
    const viewEntry = (await store.decisionTimeline({ decisionId: d.decisionId })).find(
      (e) => e.kind === 'checkpoint',
    );
    expect(viewEntry).toMatchObject({
      attributes: { stream: d.stream, tree_size: '100', leaf_index: String(d.seq) },
    });
    expect([covering.spanId, resigned.spanId]).toContain(viewEntry?.spanId);
  });
});
