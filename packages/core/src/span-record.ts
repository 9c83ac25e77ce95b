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
 * writes (pcommon `Value.AsString`), kind and status as pdata's `String()` (`Server`, `Error`), which
 * is what the exporter writes into `otel_traces` since it stopped using `traceutil.SpanKindStr`.
 * Rows of older exporters carry `SPAN_KIND_*` / `STATUS_CODE_*`; the canonical span accepts both.
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
  /**
   * `Internal`, `Server`, `Client`, `Producer`, `Consumer` (or `Unspecified`); a row written by an
   * older exporter may carry the legacy `SPAN_KIND_*` spelling instead.
   */
  kind: string;
  /** Decimal string nanoseconds since the Unix epoch. */
  startTimeUnixNano: string;
  /** Decimal string nanoseconds since the Unix epoch. */
  endTimeUnixNano: string;
  /** `Unset`, `Ok` or `Error` (legacy rows: `STATUS_CODE_UNSET`, `STATUS_CODE_OK`, `STATUS_CODE_ERROR`). */
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
 * What the Collector's ClickHouse exporter writes to `otel_traces.SpanKind` (pdata `SpanKind.String()`),
 * indexed by the OpenTelemetry JS `SpanKind` (INTERNAL = 0 … CONSUMER = 4; OTLP numbers them one higher).
 */
export const SPAN_KIND_STRINGS = ['Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;

/** The kind of a span that names none (OTLP `SPAN_KIND_UNSPECIFIED` = 0), as pdata prints it. */
export const SPAN_KIND_UNSPECIFIED = 'Unspecified';

/**
 * What the exporter writes to `otel_traces.StatusCode` (pdata `StatusCode.String()`), indexed by
 * `SpanStatusCode` (UNSET = 0, OK = 1, ERROR = 2; OTLP numbers them the same).
 */
export const STATUS_CODE_STRINGS = ['Unset', 'Ok', 'Error'] as const;

/**
 * Span kind spellings a stored row may carry, each mapped to its current form: older exporters
 * (before the switch to pdata `String()`) wrote `traceutil.SpanKindStr`, e.g. `SPAN_KIND_SERVER`.
 */
const SPAN_KIND_SPELLINGS: ReadonlyMap<string, string> = new Map(
  [SPAN_KIND_UNSPECIFIED, ...SPAN_KIND_STRINGS].flatMap((kind): [string, string][] => [
    [kind, kind],
    [`SPAN_KIND_${kind.toUpperCase()}`, kind],
  ]),
);

/** Status code spellings a stored row may carry (legacy `traceutil.StatusCodeStr`: `STATUS_CODE_ERROR`). */
const STATUS_CODE_SPELLINGS: ReadonlyMap<string, string> = new Map(
  STATUS_CODE_STRINGS.flatMap((code): [string, string][] => [
    [code, code],
    [`STATUS_CODE_${code.toUpperCase()}`, code],
  ]),
);

/**
 * The current form (`Server`) of a span kind in either spelling (`Server` or `SPAN_KIND_SERVER`);
 * `undefined` for any other string.
 */
export function normalizeSpanKind(kind: string): string | undefined {
  return SPAN_KIND_SPELLINGS.get(kind);
}

/**
 * The current form (`Error`) of a status code in either spelling (`Error` or `STATUS_CODE_ERROR`);
 * `undefined` for any other string.
 */
export function normalizeStatusCode(code: string): string | undefined {
  return STATUS_CODE_SPELLINGS.get(code);
}
