import { ATTR_ERROR_TYPE } from '@decisiontrail/semconv';
import { diag, type Span, SpanStatusCode } from '@opentelemetry/api';

/** `error.type` per the OTel conventions: the error's class name, `_OTHER` when there is none. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor.name === 'Error' ? error.name : error.constructor.name;
  return '_OTHER';
}

/** Marks the span failed with `error.type`, an ERROR status and an exception event; never throws. */
export function recordSpanError(span: Span, error: unknown): void {
  try {
    span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) span.recordException(error);
  } catch (recordingError) {
    diag.error('@decisiontrail/instrumentation: could not record an error', recordingError);
  }
}

/**
 * Ends the span; never throws. A span processor may refuse a record at `end()` (a full spool); that is accounted for
 * by the processor and must not reach the caller, whose model has already run.
 */
export function endSpan(span: Span): void {
  try {
    span.end();
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: could not end a span', error);
  }
}
