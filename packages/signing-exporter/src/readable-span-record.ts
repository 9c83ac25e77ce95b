import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  SPAN_KIND_STRINGS,
  SPAN_KIND_UNSPECIFIED,
  STATUS_CODE_STRINGS,
  attributesToStringMap,
} from '@decisiontrail/core';
import { toWellFormed } from '@decisiontrail/core/internal';
import type { SpanRecord } from '@decisiontrail/core';

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
    kind: SPAN_KIND_STRINGS[span.kind] ?? SPAN_KIND_UNSPECIFIED,
    startTimeUnixNano: hrTimeToNanosString(span.startTime),
    endTimeUnixNano: hrTimeToNanosString(span.endTime),
    statusCode: STATUS_CODE_STRINGS[span.status.code] ?? STATUS_CODE_STRINGS[0],
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
