import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** A copy of `span` whose attributes are extended by `extra` (SDK spans are read-only once ended). */
export function withExtraAttributes(span: ReadableSpan, extra: Attributes): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: { ...span.attributes, ...extra },
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** An ended, zero-duration root span made by this package (used for `audit.checkpoint`). */
export function createInstantSpan(options: {
  name: string;
  attributes: Attributes;
  resource: Resource;
  scope: InstrumentationScope;
  time: HrTime;
  /** Fixed ids, so that a re-sent span deduplicates by span id. @default random */
  traceId?: string;
  spanId?: string;
}): ReadableSpan {
  const context = {
    traceId: options.traceId ?? randomBytes(16).toString('hex'),
    spanId: options.spanId ?? randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
  };
  return {
    name: options.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanContext: undefined,
    startTime: options.time,
    endTime: options.time,
    status: { code: SpanStatusCode.UNSET },
    attributes: options.attributes,
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    resource: options.resource,
    instrumentationScope: options.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
