/** Stable machine-readable codes of {@link StoreError}. */
export type StoreErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_ARGUMENT'
  | 'CONNECTION_FAILED'
  | 'MIGRATION_FAILED'
  /** A released migration's SQL differs from what the store recorded, or from what it was released as. */
  | 'MIGRATION_CHECKSUM_MISMATCH'
  /** The store has a migration this version does not know (it was migrated by a newer one). */
  | 'MIGRATION_UNKNOWN'
  /** Opened without migrating, the store lacks migrations this version reads (run `decisiontrail migrate`). */
  | 'MIGRATION_PENDING'
  | 'INSERT_FAILED'
  | 'QUERY_FAILED'
  | 'SINK_CLOSED'
  | 'NOT_FOUND';

/**
 * Every failure this package reports. `code` is stable across releases; the underlying
 * ClickHouse or chdb error, when there is one, is kept as `cause`.
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
