import type { EncodedSpans } from '@decisiontrail/clickhouse/encoded-spans';
import type { SpanRecord } from '@decisiontrail/core';

/** A destination of processed spans. `write` resolves once the spans are committed there. */
export interface SpanSink {
  readonly name: string;
  write(records: readonly SpanRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** The store as the drain writes to it: spans the span worker already encoded for it. */
export interface EncodedSpanSink {
  readonly name: string;
  /** Resolves once the spans are committed. */
  writeEncoded(spans: EncodedSpans): Promise<void>;
}

/** A span held back from the audit store, with why. */
export interface QuarantinedSpan {
  record: SpanRecord;
  /** Stable reason code (`UNSIGNED`, `POLICY_SIGNED_PLAINTEXT`, or the verifier's failure code). */
  code: string;
  reason: string;
}

/** Where quarantined spans go (the store's quarantine table), never mixed with verified ones. */
export interface QuarantineSink {
  writeQuarantine(items: readonly QuarantinedSpan[]): Promise<void>;
}
