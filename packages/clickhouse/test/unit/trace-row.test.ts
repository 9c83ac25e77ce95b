import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SpanRecord } from '@decisiontrail/core';
import { describe, expect, it } from 'vitest';
import { spanRecordToTraceRow } from '@decisiontrail/clickhouse';

const require = createRequire(import.meta.url);
const vectors = (
  JSON.parse(readFileSync(require.resolve('@decisiontrail/core/test-vectors/spans.json'), 'utf8')) as {
    vectors: { name: string; record: SpanRecord }[];
  }
).vectors;

describe('spanRecordToTraceRow', () => {
  it('writes the exporter columns: start as seconds.nanoseconds, duration in nanoseconds, service from the resource', () => {
    const record =
      vectors.find((v) => v.record.events.length > 0 && v.record.links.length > 0)?.record ??
      vectors[0]!.record;
    const row = spanRecordToTraceRow(record);
    const start = BigInt(record.startTimeUnixNano);
    expect(row.Timestamp).toBe(
      `${start / 1_000_000_000n}.${(start % 1_000_000_000n).toString().padStart(9, '0')}`,
    );
    expect(BigInt(row.Duration)).toBe(BigInt(record.endTimeUnixNano) - start);
    expect(row.ServiceName).toBe(record.resourceAttributes['service.name'] ?? '');
    expect(row.SpanKind).toBe(record.kind);
    expect(row['Events.Name']).toEqual(record.events.map((e) => e.name));
    expect(row['Links.SpanId']).toEqual(record.links.map((l) => l.spanId));
  });

  it('keeps nanoseconds that a float would lose', () => {
    const record = {
      ...vectors[0]!.record,
      startTimeUnixNano: '1764032400000000001',
      endTimeUnixNano: '1764032400000000002',
    };
    expect(spanRecordToTraceRow(record)).toMatchObject({ Timestamp: '1764032400.000000001', Duration: '1' });
  });

  it('refuses a span that ends before it starts', () => {
    const record = { ...vectors[0]!.record, endTimeUnixNano: '0' };
    expect(() => spanRecordToTraceRow(record)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
