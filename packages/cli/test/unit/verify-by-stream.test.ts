import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { verifyByStream } from '@decisiontrail/cli/internal';
import {
  generateSigningKey,
  SigningSpanExporter,
  spanRecordFromReadableSpan,
  verifySpans,
  type SpanRecord,
} from '@decisiontrail/signing-exporter';
import { ATTR_AUDIT_INTEGRITY_STREAM } from '@decisiontrail/semconv';
import { beforeAll, describe, expect, it } from 'vitest';

const key = generateSigningKey();
const notes: string[] = [];
const records: SpanRecord[] = [];

beforeAll(async () => {
  // Two exporter instances: two streams, each with its checkpoints in the records and in the witness.
  for (const name of ['a', 'b']) {
    const memory = new InMemorySpanExporter();
    const signing = new SigningSpanExporter({
      exporter: memory,
      key,
      witness: { witness: async (note) => void notes.push(note) },
    });
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: signing })] });
    const tracer = provider.getTracer(`stream-${name}`);
    for (let i = 0; i < 5; i++) tracer.startSpan(`${name}-${i}`).end();
    await provider.forceFlush();
    records.push(...memory.getFinishedSpans().map(spanRecordFromReadableSpan));
    await provider.shutdown();
  }
});

function both(input: readonly SpanRecord[]) {
  const options = { publicKeys: [key.verifierKey], witnessCheckpoints: notes };
  let progressed = 0;
  const merged = verifyByStream(input, options, (n) => (progressed += n));
  return { merged, single: verifySpans(input, options), progressed };
}

describe('verifyByStream', () => {
  it('equals one verifySpans call on intact data and reports progress per stream', () => {
    const { merged, single, progressed } = both(records);
    expect(merged).toEqual(single);
    expect(merged.ok).toBe(true);
    expect(merged.streams).toHaveLength(2);
    expect(progressed).toBe(records.length);
  });

  it('equals it when a stored span was modified', () => {
    const tampered = records.map((r, i) => (i === 2 ? { ...r, name: `${r.name}-changed` } : r));
    const { merged, single } = both(tampered);
    expect(merged).toEqual(single);
    expect(merged.ok).toBe(false);
  });

  it('equals it when a whole stream was deleted from the store (the witness still knows it)', () => {
    const firstStream = records[0]!.attributes[ATTR_AUDIT_INTEGRITY_STREAM];
    const { merged, single } = both(
      records.filter((r) => r.attributes[ATTR_AUDIT_INTEGRITY_STREAM] !== firstStream),
    );
    expect(merged).toEqual(single);
    expect(merged.ok).toBe(false);
    expect(merged.streams.flatMap((s) => s.findings.map((f) => f.code))).toContain('truncated');
  });
});
