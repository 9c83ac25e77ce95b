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

/** One problem found in a configuration, named by its key path (`processor.receiver.port`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A configuration that failed validation; `issues` names every bad or unknown key. */
export class ConfigError extends ProcessorError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source?: string, options?: { cause?: unknown }) {
    const where = source === undefined ? '' : ` in ${source}`;
    super(
      'CONFIG_INVALID',
      `invalid configuration${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      options,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A request body that is not a valid OTLP ExportTraceServiceRequest. */
export class OtlpDecodeError extends ProcessorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OTLP_DECODE', message, options);
    this.name = 'OtlpDecodeError';
  }
}
