import type { HrTime, SpanContext } from '@opentelemetry/api';
import { ExportResultCode, TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  SPAN_KIND_STRINGS,
  STATUS_CODE_STRINGS,
  normalizeSpanKind,
  normalizeStatusCode,
} from '@decisiontrail/core';
import type { SpanRecord } from '@decisiontrail/core';
import { ProcessorError } from './errors.ts';
import type { SpanSink } from './span-sink.ts';

/** Options of {@link OtlpForwardSink}. */
export interface OtlpForwardSinkOptions {
  /** Full traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

function hrTime(nanos: string): HrTime {
  const n = BigInt(nanos);
  return [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];
}

function context(traceId: string, spanId: string, traceState: string): SpanContext {
  return {
    traceId,
    spanId,
    traceFlags: 1,
    isRemote: true,
    ...(traceState === '' ? {} : { traceState: new TraceState(traceState) }),
  };
}

/**
 * The SDK span the OTLP exporter serializes for a record. Attribute values travel as strings — the
 * AsString form the record holds — which the next Collector's AsString returns unchanged, so the canonical
 * form (and with it verification) survives the hop.
 */
export function spanRecordToReadableSpan(record: SpanRecord): ReadableSpan {
  // Either spelling (`Server` or a legacy row's `SPAN_KIND_SERVER`) is the same kind.
  const kind = (SPAN_KIND_STRINGS as readonly string[]).indexOf(normalizeSpanKind(record.kind) ?? '');
  const code = (STATUS_CODE_STRINGS as readonly string[]).indexOf(
    normalizeStatusCode(record.statusCode) ?? '',
  );
  const startTime = hrTime(record.startTimeUnixNano);
  const endTime = hrTime(record.endTimeUnixNano);
  const durationNanos = BigInt(record.endTimeUnixNano) - BigInt(record.startTimeUnixNano);
  return {
    name: record.name,
    kind: kind < 0 ? 0 : kind,
    spanContext: () => context(record.traceId, record.spanId, record.traceState),
    ...(record.parentSpanId === ''
      ? {}
      : { parentSpanContext: context(record.traceId, record.parentSpanId, '') }),
    startTime,
    endTime,
    status: {
      code: code < 0 ? 0 : code,
      ...(record.statusMessage === '' ? {} : { message: record.statusMessage }),
    },
    attributes: record.attributes,
    links: record.links.map((l) => ({
      context: context(l.traceId, l.spanId, l.traceState),
      attributes: l.attributes,
    })),
    events: record.events.map((e) => ({
      name: e.name,
      time: hrTime(e.timeUnixNano),
      attributes: e.attributes,
    })),
    duration: hrTime((durationNanos < 0n ? 0n : durationNanos).toString()),
    ended: true,
    resource: resourceFromAttributes(record.resourceAttributes),
    instrumentationScope: {
      name: record.scopeName,
      ...(record.scopeVersion === '' ? {} : { version: record.scopeVersion }),
    },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Forwards spans to the next OTLP/HTTP hop (a Collector or backend), so the processor can sit mid-pipeline. */
export class OtlpForwardSink implements SpanSink {
  readonly name = 'forward';
  private readonly exporter: OTLPTraceExporter;

  constructor(options: OtlpForwardSinkOptions) {
    this.exporter = new OTLPTraceExporter({
      url: options.url,
      headers: options.headers,
      timeoutMillis: options.timeoutMs,
    });
  }

  async write(records: readonly SpanRecord[]): Promise<void> {
    if (records.length === 0) return;
    const spans = records.map(spanRecordToReadableSpan);
    await new Promise<void>((resolve, reject) => {
      this.exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) resolve();
        else
          reject(
            new ProcessorError(
              'SINK_FAILED',
              `OTLP forward failed: ${result.error?.message ?? 'unknown error'}`,
              { cause: result.error },
            ),
          );
      });
    });
  }

  async close(): Promise<void> {
    await this.exporter.shutdown();
  }
}
