import { hash } from 'node:crypto';
import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_SERVICE_NAME,
} from '@decisiontrail/semconv';
import type { CanonicalJsonValue } from './canonical-json.ts';
import { SigningError } from './errors.ts';
import { isWellFormed } from './well-formed.ts';
import { normalizeSpanKind, normalizeStatusCode, type SpanRecord } from './span-record.ts';

/** The value of `audit.integrity.algorithm`: RFC 6962 SHA-256 leaves over RFC 8785 canonical JSON. */
export const INTEGRITY_ALGORITHM = 'rfc6962-sha256-jcs';

function namespaceOf(attributeName: string): string {
  return attributeName.slice(0, attributeName.lastIndexOf('.') + 1);
}

/**
 * Attribute namespaces left out of the leaf.
 * - `audit.integrity.*` is written by the signer itself (stream, seq, algorithm, key id): it locates
 *   the leaf and cannot be inside it.
 * - `audit.completeness.*` is written by the processor after the span was signed (it annotates
 *   which required attributes were absent), so including it would make every annotated span look
 *   modified.
 */
export const EXCLUDED_ATTRIBUTE_PREFIXES: readonly string[] = [
  namespaceOf(ATTR_AUDIT_INTEGRITY_STREAM),
  namespaceOf(ATTR_AUDIT_COMPLETENESS_MISSING),
];

/**
 * Only `service.*` resource attributes are committed: collectors and processors on the way
 * commonly add or rewrite others (host, k8s, cloud detectors), which would break verification
 * without any tampering by an attacker.
 */
export const COMMITTED_RESOURCE_PREFIX = namespaceOf(ATTR_SERVICE_NAME);

function isExcludedAttribute(key: string): boolean {
  for (const prefix of EXCLUDED_ATTRIBUTE_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

function committedAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    if (!isExcludedAttribute(key)) out[key] = attributes[key] as string;
  }
  return out;
}

function committedResource(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    if (key.startsWith(COMMITTED_RESOURCE_PREFIX)) out[key] = attributes[key] as string;
  }
  return out;
}

/**
 * Why a record has no canonical span: a kind or status code that is neither spelling the
 * Collector's ClickHouse exporter writes. `undefined` when both are known.
 */
export function uncanonicalReason(record: SpanRecord): string | undefined {
  if (normalizeSpanKind(record.kind) === undefined) return `unknown span kind ${JSON.stringify(record.kind)}`;
  if (normalizeStatusCode(record.statusCode) === undefined) {
    return `unknown status code ${JSON.stringify(record.statusCode)}`;
  }
  return undefined;
}

/**
 * Kind and status code in their one canonical spelling, the current exporter's (`Server`, `Error`).
 * Exporters before the switch to pdata `String()` wrote `SPAN_KIND_SERVER` / `STATUS_CODE_ERROR` for
 * the same span, and a store may hold rows of both, so the leaf must not depend on the spelling. Any
 * other string is not mapped to a guess: it throws, and the verifier reports the row.
 */
function canonicalKindAndStatus(record: SpanRecord): { kind: string; statusCode: string } {
  const kind = normalizeSpanKind(record.kind);
  const statusCode = normalizeStatusCode(record.statusCode);
  if (kind === undefined || statusCode === undefined) {
    throw new SigningError('SPAN_INVALID', `span ${record.spanId}: ${uncanonicalReason(record) as string}`);
  }
  return { kind, statusCode };
}

/**
 * The canonical span: exactly the parts of a {@link SpanRecord} that the leaf commits to. Every
 * value is a string, array or object, so RFC 8785 serialization needs no number formatting.
 * Kind and status are normalized to the current exporter spelling (`Server`, `Error`); an unknown
 * kind or status throws {@link SigningError} `SPAN_INVALID`.
 */
export function canonicalSpan(record: SpanRecord): CanonicalJsonValue {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return {
    traceId: record.traceId,
    spanId: record.spanId,
    parentSpanId: record.parentSpanId,
    traceState: record.traceState,
    name: record.name,
    kind,
    startTimeUnixNano: record.startTimeUnixNano,
    endTimeUnixNano: record.endTimeUnixNano,
    statusCode,
    statusMessage: record.statusMessage,
    attributes: committedAttributes(record.attributes),
    resource: committedResource(record.resourceAttributes),
    scopeName: record.scopeName,
    scopeVersion: record.scopeVersion,
    events: record.events.map((event) => ({
      timeUnixNano: event.timeUnixNano,
      name: event.name,
      attributes: event.attributes,
    })),
    links: record.links.map((link) => ({
      traceId: link.traceId,
      spanId: link.spanId,
      traceState: link.traceState,
      attributes: link.attributes,
    })),
  };
}

