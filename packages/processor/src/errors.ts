/** Stable error codes raised by the processor. */
export type ProcessorErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'OTLP_DECODE'
  | 'WAL_CORRUPT'
  | 'WAL_FULL'
  | 'SINK_FAILED'
  | 'QUERY_UNKNOWN'
  | 'QUERY_INVALID'
  | 'CLOSED'
  | 'UNSAFE_BIND';

/** Base error of the processor: every failure carries a stable `code` and, when wrapped, a `cause`. */
export class ProcessorError extends Error {
  readonly code: ProcessorErrorCode;

  constructor(code: ProcessorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProcessorError';
    this.code = code;
  }
}

// A configuration that failed validation is core's ConfigError (decisiontrail.yaml is described there).
export { ConfigError } from '@decisiontrail/core';
export type { ConfigIssue } from '@decisiontrail/core';

/** A request body that is not a valid OTLP ExportTraceServiceRequest. */
export class OtlpDecodeError extends ProcessorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OTLP_DECODE', message, options);
    this.name = 'OtlpDecodeError';
  }
}
