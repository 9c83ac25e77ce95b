import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { attributesToStringMap } from './attribute-string.ts';
import { toWellFormed } from './well-formed.ts';

/** An event of a {@link SpanRecord}. */
export interface SpanRecordEvent {
  /** Decimal string nanoseconds since the Unix epoch. */
  timeUnixNano: string;
  name: string;
  attributes: Record<string, string>;
}

/** A link of a {@link SpanRecord}. */
export interface SpanRecordLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Record<string, string>;
}

/**
 * A span in the form that survives OTLP and ClickHouse round trips: what the verifier hashes and the
 * store writes. Every attribute value is in the string form the Collector's ClickHouse exporter
 * writes (pcommon `Value.AsString`), kind and status in its `SPAN_KIND_*` / `STATUS_CODE_*` form.
 */
export interface SpanRecord {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** 16 lowercase hex digits, or `''` for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** `SPAN_KIND_INTERNAL`, `SPAN_KIND_SERVER`, `SPAN_KIND_CLIENT`, `SPAN_KIND_PRODUCER`, `SPAN_KIND_CONSUMER` (or `SPAN_KIND_UNSPECIFIED`). */
  kind: string;
  /** Decimal string nanoseconds since the Unix epoch. */
  startTimeUnixNano: string;
  /** Decimal string nanoseconds since the Unix epoch. */
  endTimeUnixNano: string;
  /** `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`. */
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  /** All resource attributes; the canonical form uses only `service.*`. */
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
  events: SpanRecordEvent[];
  links: SpanRecordLink[];
}

/**
 * What `traceutil.SpanKindStr` in the Collector's ClickHouse exporter writes, indexed by the
 * OpenTelemetry JS `SpanKind` (INTERNAL = 0 … CONSUMER = 4; OTLP numbers them one higher).
 */
export const SPAN_KIND_STRINGS = [
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;

/** What `traceutil.StatusCodeStr` writes, indexed by `SpanStatusCode` (UNSET = 0, OK = 1, ERROR = 2). */
export const STATUS_CODE_STRINGS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

/** Decimal string nanoseconds of an OpenTelemetry `HrTime`, exact (no float rounding). */
export function hrTimeToNanosString(time: HrTime): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

/** Builds the {@link SpanRecord} of an ended SDK span, as it will read back from `otel_traces`. */
export function spanRecordFromReadableSpan(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: traceStateString(context),
    name: toWellFormed(span.name),
    kind: SPAN_KIND_STRINGS[span.kind] ?? 'SPAN_KIND_UNSPECIFIED',
    startTimeUnixNano: hrTimeToNanosString(span.startTime),
    endTimeUnixNano: hrTimeToNanosString(span.endTime),
    statusCode: STATUS_CODE_STRINGS[span.status.code] ?? 'STATUS_CODE_UNSET',
    statusMessage: toWellFormed(span.status.message ?? ''),
    attributes: attributesToStringMap(span.attributes),
    resourceAttributes: attributesToStringMap(span.resource.attributes),
    scopeName: toWellFormed(span.instrumentationScope.name),
    scopeVersion: toWellFormed(span.instrumentationScope.version ?? ''),
    events: span.events.map((event) => ({
      timeUnixNano: hrTimeToNanosString(event.time),
      name: toWellFormed(event.name),
      attributes: attributesToStringMap(event.attributes ?? {}),
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      traceState: traceStateString(link.context),
      attributes: attributesToStringMap(link.attributes ?? {}),
    })),
  };
}

function traceStateString(context: SpanContext): string {
  return context.traceState?.serialize() ?? '';
}