/**
 * RFC 8785 JSON text of the canonical span. Equal to `canonicalJson(canonicalSpan(record))`, built
 * directly: the member names of the span, events and links are fixed ASCII, so their order is
 * written out here; only attribute maps are sorted at run time. Throws {@link SigningError}
 * `SPAN_INVALID` for an unknown kind or status code.
 */
export function canonicalSpanJson(record: SpanRecord): string {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return serializeSpan(record, kind, statusCode);
}

function serializeSpan(record: SpanRecord, kind: string, statusCode: string): string {
  let out = `{"attributes":${committedMap(record.attributes, true)}`;
  out += `,"endTimeUnixNano":${str(record.endTimeUnixNano)},"events":[`;
  for (let i = 0; i < record.events.length; i++) {
    const event = record.events[i] as SpanRecord['events'][number];
    if (i > 0) out += ',';
    out += `{"attributes":${map(event.attributes)},"name":${str(event.name)},"timeUnixNano":${str(event.timeUnixNano)}}`;
  }
  out += `],"kind":${str(kind)},"links":[`;
  for (let i = 0; i < record.links.length; i++) {
    const link = record.links[i] as SpanRecord['links'][number];
    if (i > 0) out += ',';
    out += `{"attributes":${map(link.attributes)},"spanId":${str(link.spanId)},"traceId":${str(link.traceId)},"traceState":${str(link.traceState)}}`;
  }
  out += `],"name":${str(record.name)},"parentSpanId":${str(record.parentSpanId)}`;
  out += `,"resource":${committedMap(record.resourceAttributes, false)}`;
  out += `,"scopeName":${str(record.scopeName)},"scopeVersion":${str(record.scopeVersion)},"spanId":${str(record.spanId)}`;
  out += `,"startTimeUnixNano":${str(record.startTimeUnixNano)},"statusCode":${str(statusCode)}`;
  out += `,"statusMessage":${str(record.statusMessage)},"traceId":${str(record.traceId)},"traceState":${str(record.traceState)}}`;
  return out;
}

function str(value: string): string {
  if (typeof value !== 'string') throw new TypeError('canonical span fields must be strings');
  if (!isWellFormed(value)) throw new TypeError('canonical JSON strings must be well-formed Unicode');
  return JSON.stringify(value);
}

function map(values: Readonly<Record<string, string>>): string {
  return mapOf(values, Object.keys(values));
}

/** Attributes without excluded namespaces (`spanAttributes`), or resource attributes under `service.`. */
function committedMap(values: Readonly<Record<string, string>>, spanAttributes: boolean): string {
  const keys = Object.keys(values).filter((key) =>
    spanAttributes ? !isExcludedAttribute(key) : key.startsWith(COMMITTED_RESOURCE_PREFIX),
  );
  return mapOf(values, keys);
}

function mapOf(values: Readonly<Record<string, string>>, keys: string[]): string {
  // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
  keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    out += `${str(key)}:${str(values[key] as string)}`;
  }
  return `${out}}`;
}

/** RFC 8785 JSON of the canonical span, UTF-8 encoded. */
export function canonicalSpanBytes(record: SpanRecord): Uint8Array {
  return Buffer.from(canonicalSpanJson(record), 'utf8');
}

/** The RFC 6962 leaf hash of a span: `SHA-256(0x00 ‖ canonical bytes)`. */
export function leafHash(record: SpanRecord): Uint8Array {
  // U+0000 encodes as the single byte 0x00, so this hashes exactly 0x00 ‖ UTF-8(JSON) in one call.
  return hash('sha256', `\u0000${canonicalSpanJson(record)}`, 'buffer');
}

/**
 * A hash standing for a record that has no canonical span (see {@link uncanonicalReason}), so the
 * verifier can still place it in its stream and report it as modified or unexpected. It hashes the
 * record with its kind and status as stored; no signed leaf can equal it, because every signed
 * canonical span carries a known kind and status.
 */
export function uncanonicalLeafHash(record: SpanRecord): Uint8Array {
  return hash('sha256', `\u0000${serializeSpan(record, record.kind, record.statusCode)}`, 'buffer');
}
