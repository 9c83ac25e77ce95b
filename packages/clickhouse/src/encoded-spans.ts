// Kept apart from the sink so a worker thread can encode without loading the engine's client.
import type { SpanRecord } from '@decisiontrail/core';
import { encodeTraceRowsNative } from './trace-row-native.ts';

/**
 * Spans already encoded for the sink by {@link encodeSpansForSink} — for example on a worker thread, so
 * the thread that owns the connection only sends them.
 */
export interface EncodedSpans {
  /** One `Native` block of the exporter's insert columns. */
  block: Uint8Array;
  /** `traceId/spanId` of each row, in block order, each once. */
  keys: string[];
}

/**
 * Encodes spans as `ClickHouseSink.writeEncoded` takes them: one block with each span once (a
 * repeated trace and span id keeps its first copy). Throws `StoreError` `INVALID_ARGUMENT` for a span
 * the table cannot hold, like `ClickHouseSink.write`.
 */
export function encodeSpansForSink(records: readonly SpanRecord[]): EncodedSpans {
  const seen = new Set<string>();
  const unique: SpanRecord[] = [];
  const keys: string[] = [];
  for (const record of records) {
    const key = `${record.traceId}/${record.spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(record);
    keys.push(key);
  }
  return { block: encodeTraceRowsNative(unique), keys };
}
