import { describe, expect, it } from 'vitest';
import { coveringCheckpointRows, type QueryContext } from '@decisiontrail/clickhouse/internal';

/** A checkpoint row as the timeline's statements give it; `span` stands in for the stored span's JSON. */
const row = (stream: string, size: number, first: number, span: string) => ({
  service: 'svc',
  stream,
  size: String(size),
  first: String(first),
  span,
});

describe('the evidence checkpoints of a timeline', () => {
  it('come in one order, by stream, tree size and stored span, whatever order they were read in', async () => {
    // Leaves of two streams, each held by the first checkpoint above it: sizes 256 and 1024 (as text, 1024 sorts
    // first), and two stored copies at one size (a conflicting copy is evidence too).
    const leaves = [
      { stream: 'b', seq: '10' },
      { stream: 'b', seq: '700' },
      { stream: 'a', seq: '5' },
    ];
    const rows = [
      row('a', 256, 0, '{"copy":2}'),
      row('a', 256, 0, '{"copy":1}'),
      row('b', 1024, 256, '{"b":1024}'),
      row('b', 256, 0, '{"b":256}'),
      row('b', 2048, 1024, '{"b":2048}'), // above the first size holding a leaf: not evidence
    ];
    const expected = ['{"copy":1}', '{"copy":2}', '{"b":256}', '{"b":1024}'];
    // Every leaf is held by a proposed row, so no statement is run: the context is never used.
    const unused = undefined as unknown as QueryContext;
    for (const order of [rows, [...rows].reverse(), [rows[2]!, rows[0]!, rows[4]!, rows[3]!, rows[1]!]]) {
      const kept = await coveringCheckpointRows(unused, leaves, order);
      expect(kept.map((r) => r.span)).toEqual(expected);
    }
  });
});
