import { SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** Ends spans through a real SDK tracer and returns them as the exporter receives them. */
export async function recordSpans(
  build: (tracer: ReturnType<TracerProvider['getTracer']>) => void,
  resource: Attributes = {
    'service.name': 'loan-service',
    'service.version': '1.4.2',
    'host.name': 'node-7',
  },
): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  build(provider.getTracer('decisiontrail-test', '0.1.0'));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** One span with every attribute value type, an event, a link, a parent and an error status. */
export async function richSpans(): Promise<ReadableSpan[]> {
  return recordSpans((tracer) => {
    const parent = tracer.startSpan('parent');
    const ctx = parent.spanContext();
    const child = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          str: 'plain <html> & "quotes" \u2028',
          int: 42,
          big: 2 ** 53 + 2,
          neg: -7,
          dbl: 0.1 + 0.2,
          tiny: 1e-7,
          bool: false,
          strs: ['stop', 'length<'],
          nums: [1, 2.5, -3],
          bools: [true, false],
        },
        links: [
          {
            context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED },
            attributes: { why: 'caused' },
          },
        ],
      },
      trace.setSpanContext(context.active(), ctx),
    );
    child.addEvent('retry', { attempt: 2, reason: 'timeout' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
    child.end();
    parent.end();
  });
}

export function toProtobuf(spans: ReadableSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

export function toJson(spans: ReadableSpan[]): Uint8Array {
  return JsonTraceSerializer.serializeRequest(spans)!;
}
