import type { SpanRecord } from '@decisiontrail/core';
import { describe, expect, it } from 'vitest';
import { StoreError } from '@decisiontrail/clickhouse';
import { EncodedSpansBuilder, encodeSpansForSink } from '@decisiontrail/clickhouse/encoded-spans';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';

const random = seededRandom(7);

function decisions(n: number): SpanRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const startMs = Date.UTC(2026, 4, 1) + i * 1000;
    return decisionSpan({
      decisionId: decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs,
      modelId: `model-${i % 3}`,
      modelVersion: '1',
      outcome: i % 2 === 0 ? 'approve' : 'decline',
      confidence: 0.5 + i / 100,
    });
  });
}

describe('EncodedSpansBuilder', () => {
  it('builds span by span, past the rows it was sized for, the block of the spans each once', () => {
    const records = decisions(40);
    // A repeated trace and span id keeps its first copy, whichever way the block is built.
    const withRepeat = [...records, { ...records[3]!, name: 'a later copy' }];
    const builder = new EncodedSpansBuilder(4);
    for (const record of withRepeat) builder.add(record);
    expect(builder.rows).toBe(40);
    const built = builder.finish()!;
    const whole = encodeSpansForSink(records);
    expect(built.keys).toEqual(whole.keys);
    expect(built.keys[3]).toBe(`${records[3]!.traceId}/${records[3]!.spanId}`);
    expect(Buffer.from(built.block).equals(Buffer.from(whole.block))).toBe(true);
    // Not the block of the list without the repeat's first copy.
    const other = encodeSpansForSink([...records.slice(0, 3), withRepeat[40]!, ...records.slice(4)]);
    expect(Buffer.from(built.block).equals(Buffer.from(other.block))).toBe(false);
  });

  it('builds the same block and keys for spans each added once when told the caller drops repeats', () => {
    const records = decisions(12);
    const builder = new EncodedSpansBuilder(2, { repeatsDropped: true });
    for (const record of records) builder.add(record);
    const built = builder.finish()!;
    const whole = encodeSpansForSink(records);
    expect(built.keys).toEqual(whole.keys);
    expect(Buffer.from(built.block).equals(Buffer.from(whole.block))).toBe(true);
  });

  it('has nothing to finish without a span, and refuses a span the table cannot hold', () => {
    expect(new EncodedSpansBuilder(10).finish()).toBeUndefined();
    const builder = new EncodedSpansBuilder(10);
    const [good, bad] = decisions(2);
    builder.add(good!);
    const error = (() => {
      try {
        builder.add({ ...bad!, endTimeUnixNano: '1' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toContain(bad!.spanId);
  });
});
