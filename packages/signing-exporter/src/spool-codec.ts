import {
  TraceFlags,
  type SpanKind,
  type Attributes,
  type AttributeValue,
  type Link,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { StreamSignerState } from '@decisiontrail/core';

/** Spool record kinds (first payload byte). */
export const RECORD_SPAN = 1;
export const RECORD_CHECKPOINT = 2;
export const RECORD_STATE = 3;

/** A checkpoint as spooled: enough to export the same checkpoint span again after a restart. */
export interface SpooledCheckpoint {
  streamId: string;
  origin: string;
  size: number;
  rootHex: string;
  note: string;
  keyId: string;
  leaves: string[];
  /** Hex compact range where `leaves` begin (absent when the signer did not know it). */
  range?: string[];
  traceId: string;
  spanId: string;
  time: [number, number];
  resource: Record<string, unknown>;
}

type Encoded = unknown;

/** Attribute values as JSON, keeping what JSON loses (bytes, non-finite numbers) in tagged objects. */
function encodeValue(value: unknown): Encoded {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $n: String(value) };
  if (Array.isArray(value)) return value.map(encodeValue);
  return value === undefined ? null : value;
}

function decodeValue(value: Encoded): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object') {
    const tagged = value as { $b?: string; $n?: string };
    if (tagged.$b !== undefined) return new Uint8Array(Buffer.from(tagged.$b, 'base64'));
    if (tagged.$n !== undefined) return Number(tagged.$n);
  }
  return value;
}

function encodeAttributes(attributes: Attributes | undefined): Record<string, Encoded> {
  const out: Record<string, Encoded> = {};
  for (const [key, value] of Object.entries(attributes ?? {})) out[key] = encodeValue(value);
  return out;
}

function decodeAttributes(attributes: Record<string, Encoded>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) out[key] = decodeValue(value) as AttributeValue;
  return out;
}

/** Encodes an ended span (with extra attributes merged in) as a spool record payload. */
export function encodeSpan(span: ReadableSpan, extra: Attributes): Buffer {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const json = {
    t: context.traceId,
    s: context.spanId,
    f: context.traceFlags,
    ts: context.traceState?.serialize() ?? '',
    p: parent ? [parent.spanId, parent.traceFlags, parent.isRemote === true] : null,
    n: span.name,
    k: span.kind,
    st: span.startTime,
    et: span.endTime,
    c: [span.status.code, span.status.message ?? ''],
    a: encodeAttributes({ ...span.attributes, ...extra }),
    e: span.events.map((event) => [event.time, event.name, encodeAttributes(event.attributes)]),
    l: span.links.map((link) => [
      link.context.traceId,
      link.context.spanId,
      link.context.traceFlags,
      link.context.traceState?.serialize() ?? '',
      encodeAttributes(link.attributes),
    ]),
    r: encodeAttributes(span.resource.attributes),
    sc: [span.instrumentationScope.name, span.instrumentationScope.version ?? ''],
  };
  return withKind(RECORD_SPAN, json);
}

function withKind(kind: number, json: unknown): Buffer {
  // The kind (1–3) is a one-byte UTF-8 character, so the payload is encoded in a single pass.
  return Buffer.from(`${String.fromCharCode(kind)}${JSON.stringify(json)}`, 'utf8');
}

/** Encodes a checkpoint record. */
export function encodeCheckpoint(checkpoint: SpooledCheckpoint): Buffer {
  return withKind(RECORD_CHECKPOINT, checkpoint);
}

/** Encodes the signer state at the start of a segment. */
export function encodeState(state: StreamSignerState): Buffer {
  return withKind(RECORD_STATE, state);
}

/** A decoded spool record. */
export type SpoolRecord =
  | { kind: typeof RECORD_SPAN; span: ReadableSpan }
  | { kind: typeof RECORD_CHECKPOINT; checkpoint: SpooledCheckpoint }
  | { kind: typeof RECORD_STATE; state: StreamSignerState };

/**
 * Decodes spool payloads back into spans that export exactly as the originals would (same ids,
 * times and typed attributes), sharing one Resource per distinct resource.
 */
export class SpoolDecoder {
  readonly #resources = new Map<string, Resource>();

  resource(attributes: Record<string, unknown>): Resource {
    const key = JSON.stringify(attributes);
    let resource = this.#resources.get(key);
    if (!resource) {
      resource = resourceFromAttributes(decodeAttributes(attributes as Record<string, Encoded>));
      this.#resources.set(key, resource);
    }
    return resource;
  }

  decode(payload: Buffer): SpoolRecord {
    const kind = payload[0];
    const json: unknown = JSON.parse(payload.subarray(1).toString('utf8'));
    if (kind === RECORD_CHECKPOINT) return { kind, checkpoint: json as SpooledCheckpoint };
    if (kind === RECORD_STATE) return { kind, state: json as StreamSignerState };
    if (kind !== RECORD_SPAN) throw new TypeError(`unknown spool record kind ${String(kind)}`);
    return { kind, span: this.#decodeSpan(json as EncodedSpan) };
  }

  #decodeSpan(json: EncodedSpan): ReadableSpan {
    const traceState = json.ts === '' ? undefined : new TraceState(json.ts);
    const context = {
      traceId: json.t,
      spanId: json.s,
      traceFlags: json.f,
      ...(traceState && { traceState }),
    };
    const [parentSpanId, parentFlags, parentRemote] = json.p ?? [];
    const events: TimedEvent[] = json.e.map(([time, name, attributes]) => ({
      time,
      name,
      attributes: decodeAttributes(attributes),
    }));
    const links: Link[] = json.l.map(([traceId, spanId, traceFlags, state, attributes]) => ({
      context: { traceId, spanId, traceFlags, ...(state !== '' && { traceState: new TraceState(state) }) },
      attributes: decodeAttributes(attributes),
    }));
    const startNanos = BigInt(json.st[0]) * 1_000_000_000n + BigInt(json.st[1]);
    const endNanos = BigInt(json.et[0]) * 1_000_000_000n + BigInt(json.et[1]);
    const duration = endNanos - startNanos;
    return {
      name: json.n,
      kind: json.k as SpanKind,
      spanContext: () => context,
      parentSpanContext:
        parentSpanId === undefined
          ? undefined
          : {
              traceId: json.t,
              spanId: parentSpanId,
              traceFlags: parentFlags ?? TraceFlags.NONE,
              isRemote: parentRemote,
            },
      startTime: json.st,
      endTime: json.et,
      status: { code: json.c[0], ...(json.c[1] !== '' && { message: json.c[1] }) },
      attributes: decodeAttributes(json.a),
      links,
      events,
      duration: [Number(duration / 1_000_000_000n), Number(duration % 1_000_000_000n)],
      ended: true,
      resource: this.resource(json.r),
      instrumentationScope: { name: json.sc[0], ...(json.sc[1] !== '' && { version: json.sc[1] }) },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}

interface EncodedSpan {
  t: string;
  s: string;
  f: number;
  ts: string;
  p: [string, number, boolean] | null;
  n: string;
  k: number;
  st: [number, number];
  et: [number, number];
  c: [number, string];
  a: Record<string, Encoded>;
  e: [[number, number], string, Record<string, Encoded>][];
  l: [string, string, number, string, Record<string, Encoded>][];
  r: Record<string, Encoded>;
  sc: [string, string];
}
