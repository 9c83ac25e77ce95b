import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_CHECKPOINT_LEAVES,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_INTEGRITY_STREAM,
} from '@decisiontrail/semconv';
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
  let carrying: Record<'first' | 'firstResigned' | 'second' | 'cut', SpanRecord>;

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
    // A stream whose checkpoints carry their leaves (the data set's carry none): sizes 512 (signed twice), 1024,
    // and 1536 with its list cut to its last 100 leaves.
    const withLeaves = (size: number, leaves: number, keyId = 'key-1'): SpanRecord => ({
      ...covering,
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      attributes: {
        ...covering.attributes,
        [ATTR_AUDIT_INTEGRITY_STREAM]: 'stream-with-leaves',
        [ATTR_AUDIT_CHECKPOINT_SIZE]: String(size),
        [ATTR_AUDIT_CHECKPOINT_LEAVES]: Buffer.alloc(32 * leaves, size % 251).toString('base64'),
        [ATTR_AUDIT_INTEGRITY_KEY_ID]: keyId,
      },
    });
    carrying = {
      first: withLeaves(512, 512),
      firstResigned: withLeaves(512, 512, 'other-key'),
      second: withLeaves(1024, 512),
      cut: withLeaves(1536, 100),
    };
    await store.insertSpans([resigned, ...Object.values(carrying)]);
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

  /** The checkpoints timelineEvidence gives for these leaves of the stream whose checkpoints carry their leaves. */
  async function checkpointsOf(...seqs: number[]): Promise<string[]> {
    const evidence = await store.timelineEvidence({
      decisionIds: [],
      spans: seqs.map((seq) => ({
        traceId: 'ab'.repeat(16),
        spanId: 'cd'.repeat(8),
        timeUnixNano: '1',
        stream: 'stream-with-leaves',
        seq: String(seq),
      })),
    });
    return evidence.checkpoints.map((c) => c.spanId).sort();
  }

  it('gives the checkpoints whose leaves hold the leaf (every copy), by the first leaf they carry', async () => {
    const ids = (...spans: SpanRecord[]) => spans.map((span) => span.spanId).sort();
    expect(await checkpointsOf(0)).toEqual(ids(carrying.first, carrying.firstResigned));
    expect(await checkpointsOf(511)).toEqual(ids(carrying.first, carrying.firstResigned));
    expect(await checkpointsOf(512)).toEqual(ids(carrying.second));
    expect(await checkpointsOf(100, 1023)).toEqual(
      ids(carrying.first, carrying.firstResigned, carrying.second),
    );
    // Its checkpoint carries only leaves 1436–1535: the first size above is given all the same, for the proof to
    // say it does not hold the leaf.
    expect(await checkpointsOf(1100)).toEqual(ids(carrying.cut));
    expect(await checkpointsOf(1500, 1100)).toEqual(ids(carrying.cut));
    // No checkpoint covers it yet.
    expect(await checkpointsOf(1536)).toEqual([]);
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
