/** Stable codes of {@link SigningError}. */
export type SigningErrorCode =
  | 'KEY_UNREADABLE'
  | 'KEY_INVALID'
  | 'KEY_WRONG_TYPE'
  | 'KEY_EXISTS'
  | 'NOTE_MALFORMED'
  | 'NOTE_UNKNOWN_KEY'
  | 'NOTE_INVALID_SIGNATURE'
  | 'CHECKPOINT_MALFORMED'
  | 'WITNESS_REJECTED'
  | 'SPOOL_FULL'
  | 'SPOOL_CLOSED'
  | 'BUNDLE_INVALID'
  | 'SPAN_INVALID';

/** Every error this package throws on purpose: a stable `code`, a message, and the `cause`. */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
