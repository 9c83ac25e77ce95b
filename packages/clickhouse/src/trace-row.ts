import type { SpanRecord } from '@decisiontrail/core';
import { ATTR_SERVICE_NAME } from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import { nanosToDateTime64 } from './time-format.ts';

/**
 * An `otel_traces` row as written with `JSONEachRow`: the Collector clickhouseexporter's columns
 * (Nested columns flattened to parallel arrays, times as `seconds.nanoseconds`).
 */
export interface TraceRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

/**
 * An `otel_traces` row as read back by {@link TRACE_ROW_COLUMNS}: times are decimal nanosecond
 * strings so nothing is lost to floating point.
 */
export interface StoredTraceRow {
  start_ns: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  event_times_ns: string[];
  event_names: string[];
  event_attributes: Record<string, string>[];
  link_trace_ids: string[];
  link_span_ids: string[];
  link_trace_states: string[];
  link_attributes: Record<string, string>[];
}

/** SELECT list producing {@link StoredTraceRow} from `otel_traces`. */
export const TRACE_ROW_COLUMNS = `
  toString(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
  TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ResourceAttributes, ScopeName, ScopeVersion,
  SpanAttributes, toString(Duration) AS Duration, StatusCode, StatusMessage,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS event_times_ns,
  Events.Name AS event_names, Events.Attributes AS event_attributes,
  Links.TraceId AS link_trace_ids, Links.SpanId AS link_span_ids, Links.TraceState AS link_trace_states,
  Links.Attributes AS link_attributes`;

/**
 * One stored copy of a span, as an expression over `otel_traces`: a hash of every column the
 * exporter writes (everything the span's leaf is built from, and more). Rows that agree in all of
 * them are exact duplicates (a redelivery) and are read once; copies of one span id that differ
 * anywhere are read apart, so a verifier sees both.
 */
export const TRACE_ROW_COPY = `cityHash64(tuple(Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
  ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
  Events.Timestamp, Events.Name, Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes))`;

/** The `otel_traces` row the Collector's exporter would write for this span. */
export function spanRecordToTraceRow(record: SpanRecord): TraceRow {
  const start = BigInt(record.startTimeUnixNano);
  const end = BigInt(record.endTimeUnixNano);
  if (end < start) {
    throw new StoreError('INVALID_ARGUMENT', `span ${record.spanId} ends before it starts`);
  }
  return {
    Timestamp: nanosToDateTime64(record.startTimeUnixNano),
    TraceId: record.traceId,
    SpanId: record.spanId,
    ParentSpanId: record.parentSpanId,
    TraceState: record.traceState,
    SpanName: record.name,
    SpanKind: record.kind,
    ServiceName: record.resourceAttributes[ATTR_SERVICE_NAME] ?? '',
    ResourceAttributes: record.resourceAttributes,
    ScopeName: record.scopeName,
    ScopeVersion: record.scopeVersion,
    SpanAttributes: record.attributes,
    Duration: (end - start).toString(),
    StatusCode: record.statusCode,
    StatusMessage: record.statusMessage,
    'Events.Timestamp': record.events.map((e) => nanosToDateTime64(e.timeUnixNano)),
    'Events.Name': record.events.map((e) => e.name),
    'Events.Attributes': record.events.map((e) => e.attributes),
    'Links.TraceId': record.links.map((l) => l.traceId),
    'Links.SpanId': record.links.map((l) => l.spanId),
    'Links.TraceState': record.links.map((l) => l.traceState),
    'Links.Attributes': record.links.map((l) => l.attributes),
  };
}

/** The span a stored row holds, in the form the signing exporter hashed. */
export function traceRowToSpanRecord(row: StoredTraceRow): SpanRecord {
  return {
    traceId: row.TraceId,
    spanId: row.SpanId,
    parentSpanId: row.ParentSpanId,
    traceState: row.TraceState,
    name: row.SpanName,
    kind: row.SpanKind,
    startTimeUnixNano: row.start_ns,
    endTimeUnixNano: (BigInt(row.start_ns) + BigInt(row.Duration)).toString(),
    statusCode: row.StatusCode,
    statusMessage: row.StatusMessage,
    attributes: row.SpanAttributes,
    resourceAttributes: row.ResourceAttributes,
    scopeName: row.ScopeName,
    scopeVersion: row.ScopeVersion,
    events: row.event_times_ns.map((time, i) => ({
      timeUnixNano: time,
      name: row.event_names[i] ?? '',
      attributes: row.event_attributes[i] ?? {},
    })),
    links: row.link_trace_ids.map((traceId, i) => ({
      traceId,
      spanId: row.link_span_ids[i] ?? '',
      traceState: row.link_trace_states[i] ?? '',
      attributes: row.link_attributes[i] ?? {},
    })),
  };
}

/** The exporter's INSERT column list, in its order (Nested columns as their flattened arrays). */
export const TRACE_ROW_INSERT_COLUMNS: readonly (keyof TraceRow)[] = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
];
