import type { Store } from '@decisiontrail/clickhouse';
import type { StoreQueryName } from '@decisiontrail/core';

/** The store queries served to other processes (core's table): the CLI uses the same names either way. */
export { STORE_QUERY_NAMES, type StoreQueryName } from '@decisiontrail/core';

/** The store as the CLI sees it: the same methods whether it is opened here or reached through serve. */
export type AuditQueries = Pick<Store, StoreQueryName>;

/** An open connection to the store. */
export interface AuditBackend {
  /** How the store is reached, for messages. */
  readonly via: string;
  readonly queries: AuditQueries;
  /**
   * The verifier's reader of the store's binary rows (`Store.verificationRecords`), when the store is opened in
   * this process; through serve, `verify` reads `spansForVerification` instead.
   */
  readonly verificationRecords?: Store['verificationRecords'];
  close(): Promise<void>;
}
