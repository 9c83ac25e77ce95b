/** Stable codes of {@link InstrumentationError}. */
export type InstrumentationErrorCode =
  'INVALID_CONFIG' | 'INVALID_DECISION_REFERENCE' | 'KEYSTORE_ERROR' | 'UNKNOWN_KEY' | 'DECISION_REFUSED';

/**
 * An error raised by the public API of this package (bad configuration, a malformed decision reference,
 * a keystore failure, a decision refused under the fail-closed policy). Errors inside automatic instrumentation
 * never surface to the caller: they go to `diag`.
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

/**
 * A decision refused, before its model ran, because its audit record could not be kept (the spool is full or the
 * record pipeline is down past its bounds) and the deployment's `recordLossPolicy` is `fail-closed`. Thrown by
 * `decision()` before it calls its function, and by instrumented SDK calls (as their rejected promise) before the
 * request is sent. Nothing was decided and nothing was recorded; the caller may retry later or take its
 * no-AI path. Code `DECISION_REFUSED`.
 */
export class DecisionRefusedError extends InstrumentationError {
  /** The model whose decision was refused (`audit.model.id` as the call named it). */
  readonly modelId: string;

  constructor(modelId: string, message: string, options?: { cause?: unknown }) {
    super('DECISION_REFUSED', message, options);
    this.name = 'DecisionRefusedError';
    this.modelId = modelId;
  }
}
