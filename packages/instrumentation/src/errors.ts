/** Stable codes of {@link InstrumentationError}. */
export type InstrumentationErrorCode =
  'INVALID_CONFIG' | 'INVALID_DECISION_REFERENCE' | 'KEYSTORE_ERROR' | 'UNKNOWN_KEY';

/**
 * An error raised by the public API of this package (bad configuration, a malformed decision reference,
 * a keystore failure). Errors inside automatic instrumentation never surface to the caller: they go to `diag`.
 */
export class InstrumentationError extends Error {
  /** A stable, machine-readable code. */
  readonly code: InstrumentationErrorCode;

  constructor(code: InstrumentationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstrumentationError';
    this.code = code;
  }
}
