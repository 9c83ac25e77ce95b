// Kept apart from the sink so a worker thread can encode without loading the engine's client.
import type { SpanRecord } from '@decisiontrail/core';
import { NativeBlock } from './trace-row-native.ts';

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
 * Builds what {@link encodeSpansForSink} returns a span at a time, so a caller that streams its spans need not
 * keep them all until the block is built: each span is encoded as it is added and can be dropped after. A
 * repeated trace and span id keeps its first copy, unless the caller says it adds none (`repeatsDropped`). `add`
 * throws `StoreError` `INVALID_ARGUMENT` for a span the table cannot hold; the builder is then unusable.
 */
export class EncodedSpansBuilder {
  /** The keys added so far; undefined when the caller drops repeats itself. */
  readonly #seen: Set<string> | undefined;
  readonly #keys: string[] = [];
  readonly #block: NativeBlock;

  /**
   * `expectedRows` sizes the block's buffers (they grow past it). `repeatsDropped`: the caller adds each trace
   * and span id at most once (the processor's span worker drops repeats before), so they are not looked up again.
   */
  constructor(expectedRows: number, options: { repeatsDropped?: boolean } = {}) {
    this.#block = new NativeBlock(expectedRows);
    this.#seen = options.repeatsDropped === true ? undefined : new Set();
  }

  /** Rows in the block so far (each trace and span id once). */
  get rows(): number {
    return this.#keys.length;
  }

  add(record: SpanRecord): void {
    const key = `${record.traceId}/${record.spanId}`;
    if (this.#seen?.has(key) === true) return;
    this.#block.addSpan(record);
    this.#seen?.add(key);
    this.#keys.push(key);
  }

  /** The block and its keys; undefined when no span was added. */
  finish(): EncodedSpans | undefined {
    return this.#keys.length === 0 ? undefined : { block: this.#block.finish(), keys: this.#keys };
  }
}

/**
 * Encodes spans as `ClickHouseSink.writeEncoded` takes them: one block with each span once (a
 * repeated trace and span id keeps its first copy). Throws `StoreError` `INVALID_ARGUMENT` for a span
 * the table cannot hold, like `ClickHouseSink.write`.
 */
export function encodeSpansForSink(records: readonly SpanRecord[]): EncodedSpans {
  const builder = new EncodedSpansBuilder(records.length);
  for (const record of records) builder.add(record);
  return builder.finish() ?? { block: new NativeBlock(0).finish(), keys: [] };
}
